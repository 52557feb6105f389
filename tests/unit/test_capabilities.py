"""The manifest: every reference it makes resolves to what it should, nothing registers itself on
import, and what the consumers see does not depend on the order capabilities are imported in."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable

import pytest
import typer
from fastapi import APIRouter

from trustdesk.access.roles import PERMISSIONS
from trustdesk.capabilities import CAPABILITIES, resolve
from trustdesk.customers.public import Eraser
from trustdesk.web.nav import Section


def test_every_reference_in_the_manifest_resolves_to_what_it_declares():
    names = [c.name for c in CAPABILITIES]
    assert len(names) == len(set(names))
    for capability in CAPABILITIES:
        for ref in (*capability.first_routers, *capability.routers):
            assert isinstance(resolve(ref), APIRouter), ref
        for command in capability.commands:
            assert isinstance(resolve(command.app), typer.Typer), command
        for ref in capability.pages:
            section = resolve(ref, Section)
            assert all(e.permission in (None, *PERMISSIONS) for e in section.nav), ref
        for module in capability.models:
            assert resolve(f"{module}:__name__") == module
        for ref in capability.signals:
            signal = resolve(ref)
            assert signal.name and callable(signal.read) and callable(signal.describe), ref
        for section in capability.exports:
            assert isinstance(resolve(section.exporter), Callable), section
        for ref in capability.erasers:
            assert isinstance(resolve(ref), Eraser), ref
        for step in capability.demo:
            assert isinstance(resolve(step.loader), Callable), step
        for ref in capability.server_hooks:
            assert isinstance(resolve(ref), Callable), ref
        for job in capability.jobs:
            assert isinstance(resolve(job.run), Callable), job
            assert job.every_s or job.triggered_by, job  # runs on a schedule or when triggered
            assert job.max_attempts >= 1 and job.retry_s > 0 and job.lease_s > 0, job


def test_a_reference_to_the_wrong_kind_of_object_is_refused():
    with pytest.raises(TypeError, match="expected a APIRouter"):
        resolve("trustdesk.customers.pages:section", APIRouter)
    with pytest.raises(ValueError, match="module:attribute"):
        resolve("trustdesk.customers.api")
    with pytest.raises(ModuleNotFoundError):
        resolve("trustdesk.nowhere:router")


_REPORT = """
import importlib, json, sys
for name in sys.argv[1:]:
    importlib.import_module(name)
from trustdesk.trust import signals
from trustdesk.privacy.export import registry as export_registry
from trustdesk.customers import erasure
before = [list(signals._REGISTRY), list(export_registry._EXPORTERS), list(erasure._ERASERS)]
print(json.dumps({
    "before": before,
    "signals": [s.name for s in signals.registered_signals()],
    "exports": list(export_registry.registered_exporters()),
    "erasers": [e.name for e in erasure.registered_erasers()],
}))
"""


def _registries(*imports: str) -> dict[str, list[str]]:
    """What the trust index, the access export and erasure use, in a fresh interpreter that first
    imports `imports` in that order."""
    done = subprocess.run(
        [sys.executable, "-c", _REPORT, *imports],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    found: dict[str, list[str]] = json.loads(done.stdout)
    return found


@pytest.mark.parametrize(
    "imports",
    [
        (),
        ("trustdesk.fraud.trust_signal", "trustdesk.fraud.privacy_export", "trustdesk.fraud"),
        ("trustdesk.trust.service", "trustdesk.privacy.export.archive", "trustdesk.fraud.api"),
        ("trustdesk.fraud.api", "trustdesk.feedback.erasure", "trustdesk.privacy.requests.erasure"),
        ("trustdesk.app",),
    ],
)
def test_signals_export_sections_and_erasers_do_not_depend_on_import_order(imports):
    found = _registries(*imports)
    # Importing a producer registers nothing: only the manifest wires it.
    assert found.pop("before") == [[], [], []]
    assert found == {
        "signals": ["feedback", "fraud", "incidents", "cases", "surveys"],
        "exports": [
            "customer",
            "consents",
            "consent_history",
            "requests",
            "feedback",
            "trust",
            "payments",
            "cases",
            "messages",
        ],
        "erasers": ["feedback", "cases", "trustcentre"],
    }


def test_jobs_are_declared_once_and_their_triggers_name_jobs_that_exist():
    from trustdesk.capabilities import Capability, Job
    from trustdesk.jobs.registry import declared_jobs, triggered_by

    jobs = declared_jobs()
    assert "trust.recompute" in jobs
    assert [j.name for j in triggered_by("feedback.analysed")] == ["trust.recompute"]
    twice = Capability("x", jobs=(Job("a.b", "m:f", every_s=1), Job("a.b", "m:g", every_s=2)))
    with pytest.raises(ValueError, match="declared twice"):
        declared_jobs([twice])
    idle = Capability("y", jobs=(Job("c.d", "m:f"),))
    with pytest.raises(ValueError, match="neither a schedule nor a trigger"):
        declared_jobs([idle])
