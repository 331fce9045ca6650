"""The v1/v2c BER codec against pysnmp's own (pyasn1) codec, and against garbage."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pyasn1.codec.ber import decoder, encoder
from pysnmp.proto import api, rfc1902

from opsconductor_desktop.drivers.snmp_ber import BerError, decode_response, encode_request

V2C = api.PROTOCOL_MODULES[api.SNMP_VERSION_2C]
OIDS = [(1, 3, 6, 1, 2, 1, 1, 1, 0), (1, 3, 6, 1, 4, 1, 9, 9, 999999, 1, 2**32 - 1)]


def test_requests_decode_with_pysnmp() -> None:
    wire = encode_request(1, b"public", "get", 12345, [(oid, None) for oid in OIDS])
    message, rest = decoder.decode(wire, asn1Spec=V2C.Message())
    assert rest == b""
    assert str(V2C.apiMessage.get_community(message)) == "public"
    pdu = V2C.apiMessage.get_pdu(message)
    assert int(V2C.apiPDU.get_request_id(pdu)) == 12345
    assert [tuple(oid) for oid, _ in V2C.apiPDU.get_varbinds(pdu)] == OIDS
    bulk = encode_request(1, b"c", "bulk", -7, [(OIDS[0], None)], max_repetitions=25)
    message, _ = decoder.decode(bulk, asn1Spec=V2C.Message())
    pdu = V2C.apiMessage.get_pdu(message)
    assert int(V2C.apiBulkPDU.get_max_repetitions(pdu)) == 25
    assert int(V2C.apiPDU.get_request_id(pdu)) == -7


VALUES = [
    (rfc1902.OctetString(b"\x00\xffbinary"), "OctetString", b"\x00\xffbinary"),
    (rfc1902.Integer32(-42), "Integer32", -42),
    (rfc1902.Counter32(2**32 - 1), "Counter32", 2**32 - 1),
    (rfc1902.Counter64(2**64 - 1), "Counter64", 2**64 - 1),
    (rfc1902.Gauge32(7), "Gauge32", 7),
    (rfc1902.TimeTicks(123456), "TimeTicks", 123456),
    (rfc1902.IpAddress("10.1.2.3"), "IpAddress", "10.1.2.3"),
    (rfc1902.ObjectIdentifier("1.3.6.1.4.1.8072"), "ObjectIdentifier", "1.3.6.1.4.1.8072"),
]


@pytest.mark.parametrize(("value", "type_name", "python"), VALUES)
def test_responses_encoded_by_pysnmp_decode_here(
    value: object, type_name: str, python: object
) -> None:
    message = V2C.Message()
    V2C.apiMessage.set_defaults(message)
    V2C.apiMessage.set_community(message, "public")
    pdu = V2C.GetResponsePDU()
    V2C.apiPDU.set_defaults(pdu)
    V2C.apiPDU.set_request_id(pdu, 99)
    V2C.apiPDU.set_varbinds(pdu, [((1, 3, 6, 1, 2, 1, 1, 5, 0), value)])
    V2C.apiMessage.set_pdu(message, pdu)
    decoded = decode_response(encoder.encode(message))
    assert (decoded.version, decoded.community, decoded.request_id) == (1, b"public", 99)
    (vb,) = decoded.varbinds
    assert (vb.oid, vb.type, vb.value) == ("1.3.6.1.2.1.1.5.0", type_name, python)


def test_exception_values_and_errors() -> None:
    message = V2C.Message()
    V2C.apiMessage.set_defaults(message)
    pdu = V2C.GetResponsePDU()
    V2C.apiPDU.set_defaults(pdu)
    V2C.apiPDU.set_varbinds(pdu, [((1, 3, 6, 1), None)])
    V2C.apiPDU.set_no_such_instance_error(pdu, 1)
    V2C.apiMessage.set_pdu(message, pdu)
    (vb,) = decode_response(encoder.encode(message)).varbinds
    assert vb.type == "noSuchInstance"
    assert not vb.exists


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=200))
def test_garbage_is_a_clear_rejection(data: bytes) -> None:
    try:
        decode_response(data)
    except BerError:
        return


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 200), st.binary(min_size=1, max_size=4))
def test_mutated_answers_never_crash(position: int, patch: bytes) -> None:
    wire = bytearray(encode_request(1, b"public", "get", 1, [(oid, None) for oid in OIDS]))
    wire[0x0F] = 0xA2  # make it look like a response, then damage it
    start = position % len(wire)
    wire[start : start + len(patch)] = patch
    try:
        decode_response(bytes(wire))
    except BerError:
        return
