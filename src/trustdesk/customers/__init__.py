"""Customers: the one customer model every capability shares."""

__all__: list[str] = []
