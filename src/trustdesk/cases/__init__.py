"""Complaint cases: intake, routing, work, SLA clocks and figures."""

from trustdesk.cases import counts as counts  # registers the flush hook that keeps case_counts
