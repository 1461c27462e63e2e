"""Logs: the request ID reaches lines logged by a synchronous handler (run in a worker thread)
and by the application's own loggers; JSON lines when configured, timestamped text otherwise."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator

import orjson
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.logs import RequestIds, configure_logging


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def app_that_logs() -> FastAPI:
    app = FastAPI()
    app.add_middleware(RequestIds)

    @app.get("/work")
    def work() -> dict[str, str]:  # sync: Starlette runs it in a worker thread
        logging.getLogger("projections.jobs").info("working on it")
        return {}

    return app


def test_json_lines_carry_the_request_id_from_a_handlers_thread(
    restore_logging: None, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging("json", "INFO")
    with TestClient(app_that_logs()) as client:
        given = client.get("/work", headers={"X-Request-ID": "edge-7"})
        made = client.get("/work")
    logging.getLogger("ledger").info("outside any request")
    lines = [orjson.loads(line) for line in capsys.readouterr().err.splitlines()]
    working = [line for line in lines if line["message"] == "working on it"]
    assert [line["request_id"] for line in working] == [
        "edge-7", made.headers["x-request-id"]]
    assert given.headers["x-request-id"] == "edge-7"
    outside = next(line for line in lines if line["message"] == "outside any request")
    assert "request_id" not in outside and outside["logger"] == "ledger"


def test_text_lines_are_timestamped_and_a_second_configuration_replaces_the_first(
    restore_logging: None, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging("text", "INFO")
    configure_logging("text", "INFO")
    logging.getLogger("projections.follower").warning("lagging")
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d WARNING "
                        r"projections\.follower lagging", err[0])


def test_an_unknown_format_is_refused_naming_the_setting(restore_logging: None) -> None:
    with pytest.raises(ValueError, match="LEDGER_LOG_FORMAT"):
        configure_logging("xml")
