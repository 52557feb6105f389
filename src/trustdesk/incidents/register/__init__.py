"""Incidents: register."""
