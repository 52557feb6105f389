"""Adding a capability is a folder plus one manifest entry: its API is served, its page is in the
menu, and its trust signal is counted by the trust index, with no other file touched."""

from __future__ import annotations

import textwrap

import pytest
from fastapi.testclient import TestClient
from test_dashboard_pages import log_in

from trustdesk import capabilities
from trustdesk.access.roles import Role
from trustdesk.app import create_app
from trustdesk.trust import service, signals

N = 240  # observations the throwaway signal yields, all in segment "throwaway"

PACKAGE = {
    "__init__.py": '"""A throwaway capability, written by a test."""\n',
    "api.py": """
        from fastapi import APIRouter, Depends

        from trustdesk.access.principal import Principal
        from trustdesk.auth.http import require

        router = APIRouter(prefix="/throwaway", tags=["throwaway"])


        @router.get("")
        def status(principal: Principal = Depends(require("trust:read"))) -> dict[str, str]:
            return {"served_to": principal.name}
        """,
    "pages.py": """
        from fastapi import Depends, Request
        from starlette.responses import Response

        from trustdesk.access.principal import Principal
        from trustdesk.auth.http import require_page
        from trustdesk.web.nav import NavEntry, Section
        from trustdesk.web.routing import page_router
        from trustdesk.web.templating import render

        router = page_router(prefix="/throwaway")


        @router.get("")
        def page(request: Request, principal: Principal = Depends(require_page("trust:read"))) -> Response:
            return render(request, "home.html", {"allowed": [("throwaway page body", None)]})


        section = Section(
            router=router,
            nav=(NavEntry("Throwaway", "/throwaway", permission="trust:read", order=99),),
        )
        """,
    "signal.py": """
        import numpy as np

        from trustdesk.trust.public import Observations, dimension_mask


        class ThrowawaySignal:
            name, label, topics = "throwaway", "a throwaway signal", ()

            def read(self, session, *, after_ref, batch_size):
                if after_ref:
                    return
                n = N
                yield Observations(
                    signal=self.name,
                    ref=np.arange(1, n + 1, dtype=np.int64),
                    at=(1_424_044_800 + np.arange(n) * 3600).astype(np.int64),
                    customer_id=np.full(n, -1, dtype=np.int64),
                    segment=np.array(["throwaway"] * n, dtype=object),
                    value=np.full(n, 80.0),
                    weight=np.ones(n),
                    dims=np.full(n, dimension_mask(["ability"]), dtype=np.int32),
                    topics=np.zeros(n, dtype=np.int32),
                    negative=np.zeros(n, dtype=bool),
                    last_ref=n,
                )

            def describe(self, session, vault, refs):
                return {ref: f"throwaway row {ref}" for ref in refs}


        SIGNAL = ThrowawaySignal()
        """.replace("= N\n", f"= {N}\n"),
}


@pytest.fixture
def throwaway(tmp_path, monkeypatch):
    """The folder, importable, and its one line in the manifest (undone after the test)."""
    folder = tmp_path / "throwaway"
    folder.mkdir()
    for name, source in PACKAGE.items():
        (folder / name).write_text(textwrap.dedent(source), encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    entry = capabilities.Capability(
        name="throwaway",
        routers=("throwaway.api:router",),
        pages=("throwaway.pages:section",),
        signals=("throwaway.signal:SIGNAL",),
    )
    monkeypatch.setattr(capabilities, "CAPABILITIES", (*capabilities.CAPABILITIES, entry))
    monkeypatch.setattr(signals, "_REGISTRY", dict(signals._REGISTRY))
    return entry


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_a_capability_added_through_the_manifest_alone_is_served_listed_and_counted(
    throwaway, platform, token_for
):
    with TestClient(create_app(platform=platform)) as client:
        token = token_for(Role.VIEWER)
        served = client.get("/api/v1/throwaway", headers={"Authorization": f"Bearer {token}"})
        assert served.status_code == 200 and served.json()["served_to"] == "test-viewer"

        log_in(client, platform, Role.VIEWER, "vera")
        assert 'href="/throwaway"' in client.get("/").text  # in the menu
        page = client.get("/throwaway")
        assert page.status_code == 200 and "throwaway page body" in page.text

        with platform.db.transaction() as session:
            report = service.recompute(session, service.TrustParams())
        assert report.observations == N
        scores = client.get(
            "/api/v1/trust", params={"by": "segment"}, headers={"Authorization": f"Bearer {token}"}
        ).json()
        assert [(s["key"], s["n"]) for s in scores] == [("throwaway", N)]
