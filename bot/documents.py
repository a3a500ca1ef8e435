"""The charts and spreadsheets the core asks for (`bot.core.ports.Documents`), made with
matplotlib (`bot/charts.py`, `bot/survey_charts.py`) and the exports' writers
(`bot/exports/`): the services layer, above the core."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

# The charts and the spreadsheet writers load on first use: the bot starts without them.
if TYPE_CHECKING:
    from bot.core.ports import ChartTexts, Distribution, Panel
    from bot.core.surveys import Loaded, SurveyService
    from storage import Store
    from storage.models import Member


class Documents:
    """Charts and spreadsheets over one store (and its database file, read by the exports'
    worker threads)."""

    def __init__(self, store: Store, database: Path) -> None:
        self.store = store
        self.database = database

    def progress_chart(self, panels: Sequence[Panel], texts: ChartTexts,
                       language: str) -> bytes:
        from bot import charts

        return charts.progress_chart(panels, texts, language)

    def distribution_chart(self, panels: Sequence[Distribution], groups: Sequence[str],
                           language: str, title: str) -> bytes:
        from bot import survey_charts

        return survey_charts.distribution_chart(panels, groups, language, title)

    async def workbook(self, surveys: SurveyService, reader: Member, out: Path,
                       project_ids: Sequence[int]) -> int:
        from bot.exports import survey_wide
        from bot.exports.spreadsheets import write_xlsx
        from bot.exports.tables import Scope

        sheets = await survey_wide.survey_sheets(self.store, surveys, reader, reader.timezone)
        return await asyncio.to_thread(write_xlsx, self.database, out,
                                       Scope(project_ids=tuple(project_ids)), reader.timezone,
                                       None, sheets)

    async def survey_answers(self, loaded: Loaded, reader: Member, members: set[int] | None,
                             title: str) -> tuple[bytes, int]:
        from bot.exports import survey_wide

        sheets = await survey_wide.readable_sheets(self.store, loaded.definition,
                                                   loaded.campaign.id, reader.language,
                                                   reader.timezone, members, title)
        content = await asyncio.to_thread(survey_wide.xlsx_bytes, sheets)
        return content, len(sheets[0].rows)
