"""Trap rules and decoding: RFC 3584 mapping, the bundled packs, pack validation, fuzzing."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyasn1.codec.ber import decoder, encoder
from pysnmp.proto import api, rfc1902

from opsconductor_desktop.domain.alerts import Severity
from opsconductor_desktop.domain.errors import ValidationError
from opsconductor_desktop.domain.results import VarBind
from opsconductor_desktop.domain.traps import (
    MAX_KEY,
    SNMP_TRAP_ADDRESS,
    SNMP_TRAP_ENTERPRISE,
    SNMP_TRAP_OID,
    SYS_UPTIME,
    Trap,
    TrapFormatError,
    TrapRules,
    trap_from_v1,
    trap_from_v2,
    v1_trap_oid,
)
from opsconductor_desktop.drivers.snmp_ber import (
    INFORM,
    TRAP_V1,
    TRAP_V2,
    BerError,
    decode_notification,
    encode_inform_response,
)
from opsconductor_desktop.runtime.receivers.traps import (
    TrapReceiver,
    TrapSettings,
    TrapUser,
    load_pack_text,
    load_rules,
)

V1 = api.PROTOCOL_MODULES[api.SNMP_VERSION_1]
V2C = api.PROTOCOL_MODULES[api.SNMP_VERSION_2C]
LINK_DOWN = "1.3.6.1.6.3.1.1.5.3"
LINK_UP = "1.3.6.1.6.3.1.1.5.4"
IF_INDEX = "1.3.6.1.2.1.2.2.1.1"
IF_OPER = "1.3.6.1.2.1.2.2.1.8"


@pytest.fixture(scope="module")
def rules() -> TrapRules:
    return load_rules()


def v2(trap_oid: str, *varbinds: VarBind, address: str = "10.0.0.1") -> Trap:
    head = [
        VarBind(SYS_UPTIME, "TimeTicks", 4200),
        VarBind(SNMP_TRAP_OID, "ObjectIdentifier", trap_oid),
    ]
    return trap_from_v2(address, "v2c", [*head, *varbinds])


# ---- RFC 3584: SNMPv1 traps in SNMPv2 terms ------------------------------------------------


@pytest.mark.parametrize(
    ("generic", "expected"),
    [(0, "1.3.6.1.6.3.1.1.5.1"), (2, LINK_DOWN), (3, LINK_UP), (5, "1.3.6.1.6.3.1.1.5.6")],
)
def test_v1_generic_traps_map_to_snmp_traps(generic: int, expected: str) -> None:
    assert v1_trap_oid("1.3.6.1.4.1.9", generic, 0) == expected


def test_v1_enterprise_specific_trap_maps_to_enterprise_zero_specific() -> None:
    assert v1_trap_oid("1.3.6.1.4.1.9.9.43", 6, 1) == "1.3.6.1.4.1.9.9.43.0.1"
    with pytest.raises(TrapFormatError, match="generic-trap 7"):
        v1_trap_oid("1.3.6.1.4.1.9", 7, 0)


def test_v1_trap_keeps_agent_address_and_enterprise_as_varbinds() -> None:
    trap = trap_from_v1(
        "192.0.2.1",
        enterprise="1.3.6.1.4.1.8072",
        agent_address="10.9.9.9",
        generic=2,
        specific=0,
        timestamp=77,
        varbinds=[VarBind(IF_INDEX + ".4", "Integer32", 4)],
    )
    assert (trap.trap_oid, trap.uptime, trap.version) == (LINK_DOWN, 77, "v1")
    oids = [vb.oid for vb in trap.varbinds]
    assert oids == [IF_INDEX + ".4", SNMP_TRAP_ADDRESS, SNMP_TRAP_ENTERPRISE]


def test_v2_trap_needs_snmp_trap_oid() -> None:
    with pytest.raises(TrapFormatError, match=r"no snmpTrapOID\.0"):
        trap_from_v2("10.0.0.1", "v2c", [VarBind(SYS_UPTIME, "TimeTicks", 1)])
    with pytest.raises(TrapFormatError, match="not an OBJECT IDENTIFIER"):
        trap_from_v2("10.0.0.1", "v2c", [VarBind(SNMP_TRAP_OID, "OctetString", b"x")])
    trap = v2(LINK_DOWN, VarBind(IF_INDEX + ".3", "Integer32", 3))
    assert (trap.uptime, trap.trap_oid, len(trap.varbinds)) == (4200, LINK_DOWN, 1)


# ---- bundled packs ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "oid", "severity"),
    [
        ("coldStart", "1.3.6.1.6.3.1.1.5.1", Severity.WARNING),
        ("warmStart", "1.3.6.1.6.3.1.1.5.2", Severity.INFO),
        ("linkDown", LINK_DOWN, Severity.MAJOR),
        ("linkUp", LINK_UP, Severity.CLEAR),
        ("authenticationFailure", "1.3.6.1.6.3.1.1.5.5", Severity.WARNING),
        ("bgpBackwardTransition", "1.3.6.1.2.1.15.7.2", Severity.MAJOR),
        ("bgpEstablished", "1.3.6.1.2.1.15.7.1", Severity.CLEAR),
        ("upsTrapOnBattery", "1.3.6.1.2.1.33.2.1", Severity.CRITICAL),
        ("ciscoConfigManEvent", "1.3.6.1.4.1.9.9.43.2.0.1", Severity.INFO),
    ],
)
def test_bundled_packs_name_the_common_traps(
    rules: TrapRules, name: str, oid: str, severity: Severity
) -> None:
    rule = rules.rule_for(oid)
    assert rule is not None
    assert (rule.name, rule.severity) == (name, severity)


def test_link_up_clears_link_down_of_the_same_if_index(rules: TrapRules) -> None:
    down, rule = rules.alert_for(v2(LINK_DOWN, VarBind(IF_INDEX + ".3", "Integer32", 3)), "r1")
    up, _ = rules.alert_for(v2(LINK_UP, VarBind(IF_INDEX + ".3", "Integer32", 3)), "r1")
    other, _ = rules.alert_for(v2(LINK_UP, VarBind(IF_INDEX + ".4", "Integer32", 4)), "r1")
    assert rule is not None and rule.name == "linkDown"
    assert (down.source, down.key, down.severity, down.clear) == (
        "trap",
        "linkDown:3",
        Severity.MAJOR,
        False,
    )
    assert up.clear and up.fingerprint == down.fingerprint
    assert other.fingerprint != down.fingerprint
    assert down.details["fields"] == {"ifIndex": "3"}


def test_if_index_falls_back_to_the_row_of_if_oper_status(rules: TrapRules) -> None:
    alert, _ = rules.alert_for(v2(LINK_DOWN, VarBind(IF_OPER + ".12", "Integer32", 2)), "r1")
    assert alert.key == "linkDown:12"


def test_bgp_peer_comes_from_the_row_index(rules: TrapRules) -> None:
    state = VarBind("1.3.6.1.2.1.15.3.1.2.192.0.2.7", "Integer32", 1)
    down, _ = rules.alert_for(v2("1.3.6.1.2.1.15.7.2", state), "edge")
    up, _ = rules.alert_for(v2("1.3.6.1.2.1.15.0.1", state), "edge")
    assert down.key == "bgpPeer:192.0.2.7" and down.severity is Severity.MAJOR
    assert up.clear and up.fingerprint == down.fingerprint
    assert "192.0.2.7" in down.summary


def test_unknown_trap_is_an_info_alert_with_its_varbinds(rules: TrapRules) -> None:
    trap = v2(
        "1.3.6.1.4.1.99999.0.7",
        VarBind("1.3.6.1.4.1.99999.1.1.0", "OctetString", b"disk \x00\xff full"),
        VarBind("1.3.6.1.4.1.99999.1.2.0", "Counter64", 2**64 - 1),
    )
    alert, rule = rules.alert_for(trap, None)
    assert rule is None
    assert alert.severity is Severity.INFO and not alert.clear
    assert alert.key == "1.3.6.1.4.1.99999.0.7@10.0.0.1"  # no target: the sender keeps it apart
    assert alert.details["varbinds"] == [
        {
            "oid": "1.3.6.1.4.1.99999.1.1.0",
            "type": "OctetString",
            "value": "64:69:73:6b:20:00:ff:20:66:75:6c:6c",
        },
        {"oid": "1.3.6.1.4.1.99999.1.2.0", "type": "Counter64", "value": 2**64 - 1},
    ]


def test_keys_stay_within_the_column() -> None:
    long_oid = "1.3." + ".".join(["4294967295"] * 100)
    alert, _ = TrapRules().alert_for(v2(long_oid), "r1")
    assert len(alert.key) == MAX_KEY
    other, _ = TrapRules().alert_for(v2(long_oid + ".1"), "r1")
    assert other.key != alert.key


def test_a_later_pack_overrides_a_bundled_rule(rules: TrapRules) -> None:
    mine = load_pack_text(
        f"traps:\n  - {{name: myLinkDown, oid: {LINK_DOWN}, severity: critical}}\n", "mine.yaml"
    )
    merged = TrapRules([*rules, *mine])
    rule = merged.rule_for(LINK_DOWN)
    assert rule is not None and (rule.name, rule.pack) == ("myLinkDown", "mine")


# ---- pack validation: file, line, field --------------------------------------------------------

GOOD = """\
name: lab
traps:
  - name: fanDown
    oid: 1.3.6.1.4.1.99999.0.1
    severity: major
    key: "fan:{fan}"
    fields:
      fan: {oid: 1.3.6.1.4.1.99999.1.1, take: index}
