"""Test support for the gate-reader agent: a virtual card, a private pcscd, a contract server."""
