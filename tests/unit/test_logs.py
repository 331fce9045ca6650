"""Structured logs: JSON lines with correlation ids; registered secrets never appear."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from opsconductor_desktop import logs


@pytest.fixture
def log_file(tmp_path: Path) -> Path:
    path = logs.setup_logging(tmp_path / "logs", level="DEBUG", console_level="CRITICAL")
    yield path
    for handler in list(logging.getLogger().handlers):
        if getattr(handler, "_opsconductor", False):
            logging.getLogger().removeHandler(handler)
            handler.close()


def entries(path: Path) -> list[dict[str, object]]:
    for handler in logging.getLogger().handlers:
        handler.flush()
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_json_lines_with_correlation_id(log_file: Path) -> None:
    log = logging.getLogger("opsconductor.test")
    with logs.operation("import") as cid:
        log.info("imported %d targets", 3, extra={"source": "a.csv"})
    log.warning("outside")
    inside, outside = [e for e in entries(log_file) if e["category"] == "opsconductor.test"]
    assert inside["message"] == "imported 3 targets" and inside["cid"] == cid
    assert inside["extra"] == {"source": "a.csv"}
    assert inside["ts"].endswith("+00:00")  # type: ignore[union-attr]
    assert outside["cid"] == "-" and outside["level"] == "WARNING"


def test_traceback_kept_and_secrets_redacted(log_file: Path) -> None:
    logs.redact("hunter2-very-secret")
    log = logging.getLogger("opsconductor.test")
    try:
        raise RuntimeError("login failed with hunter2-very-secret")
    except RuntimeError:
        log.exception("boom")
    (entry,) = [e for e in entries(log_file) if e["category"] == "opsconductor.test"]
    assert "RuntimeError" in entry["exc"]  # type: ignore[operator]
    assert "hunter2-very-secret" not in log_file.read_text()


def test_short_secrets_are_masked_as_whole_tokens_only() -> None:
    # the registry is process-wide: values no other test registers
    logs.redact("vqk")  # a short community: masked where it stands alone
    logs.redact("s3cret-Passw0rd-vqk")  # a long one: masked wherever it appears
    assert logs.scrub("127.0.0.1 Unavqkable") == "127.0.0.1 Unavqkable"
    assert logs.scrub("community=vqk, user vqk@r1") == "community=***, user ***@r1"
    assert logs.scrub("xs3cret-Passw0rd-vqkx") == "x***x"
    assert logs.mask("token zqj in zqjdef", ["zqj"]) == "token *** in zqjdef"
    assert logs.mask("?token=zq%2Fcd&x", ["zq%2Fcd", ""]) == "?token=***&x"
