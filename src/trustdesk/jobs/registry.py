"""The jobs the manifest declares (`Capability(jobs=...)`), by name."""

from __future__ import annotations

from collections.abc import Sequence

from trustdesk.capabilities import Capability, Job, installed
from trustdesk.errors import NotFound

__all__ = ["declared_jobs", "job_named", "triggered_by"]


def declared_jobs(capabilities: Sequence[Capability] | None = None) -> dict[str, Job]:
    """{name: job} in manifest order; a name declared twice is a mistake caught here."""
    found: dict[str, Job] = {}
    for capability in installed() if capabilities is None else capabilities:
        for job in capability.jobs:
            if job.name in found:
                raise ValueError(f"job {job.name!r} is declared twice")
            if job.every_s is None and not job.triggered_by:
                raise ValueError(f"job {job.name!r} has neither a schedule nor a trigger")
            found[job.name] = job
    return found


def job_named(name: str, jobs: dict[str, Job] | None = None) -> Job:
    jobs = declared_jobs() if jobs is None else jobs
    if name not in jobs:
        raise NotFound(f"no job named {name!r} (see `trustdesk jobs list`)")
    return jobs[name]


def triggered_by(event: str, jobs: dict[str, Job] | None = None) -> list[Job]:
    jobs = declared_jobs() if jobs is None else jobs
    return [job for job in jobs.values() if event in job.triggered_by]
