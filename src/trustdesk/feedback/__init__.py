"""Feedback: intake from every channel, encrypted text, offline sentiment and trust topics."""

__all__: list[str] = []
