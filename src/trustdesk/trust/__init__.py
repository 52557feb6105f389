"""Trust: the trust index, its drivers and alerts, computed from pluggable signals."""

__all__: list[str] = []
