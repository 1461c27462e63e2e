"""Logs of the service and the jobs: timestamped lines on stderr, one JSON object per line with
LEDGER_LOG_FORMAT=json, each carrying the ID of the HTTP request that caused it.

The request ID lives in a context variable: set by `RequestIds` for the request's task, it is
copied into the threads that run its synchronous handlers (Starlette runs them with the
caller's context), so every line a request causes names it, whichever logger writes it.
"""

from __future__ import annotations

import logging
import os
import re
import sys
import uuid
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

request_id: ContextVar[str | None] = ContextVar("request_id", default=None)

REQUEST_ID_HEADER = "x-request-id"
# A caller's own ID is kept (a proxy's, so both logs name one request) if it is short and plain:
# it is written into every log line, so nothing that could forge a line or carry a secret.
_ACCEPTED_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")
# The application's loggers and the server's: configured here, so their messages are not lost.
LOGGERS = ("ledger", "projections", "api", "readers", "uvicorn", "uvicorn.error",
           "uvicorn.access", "apscheduler")
# Libraries that narrate every step at INFO (each migration step, each job added): warnings only.
QUIET = ("yoyo", "apscheduler")
_MARK = "_ledger_handler"


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC, ISO 8601), level, logger, message, request_id when
    a request caused it, and the traceback of an exception as one string."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "pid": record.process,
        }
        rid = getattr(record, "request_id", None)
        if rid:
            entry["request_id"] = rid
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(entry, default=str).decode()


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s%(rid)s %(message)s")

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        return datetime.fromtimestamp(record.created).astimezone().isoformat(
            timespec="milliseconds")

    def format(self, record: logging.LogRecord) -> str:
        rid = getattr(record, "request_id", None)
        record.rid = f" [{rid}]" if rid else ""
        return super().format(record)


def configure_logging(log_format: str | None = None, level: str | None = None) -> None:
    """Send the application's and the server's loggers to stderr in the configured format
    (LEDGER_LOG_FORMAT: text or json; LEDGER_LOG_LEVEL: INFO). Idempotent: a second call
    replaces the handler it installed, so a process never prints a line twice."""
    chosen = (log_format or os.environ.get("LEDGER_LOG_FORMAT") or "text").lower()
    if chosen not in ("text", "json"):
        raise ValueError(f"LEDGER_LOG_FORMAT must be text or json, not {chosen!r}")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if chosen == "json" else TextFormatter())
    handler.addFilter(RequestIdFilter())
    setattr(handler, _MARK, True)
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, _MARK, False)]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel((level or os.environ.get("LEDGER_LOG_LEVEL") or "INFO").upper())
    for name in LOGGERS:
        logger = logging.getLogger(name)
        # uvicorn's own config (when it ran first) gives its loggers handlers of their own.
        logger.handlers.clear()
        logger.propagate = True
        logger.setLevel(logging.NOTSET)
    for name in QUIET:
        logging.getLogger(name).setLevel(logging.WARNING)


class RequestIds:
    """ASGI middleware: a request ID per HTTP request (the caller's X-Request-ID if plain, else
    a new one), set for every log line the request causes and answered in X-Request-ID."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = next((value.decode("latin-1") for name, value in scope["headers"]
                      if name == REQUEST_ID_HEADER.encode()), "")
        rid = given if _ACCEPTED_ID.fullmatch(given) else uuid.uuid4().hex
        token = request_id.set(rid)

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []),
                                      (REQUEST_ID_HEADER.encode(), rid.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            request_id.reset(token)
