"""Inventory files: what an operator sees when importing CSV, JSON and Ansible inventories.

Pure tests: no database, the only I/O is reading the small examples in tests/data/formats.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from opsconductor_desktop.domain.errors import ValidationError
from opsconductor_desktop.domain.targets import (
    SnmpProfile,
    SnmpVersion,
    SshProfile,
    TargetKind,
    TargetSpec,
)
from opsconductor_desktop.services.inventory_formats import (
    CSV_COLUMNS,
    ImportBatch,
    ImportGroup,
    RowError,
    detect_format,
    export_csv,
    export_json,
    parse_ansible_ini,
    parse_ansible_yaml,
    parse_csv,
    parse_inventory,
    parse_json,
)

DATA = Path(__file__).parent.parent / "data" / "formats"
HEADER = "name,address"


def read(name: str) -> str:
    """The file exactly as stored (no newline translation: the CSV example uses CRLF)."""
    return (DATA / name).read_bytes().decode("utf-8")


def messages(batch: ImportBatch) -> list[tuple[int, str]]:
    return [(e.line, e.message) for e in batch.errors]


def only_error(batch: ImportBatch) -> RowError:
    assert len(batch.errors) == 1, batch.errors
    return batch.errors[0]


def by_name(batch: ImportBatch) -> dict[str, tuple[int, TargetSpec, tuple[str, ...]]]:
    return {row.spec.name: (row.line, row.spec, row.groups) for row in batch.rows}


# --- the batch and format detection -----------------------------------------------------------


def test_batch_is_ok_only_without_errors() -> None:
    assert parse_csv(f"{HEADER}\na,10.0.0.1\n").ok
    assert parse_csv(HEADER + "\n").ok  # a header alone: nothing to import, nothing wrong
    assert not parse_csv(f"{HEADER}\na,10.0.0.300\n").ok


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("targets.csv", "csv"),
        ("/tmp/EXPORT.CSV", "csv"),
        ("targets.json", "json"),
        ("inventory.ini", "ansible-ini"),
        ("inventory.cfg", "ansible-ini"),
        ("/etc/ansible/hosts", "ansible-ini"),
        ("hosts.yml", "ansible-yaml"),
        ("hosts.yaml", "ansible-yaml"),
    ],
)
def test_detect_format_by_extension(path: str, expected: str) -> None:
    assert detect_format(path, "") == expected


def test_detect_format_sniffs_json_when_the_name_does_not_tell() -> None:
    assert detect_format("<stdin>", '[{"name": "a"}]') == "json"
    assert detect_format("inventory", '{"targets": []}') == "json"
    assert detect_format("export.txt", "\ufeff[]") == "json"
    assert detect_format("<stdin>", "[web]\nweb01\n") == "ansible-ini"


def test_detect_format_refuses_an_unknown_extension() -> None:
    with pytest.raises(ValidationError, match=r"cannot tell the format of 'notes\.txt'"):
        detect_format("notes.txt", "name,address\n")


def test_parse_inventory_picks_the_parser() -> None:
    assert parse_inventory(read("targets.csv"), source="targets.csv").format == "csv"
    assert parse_inventory(read("hosts.yml"), source="hosts.yml").format == "ansible-yaml"
    batch = parse_inventory("[web]\nweb01\n", format="ansible-ini")
    assert batch.source == "<stdin>"
    assert [r.spec.name for r in batch.rows] == ["web01"]


def test_parse_inventory_refuses_an_unknown_format() -> None:
    with pytest.raises(ValidationError, match="unknown format 'xml'"):
        parse_inventory("<targets/>", format="xml")


# --- CSV --------------------------------------------------------------------------------------


def test_csv_example_file() -> None:
    batch = parse_csv(read("targets.csv"), source="targets.csv")
    assert batch.ok, batch.errors
    assert (batch.source, batch.format, batch.groups) == ("targets.csv", "csv", ())
    rows = by_name(batch)
    assert [row.line for row in batch.rows] == [2, 3, 6]  # the quoted newline, the blank line

    _, core, groups = rows["core-rtr-01"]
    assert core.kind is TargetKind.ROUTER
    assert (core.vendor, core.site, core.tags) == ("Cisco", "DC1", ("core", "prod"))
    assert core.snmp == SnmpProfile(SnmpVersion.V2C, 161, "public-ro")
    assert core.ssh == SshProfile(22, "netops", None)
    assert groups == ("core",)

    _, edge, groups = rows["edge-fw-01"]
    assert edge.address == "2001:db8::1"
    assert edge.description == 'Rack 4, "top" shelf\r\nsecond line'
    assert edge.tags == ("edge", "prod")
    assert groups == ("edge", "core")
    assert edge.snmp == SnmpProfile()

    _, lab, groups = rows["lab-sw-01"]
    assert lab.enabled is False
    assert lab.snmp == SnmpProfile(SnmpVersion.V3, 1161, "snmpv3-lab")
    assert (lab.ssh.username, groups) == (None, ())


def test_csv_empty_cells_mean_defaults() -> None:
    batch = parse_csv(",".join(CSV_COLUMNS) + "\nsw1,sw1.lan" + "," * 15 + "\n")
    assert batch.ok, batch.errors
    assert batch.rows[0].spec == TargetSpec(name="sw1", address="sw1.lan")
    assert batch.rows[0].groups == ()


def test_csv_short_rows_take_defaults_for_missing_cells() -> None:
    batch = parse_csv("name,address,kind,site\nsw1,10.0.0.1\n")
    assert batch.ok
    assert batch.rows[0].spec.kind is TargetKind.OTHER


def test_csv_missing_required_column_is_one_error_and_no_rows() -> None:
    batch = parse_csv("name,kind\nr1,router\nr2,router\n")
    assert only_error(batch) == RowError(1, None, "missing required column 'address'")
    assert batch.rows == ()


def test_csv_missing_both_required_columns_is_still_one_error() -> None:
    batch = parse_csv("kind\nrouter\n")
    assert messages(batch) == [(1, "missing required columns 'name', 'address'")]


def test_csv_unknown_column_names_it_and_lists_the_known_ones() -> None:
    batch = parse_csv("name,address,colour\nr1,10.0.0.1,red\n")
    error = only_error(batch)
    assert error.line == 1
    assert error.message.startswith("unknown column 'colour'; known columns: name, address, kind")
    assert batch.rows == ()


def test_csv_header_problems() -> None:
    batch = parse_csv("name,address,name,\n")
    assert messages(batch) == [
        (1, "column 4 has an empty header"),
        (1, "column 'name' appears more than once"),
    ]


def test_csv_semicolon_separated_file_gets_a_hint() -> None:
    error = only_error(parse_csv("name;address\nr1;10.0.0.1\n"))
    assert error.message == "the header uses ';' between columns; save the file as comma-separated"


def test_csv_header_is_case_insensitive_and_trimmed() -> None:
    batch = parse_csv(" NAME ,Address,  Kind\nr1,10.0.0.1,switch\n")
    assert batch.ok
    assert batch.rows[0].spec.kind is TargetKind.SWITCH


def test_csv_empty_file_needs_a_header() -> None:
    assert messages(parse_csv("")) == [
        (1, "the file is empty; the first row must name the columns")
    ]
    assert only_error(parse_csv("\n\n")).line == 1


def test_csv_lists_are_split_on_semicolons() -> None:
    batch = parse_csv("name,address,tags,groups\nr1,10.0.0.1, b ;a;;a , core ; ;edge;core\n")
    row = batch.rows[0]
    assert row.spec.tags == ("a", "b")  # tags are sorted and unique
    assert row.groups == ("core", "edge")  # groups keep the file's order


@pytest.mark.parametrize(
    ("cell", "enabled"),
    [
        ("true", True),
        ("TRUE", True),
        ("yes", True),
        ("1", True),
        ("", True),
        ("false", False),
        ("No", False),
        ("0", False),
    ],
)
def test_csv_enabled_values(cell: str, enabled: bool) -> None:
    batch = parse_csv(f"name,address,enabled\nr1,10.0.0.1,{cell}\n")
    assert batch.rows[0].spec.enabled is enabled


@pytest.mark.parametrize(
    ("cells", "message"),
    [
        ("r1,10.0.0.300", "invalid address '10.0.0.300': not a valid IPv4 address"),
        ("r1,bad_host!", "invalid address 'bad_host!': not an IPv4/IPv6 address or a DNS name"),
        ("r1,10.0.0.1,toaster", "unknown kind 'toaster'; one of router, switch, firewall"),
        ("r1,10.0.0.1,,bad tag", "malformed tag 'bad tag': use letters, digits"),
        ("r1,10.0.0.1,,,maybe", "enabled must be true/false/yes/no/1/0, got 'maybe'"),
        ("r1,10.0.0.1,,,,v4", "unknown SNMP version 'v4'; one of v1, v2c, v3"),
        ("r1,10.0.0.1,,,,,22.0", "snmp_port must be an integer, got '22.0'"),
        ("r1,10.0.0.1,,,,,,70000", "ssh_port must be a port number 1-65535, got 70000"),
        ("r1,10.0.0.1,,,,,,0", "ssh_port must be a port number 1-65535, got 0"),
        ("r1,10.0.0.1,,,,,,,r1", "a target cannot be its own parent"),
        (",10.0.0.1", "name is empty"),
    ],
)
def test_csv_bad_cell_is_a_row_error_with_its_line(cells: str, message: str) -> None:
    header = "name,address,kind,tags,enabled,snmp_version,snmp_port,ssh_port,parent"
    batch = parse_csv(f"{header}\nok1,10.0.0.1\n{cells}\nok2,10.0.0.2\n")
    error = only_error(batch)
    assert error.line == 3
    assert error.message.startswith(message)
    assert [row.spec.name for row in batch.rows] == ["ok1", "ok2"]


def test_csv_reports_every_problem_of_a_row() -> None:
    batch = parse_csv("name,address,ssh_port,tags\nr1,10.0.0.300,ssh,a b\n")
    assert [e.name for e in batch.errors] == ["r1", "r1", "r1"]
    assert {e.line for e in batch.errors} == {2}
    assert [e.message.split(" ")[0] for e in batch.errors] == ["ssh_port", "invalid", "malformed"]


def test_csv_repeated_name_is_refused_on_the_later_row() -> None:
    batch = parse_csv(f"{HEADER}\nr1,10.0.0.1\nr2,10.0.0.2\n r1 ,10.0.0.3\n")
    assert only_error(batch) == RowError(4, "r1", "name 'r1' repeated (first on line 2)")
    assert [row.line for row in batch.rows] == [2, 3]


def test_csv_row_with_more_cells_than_the_header() -> None:
    batch = parse_csv(f"{HEADER}\nr1,10.0.0.1,extra\n")
    assert messages(batch) == [(2, "row has 3 cells but the header has 2 columns")]


def test_csv_line_numbers_are_physical_lines() -> None:
    text = (
        f'{HEADER},description\r\n\r\n"r1",10.0.0.1,"one\r\ntwo\r\nthree"\r\n,,\r\nr1,10.0.0.2,\r\n'
    )
    batch = parse_csv(text)
    assert batch.rows[0].line == 3
    assert batch.rows[0].spec.description == "one\r\ntwo\r\nthree"
    assert messages(batch) == [(7, "name 'r1' repeated (first on line 3)")]


def test_csv_byte_order_mark_is_ignored() -> None:
    batch = parse_csv(f"\ufeff{HEADER}\nr1,10.0.0.1\n")
    assert batch.ok
    assert batch.rows[0].spec.name == "r1"


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        (f'{HEADER}\nr1,10.0.0.1\nr2,"10.0.0.2\n\n', 3, "unreadable CSV: unexpected end of data"),
        (f'{HEADER}\nr1,"10.0.0.1"x\n', 2, "unreadable CSV: ',' expected after '\"'"),
    ],
)
def test_csv_broken_quoting_is_a_row_error(text: str, line: int, message: str) -> None:
    batch = parse_csv(text)
    assert messages(batch)[-1] == (line, message)


def test_csv_name_with_control_characters_is_refused() -> None:
    batch = parse_csv(f'{HEADER}\n"r1\nr2",10.0.0.1\n')
    assert only_error(batch) == RowError(2, "r1\nr2", "name contains control characters")


# --- JSON -------------------------------------------------------------------------------------


def test_json_example_file() -> None:
    batch = parse_json(read("targets.json"), source="targets.json")
    assert batch.ok, batch.errors
    assert [row.line for row in batch.rows] == [3, 13]
    core, edge = batch.rows
    assert core.spec.vars == {"rack": "A4", "uplinks": [1, 2]}
    assert core.spec.tags == ("core", "prod")
    assert core.spec.snmp == SnmpProfile(SnmpVersion.V2C, 161, "public-ro")
    assert core.groups == ("core",)
    assert (edge.spec.enabled, edge.spec.ssh.port, edge.spec.parent) == (False, 2222, "core-rtr-01")
    assert batch.groups == (ImportGroup("core", {"ntp_server": "10.0.0.123"}, ()),)


def test_json_plain_list_of_targets() -> None:
    batch = parse_json('[{"name": "r1", "address": "10.0.0.1"}, {"name": "r2", "address": "::1"}]')
    assert batch.ok
    assert [r.spec.address for r in batch.rows] == ["10.0.0.1", "::1"]
    assert batch.groups == ()


def test_json_null_means_default() -> None:
    batch = parse_json('[{"name": "r1", "address": "r1.lan", "kind": null, "ssh_port": null}]')
    assert batch.rows[0].spec == TargetSpec(name="r1", address="r1.lan")
    assert parse_json('{"targets": null, "groups": null}').ok


def test_json_unknown_field_is_a_row_error() -> None:
    text = """[
  {"name": "r1", "address": "10.0.0.1"},
  {"name": "r2", "address": "10.0.0.2",
   "colour": "red"}
]"""
    batch = parse_json(text)
    assert only_error(batch) == RowError(3, "r2", "unknown field 'colour'")
    assert [row.spec.name for row in batch.rows] == ["r1"]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("tags", '"a;b"', "tags must be a list of text, got 'a;b'"),
        ("groups", "[1]", "groups must be a list of text, got [1]"),
        ("enabled", '"yes"', "enabled must be true or false, got 'yes'"),
        ("ssh_port", '"22"', "ssh_port must be an integer, got '22'"),
        ("snmp_port", "true", "snmp_port must be an integer, got True"),
        ("vars", "[]", "vars must be an object, got []"),
        ("vendor", "7", "vendor must be text, got 7"),
        ("address", '"10.0.0.300"', "invalid address '10.0.0.300': not a valid IPv4 address"),
        ("snmp_version", '"v9"', "unknown SNMP version 'v9'; one of v1, v2c, v3"),
    ],
)
def test_json_wrong_type_is_a_row_error(field: str, value: str, message: str) -> None:
    text = f'[\n{{"name": "r1", "address": "10.0.0.1", "{field}": {value}}}\n]'
    assert messages(parse_json(text)) == [(2, message)]


def test_json_invalid_json_is_one_error_on_its_line() -> None:
    batch = parse_json('[\n  {"name": "r1",\n   "address": "10.0.0.1",,}\n]')
    assert messages(batch) == [
        (3, "invalid JSON: Expecting property name enclosed in double quotes (line 3 column 26)")
    ]
    assert batch.rows == ()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('"targets"', 'expected a list of targets or an object with "targets" and "groups"'),
        ('{"targets": {}}', '"targets" must be a list, got {}'),
        ('{"hosts": []}', 'unknown key \'hosts\'; expected "targets" and "groups"'),
        ("[1]", "a target must be an object, got 1"),
        ('{"groups": ["core"]}', "a group must be an object, got 'core'"),
        ('{"groups": [{"vars": {}}]}', "group name is empty"),
        ('{"groups": [{"name": "g", "hosts": []}]}', "unknown field 'hosts'"),
        (
            '{"groups": [{"name": "g", "children": "a"}]}',
            "children must be a list of text, got 'a'",
        ),
        ("", "invalid JSON: Expecting value (line 1 column 1)"),
        ("[" * 100_000, "invalid JSON: nested too deeply"),
    ],
)
def test_json_wrong_shape_is_a_row_error(text: str, message: str) -> None:
    assert only_error(parse_json(text)).message == message


def test_json_repeated_names_are_refused() -> None:
    text = """{
  "targets": [
    {"name": "r1", "address": "10.0.0.1"},
    {"name": "r1", "address": "10.0.0.2"}
  ],
  "groups": [
    {"name": "g"},
    {"name": "g", "vars": {"x": 1}}
  ]
}"""
    batch = parse_json(text)
    assert messages(batch) == [
        (4, "name 'r1' repeated (first on line 3)"),
        (8, "group 'g' repeated (first on line 7)"),
    ]
    assert batch.groups == (ImportGroup("g", {}, ()),)


def test_json_minified_file_reports_each_target_on_line_1() -> None:
    batch = parse_json('[{"name": "a", "address": "x y"}, {"name": "b", "address": "x y"}]')
    assert [(e.line, e.name) for e in batch.errors] == [(1, "a"), (1, "b")]


# --- Ansible INI ------------------------------------------------------------------------------


def test_ini_example_file() -> None:
    batch = parse_ansible_ini(read("hosts.ini"), source="hosts.ini")
    assert batch.ok, batch.errors
    rows = by_name(batch)
    assert list(rows) == [
        "jumpbox",
        "web01.example.net",
        "web02.example.net",
        "web03.example.net",
        "db-01.example.net",
    ]

    line, jumpbox, groups = rows["jumpbox"]
    assert (line, jumpbox.address, groups) == (2, "192.0.2.10", ())
    assert jumpbox.ssh == SshProfile(22, "ops", None)  # from [all:vars]
    assert jumpbox.kind is TargetKind.OTHER

    line, web, groups = rows["web02.example.net"]
    assert (line, web.address, groups) == (5, "web02.example.net", ("dc1", "web"))
    assert web.vars == {"http_port": 8080}

    line, db, groups = rows["db-01.example.net"]
    assert (line, db.address, groups) == (6, "10.0.1.5", ("db", "dc1", "web"))
    assert db.ssh == SshProfile(2222, "deploy", None)
    assert db.vars == {"ansible_connection": "ssh", "backup": "nightly"}

    assert batch.groups == (
        ImportGroup("web", {"ntp_server": "10.0.0.123", "max_clients": 200}, ()),
        ImportGroup("db", {}, ()),
        ImportGroup("dc1", {"site_code": "DC1"}, ("web", "db")),
    )


def test_ini_values_are_read_like_ansible() -> None:
    text = """[g]
