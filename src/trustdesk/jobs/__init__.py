"""The one job system: scheduled and triggered background work declared in the manifest
(`Capability(jobs=...)`), claimed from the database so several workers share it safely, retried
with back-off, and every run recorded (status, attempt, duration, error). See docs/jobs.md."""
