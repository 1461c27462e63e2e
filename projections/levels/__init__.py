"""能力評価 / レベル判定: a worker's level (1–4) in a trade, from the trade's criteria data.

Pure: the only reads are the criteria and qualification files shipped in this package.
Usage: ``judge(inputs, load_criteria("鉄筋"))``. The data schema is described in README.md.
"""

from projections.levels.criteria import TradeCriteria
from projections.levels.errors import CriteriaError, UnknownTradeError
from projections.levels.gaps import CountedDays, Gap, GapKind, RouteProgress
from projections.levels.inputs import CareerCertificate, HeldQualification, JudgmentInputs
from projections.levels.judgment import CardColour, Judgment, judge
from projections.levels.loader import known_trades, load_criteria, load_criteria_file
from projections.levels.qualifications import FOREMAN_TRAINING, default_registry

__all__ = [
    "FOREMAN_TRAINING",
    "CardColour",
    "CareerCertificate",
    "CountedDays",
    "CriteriaError",
    "Gap",
    "GapKind",
    "HeldQualification",
    "Judgment",
    "JudgmentInputs",
    "RouteProgress",
    "TradeCriteria",
    "UnknownTradeError",
    "default_registry",
    "judge",
    "known_trades",
    "load_criteria",
    "load_criteria_file",
]
