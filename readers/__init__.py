"""The gate reader agent: PC/SC card monitor → durable local spool → uploader → ledger."""