h1 n=42 f=1.5 yes=true no=False s="it's" q="'42'" l="[1, 'a']" ip=10.0.0.1 c=1j word=hello
[g:vars]
quoted="42"
bare=42
spaced = some text
"""
    batch = parse_ansible_ini(text)
    assert batch.ok, batch.errors
    assert batch.rows[0].spec.vars == {
        "n": 42,
        "f": 1.5,
        "yes": True,
        "no": False,
        "s": "it's",
        "q": "42",
        "l": [1, "a"],
        "ip": "10.0.0.1",
        "c": "1j",  # not JSON data: kept as written
        "word": "hello",
    }
    assert batch.groups[0].vars == {"quoted": "42", "bare": 42, "spaced": "some text"}


def test_ini_comments_and_inline_comments() -> None:
    text = "; header comment\n# another\n[g] # the group\nh1 a=1 # trailing\n"
    batch = parse_ansible_ini(text)
    assert batch.ok
    assert batch.rows[0].spec.vars == {"a": 1}


def test_ini_host_in_several_groups_is_one_row_with_merged_vars() -> None:
    text = "[a]\nh1 x=1\n[b]\nh1 y=2\n[c]\nh1 x=1\n"
    batch = parse_ansible_ini(text)
    assert batch.ok
    (row,) = batch.rows
    assert (row.line, row.groups, row.spec.vars) == (2, ("a", "b", "c"), {"x": 1, "y": 2})


def test_ini_conflicting_host_var_is_a_row_error_and_no_row() -> None:
    text = "[a]\nh1 x=1\nh2\n[b]\nh1 x=2\n"
    batch = parse_ansible_ini(text)
    assert only_error(batch) == RowError(5, "h1", "host 'h1': var 'x' is 2 here but 1 on line 2")
    assert [row.spec.name for row in batch.rows] == ["h2"]


def test_ini_conflicting_group_var_is_an_error() -> None:
    batch = parse_ansible_ini("[a]\n[a:vars]\nx=1\n[a:vars]\nx=one\n")
    assert messages(batch) == [(5, "group 'a': var 'x' is 'one' here but 1 on line 3")]


def test_ini_membership_is_flattened_to_every_ancestor() -> None:
    text = """[leaf]
