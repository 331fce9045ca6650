"""Target field validation: addresses, names, tags, ports, kinds."""

from __future__ import annotations

from datetime import datetime

import pytest

from opsconductor_desktop.domain import timeutil
from opsconductor_desktop.domain.errors import ValidationError
from opsconductor_desktop.domain.targets import (
    SshProfile,
    TargetSpec,
    parse_kind,
    parse_snmp_version,
    validate_address,
    validate_name,
    validate_tag,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("10.0.0.1", "10.0.0.1"),
        (" 192.168.1.254 ", "192.168.1.254"),
        ("2001:DB8::1", "2001:db8::1"),
        ("[fe80::1]", "fe80::1"),
        ("Core-01.Example.NET.", "core-01.example.net"),
        ("localhost", "localhost"),
    ],
)
def test_valid_addresses(raw: str, expected: str) -> None:
    assert validate_address(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "10.0.0.300",
        "1.2.3",
        "host name",
        "-bad.example",
        "a..b",
        "x" * 64 + ".com",
        "10.0.0.1/24",
        "ex@mple.com",
    ],
)
def test_invalid_addresses(raw: str) -> None:
    with pytest.raises(ValidationError):
        validate_address(raw)


def test_names_and_tags() -> None:
    assert validate_name("  r1 ") == "r1"
    for bad in ("", "   ", "a\tb", "x" * 256):
        with pytest.raises(ValidationError):
            validate_name(bad)
    assert validate_tag("dc:ams") == "dc:ams"
    for bad in ("two words", "", "-lead", "x" * 70):
        with pytest.raises(ValidationError, match="malformed tag"):
            validate_tag(bad)


def test_spec_validation_normalizes() -> None:
    spec = TargetSpec(
        name=" r1 ",
        address="R1.EXAMPLE.com",
        kind="Access_Point",  # type: ignore[arg-type]
        tags=("b", "a", "a"),
        ssh=SshProfile(port=2222),
    ).validated()
    assert spec.name == "r1" and spec.address == "r1.example.com"
    assert spec.kind == "access-point" and spec.tags == ("a", "b")
    with pytest.raises(ValidationError, match="ssh_port"):
        TargetSpec(name="r", address="10.0.0.1", ssh=SshProfile(port=70000)).validated()
    with pytest.raises(ValidationError, match="own parent"):
        TargetSpec(name="r", address="10.0.0.1", parent="r").validated()


def test_kind_and_snmp_version_parsing() -> None:
    assert parse_kind("UPS") == "ups"
    with pytest.raises(ValidationError, match="unknown kind"):
        parse_kind("toaster")
    assert parse_snmp_version("2c") == "v2c"
    assert parse_snmp_version("") is None
    with pytest.raises(ValidationError):
        parse_snmp_version("v4")


def test_time_is_aware_utc() -> None:
    now = timeutil.utcnow()
    assert now.utcoffset() is not None and now.utcoffset().total_seconds() == 0
    with pytest.raises(ValueError, match="naive"):
        timeutil.ensure_utc(datetime(2026, 1, 1))
    assert timeutil.to_local(now).tzinfo is not None