"""


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (GOOD.replace("severity: major", "severity: mayor"), r"lab\.yaml:5: .*fanDown.*severity"),
        (
            GOOD.replace("oid: 1.3.6.1.4.1.99999.0.1", "oid: ifDown"),
            r"lab\.yaml:4: .*oid: .*numeric",
        ),
        (GOOD.replace('key: "fan:{fan}"', 'key: "fan:{fann}"'), r"lab\.yaml:6: .*key: .*\{fann\}"),
        (GOOD.replace("    key:", "    colour: red\n    key:"), r"lab\.yaml:6: .*colour"),
        (GOOD.replace("take: index", "take: row"), r"lab\.yaml:7: .*fields: fan: take"),
        (
            GOOD.replace("severity: major", "severity: clear").replace(
                '    key: "fan:{fan}"\n', ""
            ),
            r"lab\.yaml:3: .*key: a clearing rule",
        ),
        (
            GOOD + "  - {name: again, oid: 1.3.6.1.4.1.99999.0.1, severity: info}\n",
            r"lab\.yaml:9: traps\[1\] \(again\): oid: .*already used by fanDown",
        ),
        (GOOD.replace("traps:", "trapz:"), r"lab\.yaml:2: unknown key"),
        (GOOD.replace("    oid:", "   oid:"), r"lab\.yaml:4: YAML error"),
        (
            GOOD.replace("fields:\n      fan:", "fields:\n      uptime:"),
            r"lab\.yaml:7: .*fields: 'uptime'",
        ),
    ],
)
def test_pack_errors_name_file_line_and_field(text: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        load_pack_text(text, "lab.yaml")


def test_a_good_pack_loads() -> None:
    (rule,) = load_pack_text(GOOD, "lab.yaml")
    assert (rule.pack, rule.name, rule.severity, rule.key) == (
        "lab",
        "fanDown",
        Severity.MAJOR,
        "fan:{fan}",
    )


# ---- settings and users ------------------------------------------------------------------------


def test_settings_defaults_and_checks() -> None:
    default = TrapSettings.parse({})
    assert (default.address, default.port, default.communities) == ("0.0.0.0", 162, {b"public"})
    assert TrapSettings.parse({"communities": "a, b"}).communities == {b"a", b"b"}
    assert TrapSettings.parse({"communities": ["*"]}).communities is None
    with pytest.raises(ValidationError, match="port"):
        TrapSettings.parse({"port": 70000})
    with pytest.raises(ValidationError, match="rate"):
        TrapSettings.parse({"rate": 0})


def test_users_are_checked() -> None:
    user = TrapUser.of(("ops", "SHA", "authsecret", "AES", "privsecret", "0x8000000001020304"))
    assert (user.auth_protocol, user.priv_protocol, user.engine_id) == (
        "sha",
        "aes",
        bytes.fromhex("8000000001020304"),
    )
    with pytest.raises(ValidationError, match="auth protocol 'sha1'"):
        TrapUser.of(("ops", "sha1", "authsecret", "none", None))
    with pytest.raises(ValidationError, match="privacy needs authentication"):
        TrapUser.of(("ops", "none", None, "aes", "privsecret"))
    with pytest.raises(ValidationError, match="8 characters"):
        TrapUser.of(("ops", "sha", "short", "none", None))
    with pytest.raises(ValidationError, match="5 to 32 octets"):
        TrapUser.of(("ops", "sha", "authsecret", "none", None, "0102"))


# ---- the BER codec against pysnmp's ----------------------------------------------------------


def _v2c_message(pdu: Any, community: bytes = b"public") -> bytes:
    message = V2C.Message()
    V2C.apiMessage.set_defaults(message)
    V2C.apiMessage.set_community(message, community)
    V2C.apiMessage.set_pdu(message, pdu)
    return bytes(encoder.encode(message))


def v2c_trap(trap_oid: str, *varbinds: tuple[str, Any], inform: bool = False) -> bytes:
    pdu = V2C.InformRequestPDU() if inform else V2C.TrapPDU()
    V2C.apiTrapPDU.set_defaults(pdu)
    V2C.apiTrapPDU.set_varbinds(
        pdu,
        [
            (SYS_UPTIME, rfc1902.TimeTicks(4200)),
            (SNMP_TRAP_OID, rfc1902.ObjectIdentifier(trap_oid)),
            *((oid, value) for oid, value in varbinds),
        ],
    )
    return _v2c_message(pdu)


def v1_trap(generic: int, specific: int = 0, enterprise: str = "1.3.6.1.4.1.8072") -> bytes:
    pdu = V1.TrapPDU()
    V1.apiTrapPDU.set_defaults(pdu)
    V1.apiTrapPDU.set_enterprise(pdu, enterprise)
    V1.apiTrapPDU.set_agent_address(pdu, "10.1.2.3")
    V1.apiTrapPDU.set_generic_trap(pdu, generic)
    V1.apiTrapPDU.set_specific_trap(pdu, specific)
    V1.apiTrapPDU.set_timestamp(pdu, 99)
    V1.apiTrapPDU.set_varbinds(pdu, [(IF_INDEX + ".5", rfc1902.Integer32(5))])
    message = V1.Message()
    V1.apiMessage.set_defaults(message)
    V1.apiMessage.set_community(message, "public")
    V1.apiMessage.set_pdu(message, pdu)
    return bytes(encoder.encode(message))


def test_decodes_pysnmp_v2c_traps_and_informs() -> None:
    wire = v2c_trap(
        LINK_DOWN,
        (IF_INDEX + ".3", rfc1902.Integer32(3)),
        ("1.3.6.1.2.1.2.2.1.2.3", rfc1902.OctetString(b"ge-0/0/3")),
    )
    n = decode_notification(wire)
    assert (n.version, n.community, n.pdu) == (1, b"public", TRAP_V2)
    assert [vb.oid for vb in n.varbinds] == [
        SYS_UPTIME,
        SNMP_TRAP_OID,
        IF_INDEX + ".3",
        "1.3.6.1.2.1.2.2.1.2.3",
    ]
    assert n.varbinds[1].value == LINK_DOWN and n.varbinds[3].value == b"ge-0/0/3"
    assert decode_notification(v2c_trap(LINK_UP, inform=True)).pdu == INFORM


def test_decodes_pysnmp_v1_traps() -> None:
    n = decode_notification(v1_trap(6, 17, "1.3.6.1.4.1.9.9.43"))
    assert (n.version, n.pdu, n.enterprise, n.agent_address) == (
        0,
        TRAP_V1,
        "1.3.6.1.4.1.9.9.43",
        "10.1.2.3",
    )
    assert (n.generic_trap, n.specific_trap, n.timestamp) == (6, 17, 99)
    assert n.varbinds == [VarBind(IF_INDEX + ".5", "Integer32", 5)]


def test_inform_response_decodes_with_pysnmp() -> None:
    wire = v2c_trap(LINK_UP, (IF_INDEX + ".3", rfc1902.Integer32(3)), inform=True)
    inform = decode_notification(wire)
    message, rest = decoder.decode(encode_inform_response(inform), asn1Spec=V2C.Message())
    assert rest == b""
    pdu = V2C.apiMessage.get_pdu(message)
    assert pdu.tagSet == V2C.ResponsePDU.tagSet
    assert int(V2C.apiPDU.get_request_id(pdu)) == inform.request_id
    assert int(V2C.apiPDU.get_error_status(pdu)) == 0
    assert [str(oid) for oid, _ in V2C.apiPDU.get_varbinds(pdu)] == [
        vb.oid for vb in inform.varbinds
    ]


def test_requests_are_not_notifications() -> None:
    pdu = V2C.GetRequestPDU()
    V2C.apiPDU.set_defaults(pdu)
    V2C.apiPDU.set_varbinds(pdu, [(SYS_UPTIME, V2C.null)])
    with pytest.raises(BerError, match="not a notification"):
        decode_notification(_v2c_message(pdu))


# ---- fuzz: the decoder and the receiver's datagram path --------------------------------------

SAMPLES = [
    v2c_trap(LINK_DOWN, (IF_INDEX + ".3", rfc1902.Integer32(3))),
    v2c_trap("1.3.6.1.4.1.9.9.43.2.0.1", inform=True),
    v1_trap(2),
    v1_trap(6, 3),
]


def _mutations() -> st.SearchStrategy[bytes]:
    def mutate(sample: bytes, cut: int, flips: list[tuple[int, int]]) -> bytes:
        data = bytearray(sample[: max(0, min(cut, len(sample)))])
        for pos, value in flips:
            if data:
                data[pos % len(data)] = value
        return bytes(data)

    return st.builds(
        mutate,
        st.sampled_from(SAMPLES),
        st.integers(0, 200),
        st.lists(st.tuples(st.integers(0, 199), st.integers(0, 255)), max_size=4),
    )


@settings(max_examples=600, deadline=None)
@given(st.one_of(st.binary(max_size=300), _mutations()))
def test_decoder_never_crashes(data: bytes) -> None:
    try:
        n = decode_notification(data)
    except BerError as exc:
        reason = str(exc)
    else:
        assert n.version in (0, 1) and n.pdu in (TRAP_V1, TRAP_V2, INFORM)
        return
    assert reason  # a clear reason, and nothing but BerError escapes


class _Sink:
    def __init__(self) -> None:
        self.alerts: list[Any] = []

    async def __call__(self, batch: Any) -> None:
        self.alerts.extend(batch)


@settings(
    max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.one_of(st.binary(max_size=300), _mutations()))
def test_receiver_counts_every_datagram_and_never_raises(rules: TrapRules, data: bytes) -> None:
    receiver = TrapReceiver({"rate": 1e9, "burst": 1e9}, _Sink(), lambda address: None, rules=rules)
    receiver.datagram(data, ("127.0.0.1", 40000))
    c = receiver.counters
    assert c.received == 1
    assert c.matched + c.unknown + c.rejected == 1
    if c.rejected:
        (item,) = receiver.recent.items()
        assert item["kind"] == "rejected" and item["reason"]
