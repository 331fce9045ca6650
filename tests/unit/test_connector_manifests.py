"""Connector manifests: templates, conditions, the loader's errors, mapping, fuzzing."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from opsconductor_desktop.domain.alerts import Severity
from opsconductor_desktop.domain.connector_templates import (
    Condition,
    MissingFieldError,
    Template,
)
from opsconductor_desktop.domain.connectors import (
    ConnectorState,
    FieldType,
    SettingField,
    host_of,
    jsonpath_to_jmespath,
    parse_manifest,
)
from opsconductor_desktop.domain.errors import ValidationError
from opsconductor_desktop.runtime.connectors.breaker import BreakerState, CircuitBreaker
from opsconductor_desktop.runtime.connectors.http_poll import HttpPoller
from opsconductor_desktop.runtime.connectors.mapping import (
    ItemError,
    ItemMapper,
    SourceError,
)
from opsconductor_desktop.runtime.connectors.targets import TargetIndex
from opsconductor_desktop.services.connector_manifests import (
    bundled_manifests,
    load_manifest,
)

BUNDLED = Path(__file__).parents[2] / "resources" / "connectors"


def bundled_text(name: str) -> str:
    return (BUNDLED / f"{name}.yaml").read_text(encoding="utf-8")


# ---- templates and conditions --------------------------------------------------------------


def test_template_paths_defaults_alternatives_and_escapes() -> None:
    item = {"labels": {"alertname": "Down", "n": 3}, "list": [{"x": "first"}], "none": None}
    assert Template.parse("{labels.alertname} ({labels.n})").render(item) == "Down (3)"
    assert Template.parse("{labels.severity|warning}").render(item) == "warning"
    assert Template.parse("{labels.nope||labels.alertname|x}").render(item) == "Down"
    assert Template.parse("{none|empty}").render(item) == "empty"  # null counts as missing
    assert Template.parse("{list.0.x}").render(item) == "first"
    assert Template.parse("{{literal}} {$who}").render(item, {"who": "me"}) == "{literal} me"
    assert Template.parse("{labels.n}").value(item) == 3  # a lone placeholder keeps its type
    assert Template.parse("{labels}").render(item) == '{"alertname":"Down","n":3}'
    assert Template.parse("{a|x|y}").render({}) == "x|y"  # the default is the rest, literally
    with pytest.raises(MissingFieldError, match="no field labels.nope or x"):
        Template.parse("{labels.nope||x}").render(item)


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("{unclosed", "unclosed"),
        ("oops}", "unmatched"),
        ("{}", "bad field path"),
        ("{a..b}", "bad field path"),
        ("{$1x}", "bad name"),
        ("{a{b}", "inside a placeholder"),
    ],
)
def test_template_syntax_errors(text: str, error: str) -> None:
    with pytest.raises(ValidationError, match=error):
        Template.parse(text)


def test_conditions() -> None:
    item = {"status": {"state": "resolved"}, "severity": "4", "suppressed": "0", "tags": ["a"]}
    holds = lambda text, extras=None: Condition.parse(text).evaluate(item, extras)  # noqa: E731
    assert holds("status.state == 'resolved'")
    assert holds("severity >= 4 and suppressed == 0")  # numeric strings compare as numbers
    assert holds("severity in [4, 5]") and not holds("severity in ['1', '2']")
    assert holds("missing == null and not missing.deeper")  # missing paths are null
    assert holds("'a' in tags and 'x' not in tags")
    assert holds("status['state'] != 'firing'")
    assert holds("$flag", {"flag": True}) and not holds("$flag", {})
    assert not holds("tags < 3")  # a list and a number do not order
    assert not holds("true == 1")  # booleans equal only booleans


@pytest.mark.parametrize(
    "text",
    [
        "__import__('os').system('true')",
        "status.state.upper() == 'X'",
        "1 + 1",
        "a if b else c",
        "lambda: 1",
        "a is None",
        "[x for x in y]",
        "'a'.join",
        "",
        "(" * 300,
    ],
)
def test_conditions_refuse_anything_but_comparisons(text: str) -> None:
    with pytest.raises(ValidationError):
        Condition.parse(text)


@pytest.mark.parametrize(
    ("value", "host"),
    [
        ("node1:9100", "node1"),
        ("10.0.0.1:9100", "10.0.0.1"),
        ("[2001:db8::1]:9100", "2001:db8::1"),
        ("2001:db8::1", "2001:db8::1"),
        ("http://user:pw@web1:8080/metrics?x=1", "web1"),
        (" sw1 ", "sw1"),
    ],
)
def test_host_of(value: str, host: str) -> None:
    assert host_of(value) == host


def test_jsonpath_subset() -> None:
    assert jsonpath_to_jmespath("$") == "@"
    assert jsonpath_to_jmespath("$.data.items[*]") == "data.items[*]"
    assert jsonpath_to_jmespath("$['odd-key'][0].x") == '"odd-key"[0].x'
    assert jsonpath_to_jmespath("$[*].a") == "[*].a"
    for bad in ("data", "$..x", "$.a[?(@.b)]"):
        with pytest.raises(ValidationError):
            jsonpath_to_jmespath(bad)


# ---- the loader ----------------------------------------------------------------------------


def test_bundled_manifests_load_and_are_named_by_their_ids() -> None:
    found = {m.id: m for m in bundled_manifests()}
    assert set(found) == {p.stem for p in BUNDLED.glob("*.yaml")}
    assert set(found) >= {"alertmanager", "prtg", "zabbix", "generic-json", "webhook"}
    assert {found[i].kind.value for i in ("snmp-trap", "syslog", "webhook")} == {
        "snmp_trap",
        "syslog",
        "webhook",
    }
    defaults = {i: found[i].defaults().get("port") for i in ("snmp-trap", "syslog", "webhook")}
    assert defaults == {"snmp-trap": 162, "syslog": 514, "webhook": 9095}
    assert not found["webhook"].enabled_by_default
    token = found["webhook"].setting("token")
    assert token is not None and token.required and token.secret


@pytest.mark.parametrize(
    ("change", "error"),
    [
        (("kind: http_poll", "kind: ftp"), "am.yaml:7: kind: unknown kind 'ftp'"),
        (("  method: GET", "  method: GET\n  verb: x"), "am.yaml:45: request.verb: unknown field"),
        (
            ('url: "{settings.url}/api/v2/alerts"', 'url: "{settings.uri}/api/v2/alerts"'),
            "am.yaml:45: request.url: no setting 'uri' is declared",
        ),
        (
            ('  summary: "{annotations.summary||', '  summary: "{annotations.sumary} {'),
            "am.yaml:85: mapping.summary: '{annotations.sumary} {annotations.description||"
            "labels.alertname}': the sample item has no field annotations.sumary",
        ),
        (('jmespath: "@"', 'jmespath: "[?"'), "am.yaml:62: extract.jmespath: bad JMESPath"),
        (('jmespath: "@"', 'jsonpath: "$..x"'), "am.yaml:62: extract.jsonpath: recursive"),
        (
            ("      page: critical", "      page: urgent"),
            "am.yaml:72: mapping.severity.map.page: one of clear, info",
        ),
        (
            ('    alertname: "{labels.alertname}"', '    alertname: "{$settings.token}"'),
            "am.yaml:87: mapping.details.alertname: the secret setting 'token' cannot appear",
        ),
        (
            ("  - name: timeout\n    type: int", "  - name: timeout\n    type: float"),
            "am.yaml:34: settings[5].type: unknown type 'float'",
        ),
        (('version: "1.0"', "version:"), "am.yaml:6: version: required"),
        (("  startsAt:", "  startsAt: 2026-13-45\n  x:"), "am.yaml: YAML error: month"),
        (('suppressed: "status.state', 'suppressed: "status.state('), "mapping.suppressed"),
    ],
)
def test_errors_name_file_line_and_field(change: tuple[str, str], error: str) -> None:
    text = bundled_text("alertmanager")
    assert change[0] in text
    with pytest.raises(ValidationError) as caught:
        load_manifest(text.replace(change[0], change[1], 1), "am.yaml")
    assert error in str(caught.value)


def test_kind_specific_sections() -> None:
    base = {"id": "x", "name": "X", "version": "1"}
    with pytest.raises(ValidationError, match="required for an http_poll connector"):
        parse_manifest({**base, "kind": "http_poll"})
    with pytest.raises(ValidationError, match="only an http_poll connector has request"):
        parse_manifest({**base, "kind": "webhook", "request": {"url": "x"}})
    with pytest.raises(ValidationError, match="has no mapping"):
        parse_manifest({**base, "kind": "syslog", "mapping": {}})
    assert parse_manifest({**base, "kind": "syslog"}).kind.listening


def test_setting_values_are_checked_by_type() -> None:
    port = SettingField("port", FieldType.INT, minimum=1, maximum=65535)
    assert port.coerce("162") == 162
    for bad in ("0", "x", "70000"):
        with pytest.raises(ValidationError):
            port.coerce(bad)
    url = SettingField("url", FieldType.URL)
    assert url.coerce("https://am.example.net:9093/") == "https://am.example.net:9093"
    with pytest.raises(ValidationError, match="http:// or https://"):
        url.coerce("ftp://x")
    assert SettingField("b", FieldType.BOOL).coerce("off") is False
    choice = SettingField("p", FieldType.CHOICE, choices=("udp", "tcp"))
    with pytest.raises(ValidationError, match="one of udp, tcp"):
        choice.coerce("sctp")
    users = SettingField("v3_users", FieldType.CREDENTIAL, multiple=True)
    assert users.coerce(" a ,b,, c") == "a, b, c"
    assert users.coerce(["a", "b"]) == "a, b" and users.names("a, b") == ["a", "b"]


def test_only_a_credential_field_names_several() -> None:
    base = {"id": "x", "name": "X", "version": "1", "kind": "syslog"}
    field = {"name": "users", "type": "string", "multiple": True}
    with pytest.raises(ValidationError, match="only a credential field can name several"):
        parse_manifest({**base, "settings": [field]})
    field = {"name": "users", "type": "credential", "multiple": "yes"}
    with pytest.raises(ValidationError, match="expected true or false"):
        parse_manifest({**base, "settings": [field]})
    field = {"name": "users", "type": "credential", "multiple": True}
    (parsed,) = parse_manifest({**base, "settings": [field]}).settings
    assert parsed.multiple


# ---- mapping -------------------------------------------------------------------------------


def manifest(name: str) -> Any:
    return next(m for m in bundled_manifests() if m.id == name)


def test_alertmanager_items_map_and_suppressed_ones_are_held() -> None:
    m = manifest("alertmanager")
    mapper = ItemMapper(m, "am", {"url": "http://am"})
    item = copy.deepcopy(dict(m.sample or {}))
    mapped = mapper.map(item)
    assert (mapped.key, mapped.target_value, mapped.severity) == (
        "InstanceDown/a1b2c3d4e5f60718",
        "node1:9100",
        Severity.CRITICAL,
    )
    assert not mapped.held and not mapped.clear
    item["status"]["state"] = "suppressed"
    assert mapper.map(item).held
    item["labels"]["severity"] = "nonsense"
    assert mapper.map(item).severity is Severity.WARNING
    alert = mapper.finish(mapper.map(item), "node1")
    assert alert.source == "connector:am" and alert.target == "node1"
    del item["labels"]["alertname"]
    with pytest.raises(ItemError) as caught:
        mapper.map(item)
    assert caught.value.identity is None  # no key: the engine must not resolve by absence


def test_prtg_and_zabbix_severities() -> None:
    prtg = ItemMapper(manifest("prtg"), "prtg")
    sample = dict(manifest("prtg").sample or {})
    expected = {5: Severity.CRITICAL, 14: Severity.MAJOR, 4: Severity.WARNING, 10: Severity.MINOR}
    for status, severity in expected.items():
        assert prtg.map({**sample, "status_raw": status}).severity is severity
    assert prtg.map({**sample, "status_raw": 3}).clear
    zabbix = ItemMapper(manifest("zabbix"), "zbx")
    problem = dict(manifest("zabbix").sample or {})
    levels = [zabbix.map({**problem, "severity": str(n)}).severity for n in range(6)]
    assert [s.label for s in levels] == ["info", "info", "warning", "minor", "major", "critical"]
    assert zabbix.map(problem).target_value == "web1"  # from the host tag (let)
    assert zabbix.map({**problem, "suppressed": "1"}).held


def test_target_index_matching() -> None:
    index = TargetIndex([("node1", "10.0.0.1"), ("db1.example.net", "10.0.0.9"), ("10.9.9.9", "")])
    assert index.match("node1:9100") == "node1"
    assert index.match("NODE1.example.net") == "node1"  # short name, any case
    assert index.match("10.0.0.9:9100") == "db1.example.net"
    assert index.match("10.0.0.9", "name") is None and index.match("node1", "address") is None
    assert index.by_address("10.0.0.1") == "node1"
    assert index.match("10.9.9.9") == "10.9.9.9"


def test_breaker_states() -> None:
    breaker = CircuitBreaker(failures=3, cooldown=60)
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert breaker.state(2, now, now) is BreakerState.CLOSED
    assert breaker.state(3, now, now + timedelta(seconds=59)) is BreakerState.OPEN
    assert breaker.state(3, now, now + timedelta(seconds=60)) is BreakerState.HALF_OPEN
    assert breaker.health(0) is ConnectorState.OK
    assert breaker.health(1) is ConnectorState.DEGRADED
    assert breaker.health(0, item_errors=True) is ConnectorState.DEGRADED
    assert breaker.health(3) is ConnectorState.FAILING


def test_next_link_pagination_stays_on_the_same_server() -> None:
    text = (
        bundled_text("generic-json")
        .replace(
            "  timeout:",
            "  pagination: {type: next_link, next: links.next}\n  timeout:",
        )
        .replace('jmespath: "alerts || items || data || @"', "jmespath: items")
    )
    m = load_manifest(text, "g.yaml")
    pages = {
        "/a": {"items": [{"id": "1"}], "links": {"next": "/a?cursor=2"}},
        "/a?cursor=2": {"items": [{"id": "2"}], "links": {"next": "https://evil.example/x"}},
    }

    def answer(request: httpx.Request) -> httpx.Response:
        path = request.url.raw_path.decode()
        return httpx.Response(200, json=pages[path])

    poller = HttpPoller(
        m,
        {"url": "http://src/a", "timeout": 5, "verify_tls": True},
        transport=httpx.MockTransport(answer),
    )
    with pytest.raises(SourceError, match="points to another server"):
        asyncio.run(poller.fetch())
    pages["/a?cursor=2"]["links"] = {"next": None}
    fetched = asyncio.run(poller.fetch())
    assert [i["id"] for i in fetched.items] == ["1", "2"] and fetched.pages == 2


# ---- fuzzing -------------------------------------------------------------------------------

_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=400))
def test_fuzz_any_text_is_a_manifest_or_a_clear_error(text: str) -> None:
    _, error = _load(text)
    assert error is None or error.startswith("fuzz.yaml")


def _load(text: str) -> tuple[Any, str | None]:
    """The manifest, or the loader's ``ValidationError`` message (anything else escapes)."""
    try:
        return load_manifest(text, "fuzz.yaml"), None
    except ValidationError as exc:
        return None, str(exc)


def _paths(data: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(data, dict):
        for k, v in data.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            out += _paths(v, (*prefix, i))
    return out


_DOCS = {m.id: yaml.safe_load(bundled_text(m.id)) for m in bundled_manifests()}


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(sorted(_DOCS)), st.data(), _json)
def test_fuzz_mutated_bundled_manifests(ident: str, data: st.DataObject, value: Any) -> None:
    doc = copy.deepcopy(_DOCS[ident])
    path = data.draw(st.sampled_from(_paths(doc)[1:]))
    node = doc
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = value
    text = json.dumps(doc)  # JSON is YAML
    m, error = _load(text)
    if m is None:
        assert error is not None and error.startswith("fuzz.yaml")
    elif m.mapping is not None and m.sample is not None:
        with contextlib.suppress(ItemError):
            ItemMapper(m, "fuzz").map(m.sample)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=80), _json)
def test_fuzz_templates_and_conditions_never_crash(text: str, item: Any) -> None:
    for parse in (Template.parse, Condition.parse):
        try:
            compiled = parse(text)
        except ValidationError:
            continue
        try:
            if isinstance(compiled, Template):
                compiled.render(item)
            else:
                compiled.evaluate(item)
        except MissingFieldError:
            pass
