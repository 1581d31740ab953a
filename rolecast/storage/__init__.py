"""The profile store: every scored step, durable as soon as it is produced.

SQLite by default (zero set-up), PostgreSQL when a team or a scheduled job shares
profiles. See :class:`ProfileStore` for the contract.
"""

from rolecast.storage._bulk import BulkResult
from rolecast.storage._url import discard_new_sqlite_on_failure
from rolecast.storage.records import (
    AgentRunRecord,
    RunRecord,
    StepKey,
    StepOutcome,
    StepRecord,
)
from rolecast.storage.store import ProfileStore, resolve_db_url

__all__ = [
    "AgentRunRecord",
    "BulkResult",
    "ProfileStore",
    "RunRecord",
    "StepKey",
    "StepOutcome",
    "StepRecord",
    "discard_new_sqlite_on_failure",
    "resolve_db_url",
]
