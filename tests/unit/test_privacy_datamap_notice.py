"""Data map validation and the notice generated from it (pure: no database)."""

from __future__ import annotations

import difflib

import pytest
import yaml

from trustdesk.errors import InvalidInput
from trustdesk.privacy.datamap.datamap import DEFAULT_DATAMAP, parse_datamap, parse_yaml
from trustdesk.privacy.datamap.notice import build, to_markdown


def shipped():
    return yaml.safe_load(DEFAULT_DATAMAP.read_text())


def test_the_shipped_data_map_is_valid_and_covers_every_notice_topic():
    dm = parse_yaml(DEFAULT_DATAMAP.read_text())
    title, sections = build(dm)
    headings = [s.heading for s in sections]
    for wanted in ("What we collect", "Why we use it", "How long we keep it",
                   "Who we share it with", "International transfers",
                   "Your rights and how to use them", "Contact"):  # fmt: skip
        assert wanted in headings
    text = to_markdown(title, sections, 0)
    assert "Standard contractual clauses" in text and "privacy@trustdesk.example" in text


@pytest.mark.parametrize(
    ("change", "named"),
    [
        (lambda m: m["systems"][1].update(categories=["gossip"]), "systems[1].categories[0]"),
        (lambda m: m["systems"][0]["purposes"][0].update(legal_basis="because"),
         "systems[0].purposes[0].legal_basis"),
        (lambda m: m["systems"][2]["transfers"].append({"destination": "Mars"}),
         "systems[2].transfers[0].safeguard"),
        (lambda m: m["controller"].pop("contact_email"), "controller.contact_email"),
        (lambda m: m["systems"][0].update(colour="blue"), "systems[0].colour"),
        (lambda m: m["systems"].append(dict(m["systems"][0])), "used twice"),
    ],
)  # fmt: skip
def test_a_bad_data_map_is_refused_naming_the_bad_field(change, named):
    raw = shipped()
    change(raw)
    with pytest.raises(InvalidInput) as refused:
        parse_datamap(raw)
    assert named in refused.value.detail


def test_yaml_syntax_errors_are_invalid_input():
    with pytest.raises(InvalidInput, match="not valid YAML"):
        parse_yaml("systems: [unclosed")


def test_changing_a_retention_period_shows_up_in_the_notice_diff():
    raw = shipped()
    before = parse_datamap(raw)
    raw["systems"][1]["retention"] = "18 months from when you sent it"
    raw["systems"][0]["transfers"] = [{"destination": "India", "safeguard": "an adequacy decision"}]
    after = parse_datamap(raw)
    old, new = to_markdown(*build(before), 1), to_markdown(*build(after), 2)
    diff = "".join(difflib.unified_diff(old.splitlines(True), new.splitlines(True)))
    assert "-- Feedback and support messages: 3 years from when you sent it." in diff
    assert "+- Feedback and support messages: 18 months from when you sent it." in diff
    assert "+- Customer records to India, protected by an adequacy decision." in diff
