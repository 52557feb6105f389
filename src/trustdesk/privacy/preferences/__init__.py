"""The customer-facing preference centre: consent choices, a download of their data and an
erasure request, opened by a signed link."""
