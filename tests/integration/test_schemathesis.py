"""The OpenAPI document tells the truth: Schemathesis against a real server, and the contract
pieces it relies on (problem+json errors documented, `Allow` on 405)."""

from __future__ import annotations

import os

import pytest
from tests.api_fuzzing import run_schemathesis, serve

from trustdesk.auth import service as auth_service

QUICK_EXAMPLES = int(os.environ.get("TRUSTDESK_FUZZ_EXAMPLES", "10"))
QUICK_SECONDS = int(os.environ.get("TRUSTDESK_FUZZ_SECONDS", "60"))


def test_every_api_error_is_documented_as_problem_json(client):
    spec = client.get("/openapi.json").json()
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            responses = operation["responses"]
            for status, response in responses.items():
                if status[0] in "45":
                    assert list(response["content"]) == ["application/problem+json"], (
                        method,
                        path,
                        status,
                    )
            if path.startswith("/api/") and operation["security"]:
                assert {"401", "403"} <= set(responses), (method, path)
            if "{" in path:
                assert "404" in responses, (method, path)
            if "requestBody" in operation:
                assert {"413", "422"} <= set(responses), (method, path)
    notice = spec["paths"]["/api/v1/privacy/notice"]["get"]
    assert notice["security"] == []
    assert set(notice["responses"]["200"]["content"]) == {"application/json", "text/markdown"}


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("TRACE", "/healthz", "GET"),
        ("DELETE", "/api/v1/customers/c1", "GET, PUT"),
        ("PATCH", "/api/v1/customers/lookup", "GET"),
        ("PUT", "/api/v1/transactions/score", "POST"),
        ("OPTIONS", "/api/v1/customers/bulk", "POST"),
        ("GET", "/api/v1/cases/batch", "POST"),  # not a case called "batch"
        ("GET", "/api/v1/feedback/bulk", "POST"),
    ],
)
def test_a_method_the_resource_lacks_gets_405_naming_those_it_has(api, method, path, allow):
    r = api.request(method, path)
    assert r.status_code == 405
    assert r.headers["allow"] == allow
    assert r.headers["content-type"] == "application/problem+json"


def test_schemathesis_finds_no_server_error_nor_undocumented_answer(
    backend, settings, platform, tmp_path
):
    """Quick profile: every operation, every check and phase, a bounded time per backend."""
    with platform.db.transaction() as session:
        made = auth_service.create_token(session, name="fuzz", role="admin", actor="test")
    with serve(settings.data_dir, settings.database_url) as url:
        report = run_schemathesis(
            url,
            made.token,
            made.id,
            backend=backend,
            max_examples=QUICK_EXAMPLES,
            max_time_s=QUICK_SECONDS,
            report_dir=tmp_path,
        )
    summary = "\n".join(report.lines())
    print(summary)
    assert report.operations_tested == report.operations_total, summary
    assert report.generated > 500, summary
    assert report.forbidden() == {}, f"{summary}\n{report.output_tail}"


def test_the_documented_trust_dimensions_are_the_ones_the_index_computes():
    from typing import get_args

    from trustdesk.trust.schemas import Dimension
    from trustdesk.trust.signals import DIMENSIONS

    assert get_args(Dimension) == DIMENSIONS
