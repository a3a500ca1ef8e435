"""/mydata as a person reads it: a plain text in their language, dates in their time zone,
names instead of the database's numbers (the JSON that goes with it is for a computer)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from babel.dates import format_interval

from bot.core.people import role_name
from bot.core.surveys.answers import show
from bot.core.surveys.forms import Definition, pick
from bot.i18n import (
    LANGUAGE_NAMES,
    N_,
    _,
    format_moment,
    format_number,
    ngettext,
    reader_locale,
)
from storage import Store
from storage.models import Member

KINDS = {"report": N_("report"), "field_update": N_("field update")}
STATUSES = {"submitted": N_("received"), "accepted": N_("accepted"),
            "returned": N_("returned"), "amended": N_("amended")}


def _field(name: str, value: object) -> str:
    return "  " + _("{name}: {value}").format(name=name, value=value)


def _when(value: object, zone: str) -> str:
    if not value:
        return "—"
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return format_moment(moment, zone)


async def my_data_text(store: Store, member: Member, data: dict[str, Any],
                       now: datetime) -> str:
    """Everything in `data` (AccountService.export) written for its person."""
    zone = member.timezone
    language = member.language
    name = member.display_name or ""
    lines = [_("What Palabre keeps about you, {name}").format(name=name),
             _("Written on {date}.").format(date=format_moment(now, zone)), ""]

    lines.append(_("You"))
    organisation = data.get("organisation") or {}
    lines += [_field(_("Name"), name or "—"),
              _field(_("Telegram account"), ("@" + member.username) if member.username
                     else member.telegram_user_id or "—"),
              _field(_("Role"), role_name(member.role)),
              _field(_("Organisation"), organisation.get("name") or "—"),
              _field(_("Language"), LANGUAGE_NAMES.get(language, language)),
              _field(_("Time zone"), zone),
              _field(_("Agreed on"), _when(member.consent_at, zone)),
              "  " + (_("Reminders and announcements: stopped (/start turns them back on).")
                      if member.status == "stopped"
                      else _("Reminders and announcements: on (/stop turns them off)."))]

    lines += ["", _("Projects")]
    lines += [f"  • {p['name'].get(language) or p['name'].get(language.split('_')[0]) or p['id']}"
              if isinstance(p.get("name"), dict) else f"  • {p.get('name') or p['id']}"
              for p in data["projects"]] or ["  —"]

    lines += ["", _("Reports")]
    indicators: dict[str, str] = {}
    for project in await store.network.projects():
        for indicator in await store.network.indicators(project.id):
            indicators[str(indicator.id)] = indicator.name.get(language) or indicator.name.get(
                language.split("_")[0]) or indicator.name.get("fr") or indicator.code
    for report in data["reports"]:
        head = [report["reference"], _(KINDS.get(report["kind"], report["kind"]))]
        if report.get("period") and report["period"][1]:
            start, end = (date.fromisoformat(d) for d in report["period"])
            head.append(format_interval(start, end, "yMMMd", locale=reader_locale()))
        head += [_(STATUSES.get(report["status"], report["status"])),
                 _when(report["submitted_at"], zone)]
        lines.append("  • " + " · ".join(head))
        for indicator, value in report["values"].items():
            lines.append("    " + _("{name}: {value}").format(
                name=indicators.get(indicator, indicator), value=format_number(value)))
        if report.get("narrative"):
            lines.append("    " + _("Narrative: {text}").format(text=f"«{report['narrative']}»"))
        if report["attachments"]:
            lines.append("    " + ngettext("{count} attachment", "{count} attachments",
                                           len(report["attachments"])).format(
                count=len(report["attachments"])))
    if not data["reports"]:
        lines.append("  —")

    lines += ["", _("Replies to announcements")]
    lines += [f"  • {_when(r['at'], zone)}: «{r['text']}»"
              for r in data["announcement_replies"]] or ["  —"]

    lines += ["", _("Questionnaires")]
    for response in data["survey_responses"]:
        campaign = await store.surveys.campaign(int(response["campaign"]))
        form = None if campaign is None else await store.surveys.form(campaign.form_pk)
        definition = None if form is None else Definition.model_validate_json(form.definition)
        title = response["title"] if definition is None else (
            pick(definition.title, language, definition.default_language) or response["title"])
        state = _("sent on {date}").format(date=_when(response["submitted_at"], zone)) \
            if response["status"] == "submitted" else _("not sent yet")
        lines.append(f"  • {title} · {state}")
        questions = {} if definition is None else {q.name: q for q in definition.questions}
        for key, value in response["answers"].items():
            question = questions.get(key.split("[")[0])
            if question is None:
                continue
            label = pick(question.label, language, definition.default_language
                         if definition else "default") or question.name
            given = (None, value["file_id"]) if isinstance(value, dict) else (value, None)
            lines.append("    " + _("{name}: {value}").format(
                name=label, value=show(question, given, language)))
    if not data["survey_responses"]:
        lines.append("  —")
    return "\n".join(lines) + "\n"
