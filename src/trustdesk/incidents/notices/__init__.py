"""Incidents: notices."""
