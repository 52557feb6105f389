"""After the decision: the review queue and its cases, and the daily monitoring figures."""
