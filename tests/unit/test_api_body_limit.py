"""The body limit, as ASGI: declared or counted, a body over the limit never reaches the app."""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
from starlette.types import Message, Receive, Scope, Send

from api.body_limit import BodySizeLimit


async def reading_app(scope: Scope, receive: Receive, send: Send) -> None:
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"read %d" % len(body)})


def call(chunks: list[bytes], headers: list[tuple[bytes, bytes]]) -> list[Message]:
    scope: dict[str, Any] = {"type": "http", "method": "POST", "path": "/", "headers": headers}
    incoming = [{"type": "http.request", "body": c, "more_body": i < len(chunks) - 1}
                for i, c in enumerate(chunks)]
    sent: list[Message] = []

    async def receive() -> Message:
        return incoming.pop(0) if incoming else {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)

    asyncio.run(BodySizeLimit(reading_app, max_bytes=10)(scope, receive, send))
    return sent


def status_and_body(sent: list[Message]) -> tuple[int, bytes]:
    return sent[0]["status"], b"".join(m.get("body", b"") for m in sent[1:])


def test_a_body_within_the_limit_reaches_the_app() -> None:
    assert status_and_body(call([b"12345", b"67890"], [(b"content-length", b"10")])) == (
        200, b"read 10")


def test_a_declared_length_over_the_limit_is_refused_before_reading() -> None:
    status, body = status_and_body(call([b"x" * 11], [(b"content-length", b"11")]))
    assert status == 413
    assert orjson.loads(body)["type"] == "urn:ccus-ledger:problem:content-too-large"


def test_an_undeclared_body_is_counted_as_it_arrives() -> None:
    status, body = status_and_body(call([b"123456", b"789012"], []))
    assert status == 413
    assert orjson.loads(body)["field"] == "body"
