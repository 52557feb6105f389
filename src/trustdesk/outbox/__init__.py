"""The one transactional outbox: every email, webhook and postal letter TrustDesk sends.

Other capabilities use `trustdesk.outbox.public` only (see docs/outbox.md).
"""
