# ruff: noqa: SIM300 - DESIGN.md: tests read `assert expected == actual`
from __future__ import annotations

import io
import json

import structlog

from tierwise.sync.logging import REDACTED, Redactor, configure_logging

CANARY = "canary-SECRET-3b8f0c2d9e7a6152"


def test_a_secret_and_its_long_prefixes_are_scrubbed() -> None:
    scrub = Redactor([CANARY]).scrub
    assert f"token {REDACTED} rejected" == scrub(f"token {CANARY} rejected")
    assert f"Bearer {REDACTED}…" == scrub(f"Bearer {CANARY[:12]}…")
    assert "short canary prefix stays: canary" == scrub("short canary prefix stays: canary")


def test_json_lines_carry_the_run_id_and_never_a_secret_even_in_tracebacks() -> None:
    out = io.StringIO()
    configure_logging("json", "INFO", [CANARY], stream=out)
    structlog.contextvars.bind_contextvars(run_id="r-123")
    try:
        log = structlog.get_logger("t")
        log.info("auth.start", header=f"Bearer {CANARY}")
        try:
            token = CANARY  # a local a rich traceback would print
            raise RuntimeError(f"rejected {token[:20]}")
        except RuntimeError:
            log.exception("auth.failed")
    finally:
        structlog.contextvars.clear_contextvars()
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert ["auth.start", "auth.failed"] == [line["event"] for line in lines]
    assert {"r-123"} == {line["run_id"] for line in lines}
    assert CANARY[:8] not in out.getvalue()
    assert "RuntimeError" in lines[1]["exception"]
