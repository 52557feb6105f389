"""The Dask engine cuts its input into the embedded path's chunks, whatever the partitions."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trustdesk.feedback.file_analysis import _task_pieces


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.integers(0, 40), max_size=12), st.integers(1, 25))
def test_tasks_are_consecutive_runs_of_whole_chunks(lengths, task_rows):
    tasks = _task_pieces(lengths, task_rows)
    rows = [(part, row) for pieces in tasks for part, lo, hi in pieces for row in range(lo, hi)]
    assert rows == [(part, row) for part, n in enumerate(lengths) for row in range(n)]
    sizes = [sum(hi - lo for _, lo, hi in pieces) for pieces in tasks]
    assert all(size == task_rows for size in sizes[:-1])  # so every task starts on a chunk edge
    assert all(0 < size <= task_rows for size in sizes)
    assert all(lo < hi for pieces in tasks for _, lo, hi in pieces)
