"""Incidents and breach response: the register, affected customers, legal clocks, notices."""
