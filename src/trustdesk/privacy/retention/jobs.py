"""The daily retention job."""

from __future__ import annotations

from trustdesk.jobs.public import JobContext
from trustdesk.privacy.retention import service

__all__ = ["enforce"]


def enforce(context: JobContext) -> str:
    with context.platform.db.transaction() as session:
        items = service.apply(session, context.now, actor="job:privacy.retention")
    done = [f"{i.system}/{i.records}: {i.done} {i.action}d" for i in items if i.done]
    problems = [f"{i.system}/{i.records}: {i.problem}" for i in items if i.problem and i.action]
    if problems:  # a rule that cannot be applied is a failure staff must see
        raise ValueError("; ".join(problems))
    return "; ".join(done) or "nothing past its retention period"
