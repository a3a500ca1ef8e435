"""Who may read which person's survey answers: one rule for `/results`, its spreadsheet,
`/export`, `palabre export --as` and `palabre survey export`.

- Only **submitted** answers ever leave a conversation: a questionnaire in progress is the
  person's own draft, exported to nobody (the person sees it in the chat and in /mydata).
- An **administrator** (and the operator's command line without `--as`) reads every submitted
  response.
- A **coordinator** or an **observer** reads the submitted responses of the members of the
  projects they may read, and of their own organisation (`SurveyService.scope_members`: the
  same people `/results` counts).
- Anyone else (a **partner**) reads only their own submitted responses: never the answers of
  the other members of their projects, nor, in a joint evaluation, those of the collectivity.
"""

from __future__ import annotations

from bot.core.surveys import SurveyService
from bot.core.surveys.results import READERS
from storage import Store
from storage.models import Member, SurveyResponse


async def readable_members(surveys: SurveyService, reader: Member | None) -> set[int] | None:
    """The members whose submitted answers `reader` may read (None: everyone's)."""
    if reader is None or reader.role == "admin":
        return None
    if reader.role in READERS:
        return await surveys.scope_members(reader)
    return {reader.id}


async def readable_responses(store: Store, campaign_id: int,
                             members: set[int] | None) -> list[SurveyResponse]:
    """The campaign's submitted responses of `members` (None: all), in the order started."""
    return await store.privacy.submitted_responses(campaign_id, members)
