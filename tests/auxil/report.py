"""Tables a test prints at the end of the run (pytest's terminal summary), e.g. the
authorisation matrix: shown without `-s`, after the dots."""

from __future__ import annotations

TABLES: list[tuple[str, list[str], list[list[str]]]] = []


def add_table(title: str, header: list[str], rows: list[list[str]]) -> None:
    TABLES.append((title, header, rows))


def render(title: str, header: list[str], rows: list[list[str]]) -> list[str]:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    lines = [title]
    for row in [header, *rows]:
        lines.append(" | ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)))
    return lines
