"""The nightly jobs (締め), in one package: each job, their scheduler, runs and locks, the files a
settlement issues, and the tables of what the jobs decided.

A job reads the read models after bringing them up to the head of the log, and records what it
decides through the Ledger's use cases under the SYSTEM actor, like every other writer; the
rules are the settlement aggregates' (``ledger.domain.settlement``). Nothing here writes events.
The scheduler (``projections.jobs.scheduler``) imports the jobs; no job imports the scheduler.
This file imports nothing: importing one module of the package never runs the others.
"""
