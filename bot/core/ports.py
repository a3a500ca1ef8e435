"""What the core asks for without making it itself: charts and spreadsheets.

Drawing (matplotlib) and writing workbooks (the exports' writers) live above the core, in the
services layer; the running bot hands the core one `Documents` (`bot/documents.py`), so that
the core imports no chart, no export writer and no channel. The data the core gives them
(panels, the words on a chart) is defined here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from storage.models import Member

if TYPE_CHECKING:
    from bot.core.surveys import Loaded, SurveyService


@dataclass(frozen=True)
class Panel:
    """One indicator's values over the periods, for a progress chart."""

    title: str  # already translated, e.g. "Households connected (households)"
    points: Sequence[tuple[date, float]]
    target: float | None = None
    kind: str = "decimal"  # integer: whole ticks; percent: ticks and labels with %


@dataclass(frozen=True)
class ChartTexts:
    """The words on the chart, translated by the caller."""

    title: str
    target: str  # legend of the target line
    no_data: str


# One closed question's distribution: its title, the choices' labels, and per side (name,
# count per choice, how many answered it).
Series = tuple[str, Sequence[int]] | tuple[str, Sequence[int], int]
Distribution = tuple[str, Sequence[str], Sequence[Series]]


class Documents(Protocol):
    """Charts as PNG images and spreadsheets, made outside the core."""

    def progress_chart(self, panels: Sequence[Panel], texts: ChartTexts,
                       language: str) -> bytes:
        """One panel per indicator (values over periods, target dashed), as a PNG."""

    def distribution_chart(self, panels: Sequence[Distribution], groups: Sequence[str],
                           language: str, title: str) -> bytes:
        """The answers' counts per choice, the sides side by side, as a PNG."""

    async def workbook(self, surveys: SurveyService, reader: Member, out: Path,
                       project_ids: Sequence[int]) -> int:
        """Write everything `reader` may see in these projects (reports, values, attachments,
        survey answers) as XLSX at `out`; return the number of data rows."""

    async def survey_answers(self, loaded: Loaded, reader: Member, members: set[int] | None,
                             title: str) -> tuple[bytes, int]:
        """A campaign's submitted answers of `members` (None: all) wide, as the reader reads
        them (labels, their language, dates in their zone), as XLSX bytes, with the number of
        responses."""