h1
[mid:children]
leaf
[top:children]
mid
[other:children]
leaf
[all:children]
top
"""
    batch = parse_ansible_ini(text)
    assert batch.ok, batch.errors
    assert batch.rows[0].groups == ("leaf", "mid", "other", "top")
    assert [g.name for g in batch.groups] == ["leaf", "mid", "top", "other"]


def test_ini_all_vars_fill_in_only_where_nothing_closer_sets_them() -> None:
    text = """lonely
[g]
h1
h2 ntp=host
[g:vars]
dns=group
[ungrouped:vars]
role=stray
[all:vars]
ntp=all
dns=all
"""
    rows = by_name(parse_ansible_ini(text))
    assert rows["h1"][1].vars == {"ntp": "all"}  # dns comes from the group at run time
    assert rows["h2"][1].vars == {"ntp": "host"}
    assert rows["lonely"][1].vars == {"ntp": "all", "dns": "all", "role": "stray"}


@pytest.mark.parametrize(
    ("pattern", "names"),
    [
        ("web[01:03]", ["web01", "web02", "web03"]),
        ("web[1:3].lan", ["web1.lan", "web2.lan", "web3.lan"]),
        ("rack-[a:c]", ["rack-a", "rack-b", "rack-c"]),
        ("n[0:10:5]", ["n0", "n5", "n10"]),
        ("n[:1]", ["n0", "n1"]),
        ("r[1:2]-s[a:b]", ["r1-sa", "r1-sb", "r2-sa", "r2-sb"]),
        ("web[08:10]", ["web08", "web09", "web10"]),
    ],
)
def test_ini_host_ranges_expand(pattern: str, names: list[str]) -> None:
    batch = parse_ansible_ini(f"[g]\n{pattern}\n")
    assert batch.ok, batch.errors
    assert [row.spec.name for row in batch.rows] == names


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        ("web[3:1]", "host range [3:1] must have begin <= end"),
        ("web[c:a]", "host range [c:a] must have begin <= end"),
        ("web[01:100]", "host range [01:100] must give begin and end the same width"),
        ("web[1:]", "host range [1:] must be [begin:end] or [begin:end:step]"),
        ("web[1:2:0]", "host range [1:2:0] needs a positive whole step"),
        ("web[a:10]", "host range [a:10] must be numbers (01:10) or single letters (a:f)"),
        ("web[0:99999999]", "host range [0:99999999] expands to more than 10000 hosts"),
        ("web[0:999]-[0:999]", "host pattern 'web[0:999]-[0:999]' expands to more than 10000"),
        ("web:", "host 'web:' ends in ':' without a port"),
    ],
)
def test_ini_bad_host_ranges_are_row_errors(pattern: str, message: str) -> None:
    batch = parse_ansible_ini(f"[g]\nok\n{pattern}\n")
    error = only_error(batch)
    assert (error.line, error.name) == (3, pattern)
    assert error.message.startswith(message)


@pytest.mark.parametrize(
    ("line", "name", "address", "port"),
    [
        ("sw1.lan:2222", "sw1.lan", "sw1.lan", 2222),
        ("2001:db8::5", "2001:db8::5", "2001:db8::5", 22),
        ("[2001:db8::5]:2200", "2001:db8::5", "2001:db8::5", 2200),
        ("sw1:2222 ansible_port=2200", "sw1", "sw1", 2200),  # the explicit var wins
    ],
)
def test_ini_host_port_shorthand(line: str, name: str, address: str, port: int) -> None:
    batch = parse_ansible_ini(f"[g]\n{line}\n")
    assert batch.ok, batch.errors
    spec = batch.rows[0].spec
    assert (spec.name, spec.address, spec.ssh.port) == (name, address, port)


def test_ini_children_listed_before_their_section_are_fine() -> None:
    batch = parse_ansible_ini("[parent:children]\nchild\n[child]\nh1\n")
    assert batch.ok
    assert batch.rows[0].groups == ("child", "parent")


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("[ghost:vars]\nx=1\n", (1, "section [ghost:vars] is for a group the file never defines")),
        (
            "[p:children]\nghost\n",
            (2, "section [p:children] names group 'ghost', which the file never defines"),
        ),
        (
            "[a:children]\nb\n[b:children]\na\n",
            (4, "group 'a' cannot be a child of 'b', which is inside it"),
        ),
        ("[a:children]\na\n", (2, "group 'a' cannot be a child of itself")),
        ("[g:hosts2]\nh1\n", (1, "section [g:hosts2] has an unknown type; use :vars or :children")),
        (
            "[my group]\nh1\n",
            (1, "invalid section header '[my group]': no spaces or ':' inside a group name"),
        ),
        ("[g]\nh1 novalue\n", (2, "expected key=value after the host, got 'novalue'")),
        ("[g]\nh1 x='open\n", (2, "cannot read host line: No closing quotation")),
        ("[g:vars]\njust text\n[g]\n", (2, "expected key=value, got 'just text'")),
        ("[g:children]\nbad:name\n[g]\n", (2, "expected a group name, got 'bad:name'")),
        ("[g]\n10.0.0.300\n", (2, "invalid address '10.0.0.300': not a valid IPv4 address")),
        ("[g]\nh1 ansible_port=ssh\n", (2, "ansible_port must be an integer, got 'ssh'")),
        ("[g]\nh1 ansible_host=[1]\n", (2, "ansible_host must be text, got [1]")),
    ],
)
def test_ini_mistakes_are_row_errors(text: str, error: tuple[int, str]) -> None:
    assert messages(parse_ansible_ini(text)) == [error]


def test_ini_skips_the_rest_of_an_invalid_section() -> None:
    batch = parse_ansible_ini("[g:oops]\nh1\n[g]\nh2\n")
    assert [row.spec.name for row in batch.rows] == ["h2"]
    assert len(batch.errors) == 1


# --- Ansible YAML -----------------------------------------------------------------------------


def test_yaml_example_file() -> None:
    batch = parse_ansible_yaml(read("hosts.yml"), source="hosts.yml")
    assert batch.ok, batch.errors
    rows = by_name(batch)
    assert list(rows) == [
        "jumpbox",
        "weba.example.net",
        "webb.example.net",
        "webc.example.net",
        "db-01.example.net",
    ]
    line, jumpbox, groups = rows["jumpbox"]
    assert (line, jumpbox.address, jumpbox.ssh.username, groups) == (6, "192.0.2.10", "ops", ())

    line, web, groups = rows["webb.example.net"]
    assert (line, groups, web.vars) == (17, ("dc1", "web"), {"http_port": 8080})
    assert web.ssh.username == "ops"

    line, db, groups = rows["db-01.example.net"]
    assert (line, db.address, groups) == (19, "10.0.1.5", ("db", "dc1", "web"))
    assert db.ssh == SshProfile(2222, "deploy", None)
    assert db.vars == {"ansible_connection": "ssh", "installed": "2024-05-01"}  # dates stay text

    assert batch.groups == (
        ImportGroup("dc1", {"site_code": "DC1"}, ("web", "db")),
        ImportGroup("web", {"ntp_server": "10.0.0.123"}, ()),
        ImportGroup("db", {}, ()),
    )


def test_yaml_and_ini_forms_of_one_inventory_give_the_same_batch() -> None:
    ini = """jump ansible_host=192.0.2.10
