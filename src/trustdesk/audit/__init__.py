"""Hash-chained, append-only audit trail shared by every capability."""

from trustdesk.audit.chain import AuditEntry, ChainReport, diff, entries, record, verify

__all__ = ["AuditEntry", "ChainReport", "diff", "entries", "record", "verify"]
