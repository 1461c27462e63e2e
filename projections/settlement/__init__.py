"""Nightly settlement: the jobs' scheduler, runs, locks, files and read models."""
