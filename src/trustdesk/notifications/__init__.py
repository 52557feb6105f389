"""Staff notifications: subscriptions to alert kinds (trust alerts, overdue privacy requests, the
fraud review queue over a threshold, job failures) by email or signed webhook, turned into outbox
messages idempotently by a scheduled job. See docs/jobs.md."""
