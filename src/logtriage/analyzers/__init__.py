"""Analyzers: one module per finding code, each reading canonical tables and returning findings."""

from __future__ import annotations

from logtriage.analyzers.attack_probes import AttackProbes
from logtriage.analyzers.base import Analyzer
from logtriage.analyzers.capacity_profile import CapacityProfile
from logtriage.analyzers.checkpoint_pressure import CheckpointPressure
from logtriage.analyzers.clock_skew import ClockSkew
from logtriage.analyzers.database_errors import DatabaseErrors
from logtriage.analyzers.duplicate_queries import DuplicateQueries
from logtriage.analyzers.error_burst import ErrorBurst
from logtriage.analyzers.error_prone_route import ErrorProneRoute
from logtriage.analyzers.heavy_query import HeavyQuery
from logtriage.analyzers.log_gap import LogGap
from logtriage.analyzers.missing_field import MissingField
from logtriage.analyzers.n_plus_one_queries import NPlusOneQueries
from logtriage.analyzers.partial_database_log import PartialDatabaseLog
from logtriage.analyzers.repeated_query_sequence import RepeatedQuerySequence
from logtriage.analyzers.sampled_or_truncated_log import SampledOrTruncatedLog
from logtriage.analyzers.scan_heavy_query import ScanHeavyQuery
from logtriage.analyzers.secret_in_logs import SecretInLogs
from logtriage.analyzers.slow_request_pattern import SlowRequestPattern
from logtriage.analyzers.slow_route import SlowRoute
from logtriage.analyzers.uncorrelated_queries import UncorrelatedQueries
from logtriage.analyzers.unparsed_input import UnparsedInput

# Built-in analyzers, one per finding code. A code is permanent and never reused.
BUILTIN_ANALYZERS: tuple[Analyzer, ...] = (
    NPlusOneQueries(),
    RepeatedQuerySequence(),
    SlowRequestPattern(),
    SlowRoute(),
    HeavyQuery(),
    ScanHeavyQuery(),
    ErrorProneRoute(),
    DatabaseErrors(),
    UnparsedInput(),
    MissingField(),
    UncorrelatedQueries(),
    LogGap(),
    PartialDatabaseLog(),
    ClockSkew(),
    SampledOrTruncatedLog(),
    DuplicateQueries(),
    SecretInLogs(),
    AttackProbes(),
    CapacityProfile(),
    CheckpointPressure(),
    ErrorBurst(),
)


def analyzer_by_code(code: str) -> Analyzer | None:
    """The analyzer registered under ``code`` (case-insensitive), or None."""
    wanted = code.upper()
    return next((a for a in BUILTIN_ANALYZERS if a.code == wanted or a.name == code), None)
