"""The OpenAPI document states the vocabularies the server accepts (ST202 of Schemathesis: no
schema-valid request refused): fixed sets as enums made from the constants the services check
with, the consent policy's keys as this server's policy has them. A value outside one is a 422
naming the field."""

from __future__ import annotations

from typing import Any

import pytest

from trustdesk.cases.schemas import CHANNELS as CASE_CHANNELS
from trustdesk.cases.schemas import STATUSES as CASE_STATUSES
from trustdesk.feedback.topics import TOPICS
from trustdesk.fraud.schemas import CHANNELS as PAYMENT_CHANNELS
from trustdesk.outbox.schemas import STATUSES as MESSAGE_STATUSES
from trustdesk.privacy.consent.openapi import declare_keys
from trustdesk.privacy.consent.policy import load_policy, parse_policy
from trustdesk.trustcentre.risks import CATEGORIES as RISK_CATEGORIES


def _parameter(spec: dict[str, Any], path: str, name: str, method: str = "get") -> Any:
    found = [p for p in spec["paths"][path][method]["parameters"] if p["name"] == name]
    assert len(found) == 1, (path, name)
    return found[0]["schema"]


def _enum(schema: dict[str, Any]) -> list[str]:
    """The enum of a schema, through an optional `anyOf` with null and `$ref`s."""
    options = schema.get("anyOf", [schema])
    values: list[str] = []
    for option in options:
        if "$ref" in option:
            option = _SPEC["components"]["schemas"][option["$ref"].rsplit("/", 1)[1]]
        values += option.get("enum", [option["const"]] if "const" in option else [])
    return values


_SPEC: dict[str, Any] = {}


@pytest.fixture
def spec(client) -> dict[str, Any]:
    _SPEC.clear()
    _SPEC.update(client.get("/openapi.json").json())
    return _SPEC


def _body(spec: dict[str, Any], model: str) -> dict[str, Any]:
    return spec["components"]["schemas"][model]["properties"]  # type: ignore[no-any-return]


def test_fixed_vocabularies_are_enums_of_the_services_constants(spec):
    assert _enum(_parameter(spec, "/api/v1/cases", "status")) == list(CASE_STATUSES)
    assert _enum(_body(spec, "StatusIn")["status"]) == list(CASE_STATUSES)
    assert _enum(_body(spec, "CaseIn")["channel"]) == list(CASE_CHANNELS)
    assert _enum(_parameter(spec, "/api/v1/outbox/messages", "status")) == list(MESSAGE_STATUSES)
    assert _enum(_parameter(spec, "/api/v1/risks", "category")) == list(RISK_CATEGORIES)
    assert _enum(_parameter(spec, "/api/v1/feedback", "topic")) == list(TOPICS)
    assert _enum(_body(spec, "TransactionIn")["channel"]) == list(PAYMENT_CHANNELS)
    assert _enum(_body(spec, "RiskIn")["category"]) == list(RISK_CATEGORIES)
    incident = _enum(_parameter(spec, "/api/v1/incidents", "status"))
    assert set(incident) == {
        "open", "detected", "analysing", "contained", "eradicated", "recovered", "closed"
    }  # fmt: skip


def test_consent_purposes_and_channels_are_the_policys_keys(spec):
    policy = load_policy(None)
    purposes = _parameter(spec, "/api/v1/consent/check", "purpose")
    assert purposes["enum"] == list(policy.purposes)
    assert purposes["pattern"] == "^[a-z0-9_]+$"
    assert _parameter(spec, "/api/v1/consent/check", "channel")["enum"] == list(policy.channels)
    recorded = _body(spec, "ConsentIn")["purpose"]["enum"]
    assert "marketing" in recorded
    assert "service" not in recorded  # a contract purpose is never granted or withdrawn
    assert _body(spec, "BulkCheckIn")["purpose"]["enum"] == list(policy.purposes)


def test_an_operators_policy_is_what_the_document_lists():
    policy = parse_policy(
        {
            "version": "1",
            "legal_bases": {"consent": {"label": "Consent"}},
            "channels": {"email": {"label": "Email"}, "carrier_pigeon": {"label": "Pigeon"}},
            "purposes": {"newsletter": {"label": "News", "legal_basis": "consent"}},
        }
    )
    document: dict[str, Any] = {
        "components": {
            "schemas": {"ConsentIn": {"properties": {"purpose": {"type": "string"}, "channel": {}}}}
        },
        "paths": {},
    }
    declare_keys(document, policy)
    properties = document["components"]["schemas"]["ConsentIn"]["properties"]
    assert properties["purpose"]["enum"] == ["newsletter"]
    assert properties["channel"]["enum"] == ["email", "carrier_pigeon"]


def _field(r) -> list[str]:
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/problem+json"
    return [e["field"] for e in r.json().get("errors") or []]


def test_a_value_outside_the_enum_is_a_422_naming_the_field(api):
    assert _field(api.get("/api/v1/cases", params={"status": "pending"})) == ["query.status"]
    r = api.post(
        "/api/v1/cases",
        json={"channel": "fax", "external_id": "x1", "subject": "s", "body": "b"},
    )
    assert _field(r) in (["body.channel"], ["channel"])
    assert "'api'" in r.json()["errors"][0]["reason"]  # the allowed values are named
    assert _field(api.get("/api/v1/outbox/messages", params={"status": "lost"})) == ["query.status"]
    assert _field(api.get("/api/v1/risks", params={"category": "weather"})) == ["query.category"]
    assert _field(api.get("/api/v1/feedback", params={"topic": "weather"})) == ["query.topic"]
    assert _field(api.get("/api/v1/incidents", params={"status": "ongoing"})) == ["query.status"]
    check = {"customer_id": "c1", "purpose": "Marketing!", "channel": "email"}
    assert _field(api.get("/api/v1/consent/check", params=check)) == ["query.purpose"]


def test_a_purpose_the_policy_lacks_is_refused_naming_it(api):
    check = {"customer_id": "c1", "purpose": "astrology", "channel": "email"}
    r = api.get("/api/v1/consent/check", params=check)
    assert r.status_code == 422, r.text
    assert "unknown purpose 'astrology'" in r.json()["detail"]


def test_an_incident_patch_offers_null_only_where_null_clears_the_field(spec):
    # null for a field the register always has is refused ("cannot be removed"): not offered
    fields = _body(spec, "IncidentPatch")

    def nullable(name: str) -> bool:
        return any(o.get("type") == "null" for o in fields[name].get("anyOf", []))

    kept = ("title", "description", "severity", "kind", "aware_at", "data_encrypted")
    assert not any(nullable(name) for name in (*kept, "key_compromised", "public_statement"))
    assert all(nullable(name) for name in ("determined_at", "contained_at", "risk", "commander"))
