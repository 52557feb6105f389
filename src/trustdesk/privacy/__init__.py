"""Privacy: consent."""
