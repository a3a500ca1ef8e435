"""Announcements: compose in the chat (or the CLI), target an audience, deliver through the
outbox, and open a dialogue (replies routed back, acknowledgements, reminders). One module per
concern: `audience` (criteria and the picker shared with /survey), `composing` (the draft's
screens, preview, confirmation), `outbox` (the state machine the transport's sender drives, and
what recipients see), `follow_up` (the author's view, acknowledgements, answers), `service`
(all of them, and the buttons' entry point).
"""

from bot.core.announcements.audience import (
    CRITERIA,
    Audience,
    AudienceError,
    AudiencePicker,
    country_name,
    replace_projects,
)
from bot.core.announcements.base import (
    AUTHORS,
    MAX_ATTEMPTS,
    MAX_CAPTION,
    MAX_TEXT,
    REPLY_WINDOW,
    Sending,
    choose_text,
)
from bot.core.announcements.composing import parse_moment
from bot.core.announcements.outbox import quiet_hours
from bot.core.announcements.picker_refs import PickerRefs
from bot.core.announcements.service import AnnouncementService

__all__ = ["AUTHORS", "CRITERIA", "MAX_ATTEMPTS", "MAX_CAPTION", "MAX_TEXT", "REPLY_WINDOW",
           "AnnouncementService", "Audience", "AudienceError", "AudiencePicker", "PickerRefs",
           "Sending", "choose_text", "country_name", "parse_moment", "quiet_hours",
           "replace_projects"]
