"""Hash-chained, append-only audit trail shared by every capability."""

from trustdesk.audit.chain import (
    AuditEntry,
    ChainReport,
    Change,
    diff,
    entries,
    kinds,
    newest_entries,
    record,
    record_many,
    verify,
)

__all__ = [
    "AuditEntry",
    "ChainReport",
    "Change",
    "diff",
    "entries",
    "kinds",
    "newest_entries",
    "record",
    "record_many",
    "verify",
]
