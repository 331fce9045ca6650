"""Framing of a TCP syslog stream (RFC 6587), detected per frame as the RFC suggests:
a digit starts an octet-counted frame (``MSG-LEN SP SYSLOG-MSG``), anything else runs to
a newline (non-transparent framing). A frame longer than ``max_line`` is cut there (the
rest is skipped) and flagged as truncated; an octet count above ``max_frame`` means the
stream is corrupt (``FramingError``: the connection is closed). When the stream ends,
``close`` gives its unterminated last line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from opsconductor_desktop.domain.errors import ValidationError

MAX_LINE = 8192  # bytes of one message kept; the rest is cut (and counted)
MAX_FRAME = 1 << 20  # an octet count above this means a corrupt stream: the connection ends


class FramingError(ValidationError):
    """A stream that cannot be framed any more (an absurd octet count): close it."""


@dataclass(frozen=True, slots=True)
class Frame:
    """One message's bytes off the stream; ``truncated``: cut at ``max_line``."""

    data: bytes
    truncated: bool = False


_COUNT = re.compile(rb"(\d{1,10})( ?)")


class StreamFramer:
    """Splits a TCP syslog stream into frames; octet counting or newline, per frame."""

    def __init__(self, max_line: int = MAX_LINE, max_frame: int = MAX_FRAME) -> None:
        self.max_line = max_line
        self.max_frame = max_frame
        self._buf = bytearray()
        self._at = 0
        self._skip = 0  # bytes of a long octet-counted frame still to throw away
        self._to_newline = False  # throwing away the rest of a long line

    def feed(self, data: bytes) -> None:
        if self._at and self._at == len(self._buf):
            self._buf.clear()
            self._at = 0
        self._buf += data

    @property
    def pending(self) -> int:
        """Bytes received and not framed yet."""
        return len(self._buf) - self._at

    def next(self) -> Frame | None:
        """The next whole frame, or None until more data comes."""
        buf = self._buf
        if not self._discard():
            return None
        while self._at < len(buf) and buf[self._at] in b"\r\n\x00 \t":
            self._at += 1
        if self._at == len(buf):
            return None
        if 48 <= buf[self._at] <= 57:  # a digit: MSG-LEN SP SYSLOG-MSG
            counted = _COUNT.match(buf, self._at)
            if counted is None:  # pragma: no cover - a digit always matches
                return None
            if counted.group(2) or len(counted.group(1)) == 10:
                return self._counted(counted) if counted.group(2) else self._line()
            if counted.end() == len(buf):
                return None  # the count may go on in the next segment
        return self._line()

    def close(self) -> Frame | None:
        """The stream ended: its unterminated last line, if any (call when ``next`` has
        given every frame). ``FramingError`` when it ended inside an octet-counted frame."""
        if not self._discard():
            return None  # it ended inside the skipped rest of a truncated frame
        tail = bytes(self._buf[self._at :]).strip(b"\r\n\x00 \t")
        self._buf.clear()
        self._at = 0
        if not tail:
            return None
        counted = _COUNT.match(tail)
        if counted is not None and counted.group(2):
            raise FramingError(f"the stream ended inside a frame of {int(counted.group(1))} octets")
        return Frame(tail[: self.max_line], truncated=len(tail) > self.max_line)

    def _discard(self) -> bool:
        """Throw away what a truncated frame left; False while there is more to come."""
        buf = self._buf
        if self._skip:
            n = min(self._skip, len(buf) - self._at)
            self._at += n
            self._skip -= n
            if self._skip:
                return False
        if self._to_newline:
            end = buf.find(b"\n", self._at)
            if end < 0:
                self._at = len(buf)
                return False
            self._at, self._to_newline = end + 1, False
        if self._at > 65536:
            del buf[: self._at]
            self._at = 0
        return True

    def _counted(self, counted: re.Match[bytes]) -> Frame | None:
        size, start = int(counted.group(1)), counted.end()
        if size > self.max_frame:
            raise FramingError(f"octet count {size} exceeds {self.max_frame} bytes")
        keep = min(size, self.max_line)
        if len(self._buf) - start < keep:
            return None
        frame = Frame(bytes(self._buf[start : start + keep]), truncated=size > keep)
        self._at, self._skip = start + keep, size - keep
        return frame

    def _line(self) -> Frame | None:
        buf, at = self._buf, self._at
        end = buf.find(b"\n", at, at + self.max_line + 1)
        if end >= 0:
            self._at = end + 1
            return Frame(bytes(buf[at:end]))
        if len(buf) - at <= self.max_line:
            return None
        self._at, self._to_newline = at + self.max_line, True
        return Frame(bytes(buf[at : at + self.max_line]), truncated=True)
