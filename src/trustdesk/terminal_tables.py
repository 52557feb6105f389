"""Command-line tables that fit the terminal (80 columns and up) without cutting what matters.

Rich, left alone, squeezes every column of a too-wide table and cuts headers and values with "…"
(an 80-column `alerts list` read "segme…", `customers list` cut the ids other commands take).
Here the widths are decided before Rich draws: key columns (ids another command needs) keep
their full width and never wrap, headers are never cut, other values wrap; when even that does
not fit, the least needed columns are left out, and a note names them and `--wide`, which
prints every column at full width whatever the terminal.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from rich.console import Console
from rich.table import Table
from rich.text import Text

__all__ = ["Col", "print_table"]

# A wrapped column gets at least this many characters (if it has them), then fewer, before a
# column is left out; below the longest word of its header it never goes.
_NARROWEST_WRAPS = (8, 6, 4, 1)


@dataclass(frozen=True)
class Col:
    """A column: `key` for ids other commands take (never wrapped or cut); `wrap=False` for short
    values that read badly broken (numbers, dates); `drop` > 0 for a column that may be left out
    of a narrow terminal, the highest `drop` first."""

    header: str
    key: bool = False
    drop: int = 0
    justify: Literal["left", "right"] = "left"
    wrap: bool = True


def _longest_word(text: str) -> int:
    return max((len(word) for word in text.split()), default=0)


def _widths(
    columns: Sequence[Col], rows: Sequence[Sequence[str | Text]], room: int, narrowest: int
) -> list[int] | None:
    """Each column's width so the table fits `room` characters of content, or None."""
    natural = [max([len(c.header), *(len(str(r[i])) for r in rows)]) for i, c in enumerate(columns)]
    if sum(natural) <= room:
        return natural
    least = [
        natural[i]
        if c.key or not c.wrap
        else max(_longest_word(c.header), min(natural[i], narrowest))
        for i, c in enumerate(columns)
    ]
    if sum(least) > room:
        return None
    widths = list(least)
    spare = room - sum(widths)
    while spare > 0:  # to the column missing most of its natural width, one at a time
        i = max(range(len(widths)), key=lambda j: natural[j] - widths[j])
        if natural[i] <= widths[i]:
            break
        widths[i] += 1
        spare -= 1
    return widths


def print_table(
    console: Console,
    columns: Sequence[Col],
    rows: Sequence[Sequence[str | Text]],
    *,
    wide: bool = False,
) -> list[str]:
    """Print the table within the console's width (or, `wide`, every column at full width);
    returns the headers of the columns left out."""
    shown = list(range(len(columns)))

    def room_for(n: int) -> int:  # the console's width less the box edges and padding
        return console.width - 1 - 3 * n

    def fit(narrowest: int) -> list[int] | None:
        return _widths(
            [columns[i] for i in shown],
            [[r[i] for i in shown] for r in rows],
            room_for(len(shown)),
            narrowest,
        )

    widths = None if wide else fit(_NARROWEST_WRAPS[0])
    if not wide:
        # Leave out the least needed columns first, then let the others wrap narrower.
        droppable = sorted((c.drop, i) for i, c in enumerate(columns) if c.drop > 0)
        while widths is None and droppable:
            shown.remove(droppable.pop()[1])
            widths = fit(_NARROWEST_WRAPS[0])
        for narrowest in _NARROWEST_WRAPS[1:]:
            widths = widths or fit(narrowest)
    table = Table(expand=False)
    for n, i in enumerate(shown):
        column = columns[i]
        width = widths[n] if widths is not None else None
        table.add_column(
            column.header,
            justify=column.justify,
            no_wrap=column.key or not column.wrap or wide,
            overflow="fold",
            width=width,
            min_width=None if width is not None else len(column.header),
        )
    for row in rows:
        table.add_row(*(row[i] for i in shown))
    if wide:  # as wide as the widest value needs, whatever the terminal (lines may run on)
        natural = _widths(columns, rows, 10**9, 0) or []
        saved = console.width
        console.width = max(saved, sum(natural) + 1 + 3 * len(natural))
        try:
            console.print(table, crop=False)
        finally:
            console.width = saved
    else:
        console.print(table)
    left_out = [columns[i].header for i in range(len(columns)) if i not in shown]
    if left_out:
        console.print(
            f"(not shown at this width: {', '.join(left_out)}; --wide shows every column)",
            markup=False,
            highlight=False,
        )
    return left_out