[web]
web[1:2] ansible_port=2222 role=frontend
[web:vars]
ntp=10.0.0.1
[dc:children]
web
[all:vars]
ansible_user=ops
"""
    yml = """all:
  vars: {ansible_user: ops}
  hosts:
    jump: {ansible_host: 192.0.2.10}
  children:
    dc:
      children:
        web:
          vars: {ntp: 10.0.0.1}
          hosts:
            web[1:2]: {ansible_port: 2222, role: frontend}
"""
    from_ini, from_yml = parse_ansible_ini(ini), parse_ansible_yaml(yml)
    assert from_ini.ok
    assert from_yml.ok
    assert [(r.spec, r.groups) for r in from_ini.rows] == [
        (r.spec, r.groups) for r in from_yml.rows
    ]
    assert sorted(from_ini.groups, key=lambda g: g.name) == sorted(
        from_yml.groups, key=lambda g: g.name
    )
    assert from_ini.rows[1].spec.ssh == SshProfile(2222, "ops", None)


def test_yaml_top_level_groups_besides_all() -> None:
    text = "web:\n  hosts:\n    w1:\ndb:\n  hosts:\n    d1: {port: 5432}\n  children:\n    web:\n"
    batch = parse_ansible_yaml(text)
    assert batch.ok, batch.errors
    rows = by_name(batch)
    assert rows["w1"][2] == ("db", "web")
    assert rows["d1"][1].vars == {"port": 5432}


def test_yaml_host_in_several_groups_conflict() -> None:
    text = """all:
  children:
    a:
      hosts:
        h1: {x: 1}
    b:
      hosts:
        h1: {x: '1'}
