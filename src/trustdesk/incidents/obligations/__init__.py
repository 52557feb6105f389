"""Incidents: obligations."""
