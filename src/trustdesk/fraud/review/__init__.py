"""After the decision: daily monitoring figures of the decisions."""