"""
    batch = parse_ansible_yaml(text)
    assert only_error(batch) == RowError(8, "h1", "host 'h1': var 'x' is '1' here but 1 on line 5")
    assert batch.rows == ()


def test_yaml_anchors_and_aliases_are_followed() -> None:
    text = """all:
  children:
    a:
      hosts: &shared
        h1: {role: web}
    b:
      hosts: *shared
"""
    batch = parse_ansible_yaml(text)
    assert batch.ok
    assert batch.rows[0].groups == ("a", "b")


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("all:\n  hosts:\n    - h1\n", (3, "hosts of group 'all' must be a mapping of host names")),
        (
            "all:\n  members:\n    h1:\n",
            (2, "unknown key 'members' in group 'all'; expected hosts, vars or children"),
        ),
        ("- all\n", (1, "an Ansible YAML inventory maps group names (such as 'all:') to groups")),
        ("all: [h1]\n", (1, "group 'all' must map hosts, vars or children")),
        ("all:\n  vars: [1]\n", (2, "vars of group 'all' must be a mapping, got [1]")),
        ("all:\n  hosts:\n    h1: 5\n", (3, "vars of host 'h1' must be a mapping, got 5")),
        (
            "all:\n  hosts:\n    h1: {x: !!set {a}}\n",
            (3, "vars of host 'h1': a set cannot be stored"),
        ),
        ("all:\n  hosts:\n    h1: {1: x}\n", (3, "vars of host 'h1': its keys must be text")),
        (
            "all:\n  hosts:\n    h1:\n      x: !!python/name:os.system\n",
            (4, "vars of host 'h1': invalid YAML: could not determine a constructor for the tag"),
        ),
        (
            "all:\n  children:\n    a:\n      children:\n        a:\n",
            (5, "group 'a' cannot be a child of itself"),
        ),
        (
            "all:\n  hosts:\n    h1\n  - x\n",
            (
                4,
                "invalid YAML: while parsing a block mapping, expected <block end>, but found '-'",
            ),
        ),
        (
            "a: 1\n---\nb: 2\n",
            (
                2,
                "invalid YAML: expected a single document in the stream, but found another",
            ),
        ),
        ("[" * 500, (1, "invalid YAML: nested too deeply")),
    ],
)
def test_yaml_mistakes_are_row_errors(text: str, error: tuple[int, str]) -> None:
    found = only_error(parse_ansible_yaml(text))
    assert found.line == error[0]
    assert found.message.startswith(error[1])


def test_yaml_host_with_unreadable_vars_gives_no_row() -> None:
    batch = parse_ansible_yaml("all:\n  hosts:\n    h1: {x: !!set {a}}\n    h2:\n")
    assert [row.spec.name for row in batch.rows] == ["h2"]
    assert [e.line for e in batch.errors] == [3]


def test_yaml_recursive_alias_is_an_error_not_a_crash() -> None:
    batch = parse_ansible_yaml("all:\n  hosts:\n    h1: &a\n      x: *a\n")
    assert (batch.rows, len(batch.errors)) == ((), 1)
    batch = parse_ansible_yaml("a: &a\n  children:\n    b: *a\n")
    assert messages(batch) == [(3, "group 'b' cannot be a child of itself")]


def test_yaml_empty_file_is_an_empty_batch() -> None:
    batch = parse_ansible_yaml("# nothing yet\n")
    assert (batch.ok, batch.rows, batch.groups) == (True, (), ())


# --- export and round trips -------------------------------------------------------------------

TRICKY = [
    (
        TargetSpec(
            name="Zürich core 1",
            address="2001:db8::1",
            kind=TargetKind.ROUTER,
            vendor="Cisco, Inc.",
            model='ASR "9k"',
            site="ZRH",
            description='Line one, "quoted"\nline two;\r\nline three',
            tags=("core", "prod"),
            enabled=False,
            parent="zrh-agg",
            snmp=SnmpProfile(SnmpVersion.V3, 1161, "snmpv3-ro"),
            ssh=SshProfile(2222, "netops", "ssh-key"),
            vars={"rack": "A4", "units": [1, 2], "nested": {"ok": True, "none": None}},
        ),
        ("core", "Zürich sites"),
    ),
    (TargetSpec(name="東京-sw", address="sw.example.net"), ()),
    (TargetSpec(name="plain", address="10.0.0.9", tags=("a",)), ("edge",)),
]


def without_vars(spec: TargetSpec) -> TargetSpec:
    return dataclasses.replace(spec, vars={})


def test_export_csv_writes_the_header_and_one_row_per_target() -> None:
    text = export_csv(TRICKY)
    assert text.splitlines()[0] == ",".join(CSV_COLUMNS)
    assert text.count("\n") == 1 + 3 + 2  # header, rows, the two newlines in a description
    assert "plain,10.0.0.9,other,,,,,a,true,,edge,,161,,22,," in text


def test_csv_round_trip_keeps_everything() -> None:
    batch = parse_csv(export_csv(TRICKY))
    assert batch.ok, batch.errors
    assert [(r.spec, r.groups) for r in batch.rows] == list(TRICKY)


def test_export_csv_refuses_a_group_name_it_would_split() -> None:
    with pytest.raises(ValidationError, match="group name 'a;b' contains ';'"):
        export_csv([(TargetSpec(name="r1", address="10.0.0.1"), ["a;b"])])


def test_export_json_shape() -> None:
    groups = [ImportGroup("core", {"ntp": "10.0.0.123"}, ("edge",))]
    document = json.loads(export_json(TRICKY[1:], groups))
    assert list(document) == ["targets", "groups"]
    assert [t["name"] for t in document["targets"]] == ["東京-sw", "plain"]
    assert list(document["targets"][0]) == list(CSV_COLUMNS)
    assert document["targets"][1]["tags"] == ["a"]
    assert document["targets"][0]["snmp_version"] is None
    assert document["groups"] == [
        {"name": "core", "vars": {"ntp": "10.0.0.123"}, "children": ["edge"]}
    ]
    assert export_json([]).startswith('{\n  "targets": []')


def test_json_round_trip_keeps_everything() -> None:
    groups = (ImportGroup("core", {"ntp": "10.0.0.123", "list": [1]}, ("Zürich sites",)),)
    batch = parse_json(export_json(TRICKY, groups))
    assert batch.ok, batch.errors
    assert [(r.spec, r.groups) for r in batch.rows] == list(TRICKY)
    assert batch.groups == groups


# --- properties -------------------------------------------------------------------------------

_TEXT = st.characters(codec="utf-8", categories=("L", "N", "P", "S", "Zs"))
names = st.text(_TEXT, min_size=1, max_size=12).map(str.strip).filter(bool)
tokens = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_.:/=+-]{0,8}", fullmatch=True)
addresses = st.one_of(
    st.ip_addresses().map(str),
    st.from_regex(r"[a-z][a-z0-9-]{0,8}[a-z0-9](\.[a-z]{2,6}){0,2}", fullmatch=True),
)
free_text = st.lists(st.one_of(_TEXT, st.sampled_from(["\n", "\r\n", ",", '"'])), max_size=20).map(
    "".join
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=6,
)


@st.composite
def targets(
    draw: st.DrawFn, group_names: st.SearchStrategy[str]
) -> tuple[TargetSpec, tuple[str, ...]]:
    name = draw(names)
    parent = draw(st.none() | names.filter(lambda p: p != name))
    spec = TargetSpec(
        name=name,
        address=draw(addresses),
        kind=draw(st.sampled_from(TargetKind)),
        vendor=draw(free_text),
        model=draw(free_text),
        site=draw(free_text),
        description=draw(free_text),
        tags=tuple(draw(st.lists(tokens, max_size=3))),
        enabled=draw(st.booleans()),
        parent=parent,
        snmp=SnmpProfile(
            draw(st.none() | st.sampled_from(SnmpVersion)),
            draw(st.integers(1, 65535)),
            draw(st.none() | tokens),
        ),
        ssh=SshProfile(
            draw(st.integers(1, 65535)), draw(st.none() | tokens), draw(st.none() | tokens)
        ),
        vars=draw(st.dictionaries(st.text(max_size=5), json_values, max_size=3)),
    ).validated()
    groups = tuple(dict.fromkeys(draw(st.lists(group_names, max_size=3))))
    return spec, groups


def estates(
    group_names: st.SearchStrategy[str],
) -> st.SearchStrategy[list[tuple[TargetSpec, tuple[str, ...]]]]:
    return st.lists(targets(group_names), max_size=4, unique_by=lambda t: t[0].name)


# Few examples, no example database: the round trips must stay fast and write no files.
_FAST = settings(
    max_examples=20, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)


@_FAST
@given(estates(names.filter(lambda n: ";" not in n)))
def test_csv_round_trip_property(estate: list[tuple[TargetSpec, tuple[str, ...]]]) -> None:
    batch = parse_csv(export_csv(estate))
    assert batch.ok, batch.errors
    assert [(r.spec, r.groups) for r in batch.rows] == list(estate)


@_FAST
@given(
    estates(names),
    st.lists(
        st.builds(
            ImportGroup,
            names,
            st.dictionaries(st.text(max_size=5), json_values, max_size=2),
            st.lists(names, max_size=2).map(lambda c: tuple(dict.fromkeys(c))),
        ),
        max_size=3,
        unique_by=lambda g: g.name,
    ),
)
def test_json_round_trip_property(
    estate: list[tuple[TargetSpec, tuple[str, ...]]], groups: list[ImportGroup]
) -> None:
    batch = parse_json(export_json(estate, groups))
    assert batch.ok, batch.errors
    assert [(r.spec, r.groups) for r in batch.rows] == estate
    assert list(batch.groups) == groups


_FRAGMENTS = [*'[]{}:,;="#\n\r -', "\r\n", "\ufeff", "all:", "\n  hosts:", "\n    ", "[g:vars]"]
_FRAGMENTS += [
    "[g:children]",
    '{"targets": [',
    '"name": ',
    "web[01:03]",
    "ansible_port=",
    "name,address",
]
garbage = st.lists(st.sampled_from(_FRAGMENTS) | st.characters(), max_size=40).map("".join)


@settings(max_examples=50, deadline=None, database=None)
@given(garbage)
def test_malformed_input_never_raises(text: str) -> None:
    for parse in (parse_csv, parse_json, parse_ansible_ini, parse_ansible_yaml):
        batch = parse(text)
        assert all(error.line >= 1 and error.message for error in batch.errors)
    assert parse_inventory(text).format in {"json", "ansible-ini"}
    with contextlib.suppress(ValidationError):  # detection may refuse an unknown extension
        parse_inventory(text, source="inventory.txt")
