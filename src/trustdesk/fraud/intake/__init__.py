"""What comes in about payments after scoring: bulk files of payments and late labels, and the
outcomes of step-up challenges."""
