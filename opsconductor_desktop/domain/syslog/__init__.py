"""Syslog as devices send it, in pure Python: messages (RFC 3164 and 5424, ``message``),
TCP framing (RFC 6587, ``framing``) and the rule language that turns a message into an
alert (``rules``). The receiver that listens is ``runtime.receivers.syslog``.
"""

from __future__ import annotations

from opsconductor_desktop.domain.syslog.framing import (
    MAX_FRAME,
    MAX_LINE,
    Frame,
    FramingError,
    StreamFramer,
)
from opsconductor_desktop.domain.syslog.message import (
    DEFAULT_SEVERITY,
    FACILITIES,
    SyslogMessage,
    SyslogParseError,
    SyslogSeverity,
    decode,
    facility_number,
    parse,
)
from opsconductor_desktop.domain.syslog.rules import (
    BUILTIN_FIELDS,
    RULE_FIELDS,
    SyslogRule,
    Template,
    evaluate,
    parse_rule,
    summary_of,
)

__all__ = [
    "BUILTIN_FIELDS",
    "DEFAULT_SEVERITY",
    "FACILITIES",
    "MAX_FRAME",
    "MAX_LINE",
    "RULE_FIELDS",
    "Frame",
    "FramingError",
    "StreamFramer",
    "SyslogMessage",
    "SyslogParseError",
    "SyslogRule",
    "SyslogSeverity",
    "Template",
    "decode",
    "evaluate",
    "facility_number",
    "parse",
    "parse_rule",
    "summary_of",
]
