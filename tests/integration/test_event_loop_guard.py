"""No blocking database call on the event loop: the engines refuse one (in every test of the
suite, as in production), and no route or dependency is `async` unless it is known to stay off
the database."""

from __future__ import annotations

import inspect

import pytest
from fastapi.routing import APIRoute
from sqlalchemy import text
from tests.unit.test_writer_gate import run_alone

from trustdesk.auth.http import writer_turn
from trustdesk.db import BlockingCallOnEventLoop
from trustdesk.gate import mark_serving

# Async on purpose, and free of database calls of their own: reading a form, waiting for a
# writer's turn, and the hot paths that hand their database work to a worker thread.
ASYNC_ALLOWED = {
    "trustdesk.web.csrf.protect",
    "trustdesk.auth.http.writer_turn",
    "trustdesk.web.forms.read_form",  # reads the posted form only
    "trustdesk.fraud.api.score",
    "trustdesk.fraud.api.intake",
    "trustdesk.cases.api.post_case",  # the database on worker threads (group_commit.py)
    "trustdesk.surveys.respond_pages.answer",  # the same (surveys/group_commit.py)
    "trustdesk.surveys.respond_pages.public_answer",
    "trustdesk.privacy.consent.api.check",
    "trustdesk.app.create_app.<locals>.healthz",
    "trustdesk.trustcentre.pages.trust_centre",  # memory only; the database on a worker thread
    "trustdesk.trustcentre.pages.feed",
}


def test_a_database_statement_on_the_event_loop_is_refused(platform):
    async def reads_on_the_loop() -> None:
        mark_serving()
        with platform.db.reading() as session:
            session.execute(text("SELECT 1"))

    async def writes_on_the_loop() -> None:
        mark_serving()
        with platform.db.transaction() as session:
            session.execute(text("SELECT 1"))

    with pytest.raises(BlockingCallOnEventLoop, match="event loop"):
        run_alone(reads_on_the_loop)
    with pytest.raises(BlockingCallOnEventLoop, match="event loop"):
        run_alone(writes_on_the_loop)
    # The same statements off the loop are fine.
    with platform.db.reading() as session:
        assert session.execute(text("SELECT 1")).scalar() == 1


def test_an_async_route_reading_the_database_answers_500_not_a_stall(app, client):
    async def careless() -> dict[str, int]:
        with app.state.platform.db.reading() as session:
            return {"one": session.execute(text("SELECT 1")).scalar_one()}

    app.add_api_route("/api/v1/careless", careless)
    answer = client.get("/api/v1/careless")
    assert answer.status_code == 500
    assert answer.headers["content-type"] == "application/problem+json"


def _calls(dependant):
    yield dependant.call
    for sub in dependant.dependencies:
        yield from _calls(sub)


def test_no_route_or_dependency_is_async_unless_it_stays_off_the_database(app):
    found = set()
    for route in app.routes:
        if isinstance(route, APIRoute):
            for call in _calls(route.dependant):
                if inspect.iscoroutinefunction(call) or inspect.isasyncgenfunction(call):
                    found.add(call)
    unknown = {f"{c.__module__}.{c.__qualname__}" for c in found} - ASYNC_ALLOWED
    assert not unknown, f"async route or dependency (runs on the event loop): {sorted(unknown)}"
    assert writer_turn in found  # the walk does see async dependencies
