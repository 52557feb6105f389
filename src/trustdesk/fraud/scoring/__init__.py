"""Real-time scoring: the scorer's in-memory engine, trust-aware decisions, the active model and
rule-set versions, and loading and catching up the engine from stored payments."""
