"""End-to-end tests: real processes (uvicorn, pcscd) on 127.0.0.1."""
