"""Incidents: affected."""
