"""Data-subject requests: the queue with its statutory clocks, verification, fulfilment (access
export, verified erasure) and closing."""
