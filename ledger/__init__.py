"""Write side of the attendance ledger: domain events, aggregates and the Ledger application."""
