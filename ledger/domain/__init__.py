"""Aggregates of the ledger. Pure: no I/O, time comes in as arguments or from ledger.clock."""
