"""Retention enforced from the data map: each system's `retention_rule` becomes what a daily job
(and `trustdesk retention plan|apply`) does to that system's records once they are old enough."""
