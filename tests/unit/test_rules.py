"""The rule language: parsing, printing, JSON round-trip and matching."""

from __future__ import annotations

import pytest

from opsconductor_desktop.domain import rules
from opsconductor_desktop.domain.errors import ValidationError
from opsconductor_desktop.domain.targets import TargetKind, TargetSpec

T = TargetSpec(
    name="ams-core-01",
    address="10.20.1.1",
    kind=TargetKind.ROUTER,
    vendor="Cisco",
    site="AMS1",
    tags=("core", "dc:ams"),
)
DNS = TargetSpec(name="cam-7", address="cam7.example.net", kind=TargetKind.CAMERA)


@pytest.mark.parametrize(
    ("text", "matches_t", "matches_dns"),
    [
        ("tag:core", True, False),
        ("tag:dc:*", True, False),
        ("vendor:CISCO", True, False),
        ("kind:router and site:ams*", True, False),
        ("cidr:10.20.0.0/16", True, False),
        ("cidr:10.21.0.0/16", False, False),
        ("not cidr:10.0.0.0/8", False, True),
        ("name:ams-* or kind:camera", True, True),
        ('name:"cam-?"', False, True),
        ("tag:core and (vendor:juniper or vendor:cisco) and not site:lab", True, False),
        ("address:*.example.net", False, True),
    ],
)
def test_matching(text: str, matches_t: bool, matches_dns: bool) -> None:
    rule = rules.parse(text)
    assert rule.matches(T) is matches_t
    assert rule.matches(DNS) is matches_dns


@pytest.mark.parametrize(
    "text",
    [
        "tag:core",
        "tag:core and vendor:cisco",
        "(tag:a or tag:b) and not site:lab",
        'name:"with space" or cidr:10.0.0.0/8',
        "not (tag:a and tag:b)",
    ],
)
def test_text_and_json_round_trip(text: str) -> None:
    rule = rules.parse(text)
    assert rules.parse(str(rule)) == rule
    assert rules.from_json(rule.to_json()) == rule


def test_operators_compose() -> None:
    rule = rules.Term("tag", "core") & ~rules.Term("site", "lab") | rules.Term("kind", "ups")
    assert str(rule) == "(tag:core and not site:lab) or kind:ups"
    assert rules.parse(str(rule)) == rule


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        ("colour:red", "unknown rule field"),
        ("core", "needs a field"),
        ("tag:core and", "ends too early"),
        ("(tag:core", "missing '\\)'"),
        ("cidr:10.0.0.300/8", "invalid network"),
        ("tag:a )", "unexpected"),
    ],
)
def test_errors_are_clear(text: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        rules.parse(text)


@pytest.mark.parametrize("data", [[], {"all": []}, {"tag": 3}, {"a": 1, "b": 2}, "x"])
def test_malformed_json_rejected(data: object) -> None:
    with pytest.raises(ValidationError):
        rules.from_json(data)
