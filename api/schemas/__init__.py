"""Request and response bodies: what a client may send (…Create) and what it sees (…Public)."""
