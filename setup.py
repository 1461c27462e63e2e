"""Packaging beside pyproject.toml for the one thing its tables cannot say: the top-level
`migrations/` folder ships inside the wheel as the package data of `ledger.migrations`, so an
installed ledger migrates without the source tree (`Settings.migrations_dir` finds it there)."""

from setuptools import find_packages, setup

MIGRATIONS = ["ledger.migrations", "ledger.migrations.postgresql", "ledger.migrations.sqlite"]

setup(
    packages=[*find_packages(include=["ledger*", "projections*", "readers*", "api*"]),
              *MIGRATIONS],
    package_dir={"ledger.migrations": "migrations"},
)
