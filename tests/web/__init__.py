"""Browser tests of the web app: real headless Chromium (Debian's `chromium`, driven by
Playwright) against a real `ledger serve` on 127.0.0.1."""
