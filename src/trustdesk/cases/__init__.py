"""Complaint cases: intake, routing, work, SLA clocks and figures."""
