"""Support for the web app's tests: signing in through the sign-in form as any party, and
reading a page as that party."""

from __future__ import annotations

import re

import httpx
from fastapi.testclient import TestClient

from ledger.actors import Actor
from tests.api_support import Api

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def form_token(html: str) -> str:
    found = CSRF.search(html)
    assert found, "the page has no form token"
    return found.group(1)


class WebSession:
    """One browser's cookies, signed in as `actor` with a key made for it."""

    def __init__(self, client: TestClient, token: str) -> None:
        self.client = client
        self.cookies: dict[str, str] = {}
        form = self.get("/app/signin")
        answer = self.post("/app/signin", {"api_key": token, "csrf_token": form_token(form.text)})
        assert answer.status_code == 303, answer.text
        assert "ledger_session" in self.cookies
        self.signed_in_answer = answer

    @classmethod
    def of(cls, api: Api, actor: Actor) -> WebSession:
        return cls(api.client, api.token(actor))

    def _keep(self, response: httpx.Response) -> httpx.Response:
        for name, value in response.cookies.items():
            self.cookies[name] = value
        for header in response.headers.get_list("set-cookie"):
            if "Max-Age=0" in header or "expires=Thu, 01 Jan 1970" in header:
                self.cookies.pop(header.split("=", 1)[0], None)
        return response

    def _use_cookies(self) -> None:
        """The shared client's jar holds this browser's cookies only."""
        self.client.cookies.clear()
        for name, value in self.cookies.items():
            self.client.cookies.set(name, value)

    def get(self, path: str) -> httpx.Response:
        self._use_cookies()
        return self._keep(self.client.get(path, follow_redirects=False))

    def post(self, path: str, data: dict[str, object]) -> httpx.Response:
        self._use_cookies()
        return self._keep(self.client.post(path, data=data, follow_redirects=False))

    def csrf(self) -> str:
        return form_token(self.get("/app/").text)
