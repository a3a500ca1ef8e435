"""Which guided flow a member's free input belongs to: the one they touched last.

A partner may have a report draft and a questionnaire open at once (a report left half-way, then
an invitation's Start pressed). Their typed text or file answers the flow they were answering
most recently, never the other one's current question.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from storage import Store
from storage.models import Member

Flow = Literal["report", "survey"]


async def under_way(store: Store, member: Member) -> list[Flow]:
    """The guided flows open for the member, the one touched last first."""
    draft = await store.reports.open_draft(member.id, "report")
    response = await store.surveys.open_response(member.id)
    flows: list[tuple[Flow, datetime]] = []
    if draft is not None:
        flows.append(("report", draft.updated_at))
    if response is not None:
        flows.append(("survey", response.updated_at))
    flows.sort(key=lambda flow: flow[1], reverse=True)
    return [name for name, _when in flows]
