"""The message templates Palabre sends outside WhatsApp's 24-hour window.

More than 24 hours after a person's last message, Meta lets a business send only templates it
approved beforehand. Palabre's reminders, the first message of an announcement and survey
invitations may fall outside the window, so each has a template whose quick-reply buttons
reopen the conversation: a press is a message from the person, and the window opens again.

The bodies are msgids of Palabre's catalogs (so translators see them with the rest), with
Meta's numbered parameters ``{{1}}``; one language per catalog, under Meta's language codes.
Meta's rules, checked by `problems`: a body of at most 1,024 characters that neither starts
nor ends with a parameter, parameters numbered from 1 without gaps, at most 10 quick replies of
at most 25 characters each, and lowercase names of letters, digits and underscores.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from bot import i18n
from bot.config import UI_LANGUAGES as CATALOGS
from bot.i18n import N_, _

# Meta's language codes → Palabre's catalogs. Brazilian Portuguese has a catalog of its own
# when one is installed; until then the Portuguese catalog serves both.
LANGUAGES: dict[str, str] = {"fr": "fr", "en": "en", "pt_PT": "pt", "pt_BR": "pt_BR", "es": "es"}
CATEGORY = "UTILITY"  # about an ongoing partnership the person joined, never promotional
BODY_LIMIT = 1024
BUTTON_LIMIT = 25
_PARAMETER = re.compile(r"\{\{(\d+)\}\}")
_NAME = re.compile(r"[a-z0-9_]{1,512}")


@dataclass(frozen=True)
class TemplateSpec:
    """One template: its name at Meta, its body and buttons (msgids), example parameters."""

    name: str
    body: str
    buttons: tuple[str, ...]
    examples: tuple[str, ...]  # one per parameter, in English (Meta asks for examples)
    purpose: str  # what Palabre sends with it (for the operator, not for Meta)

    @property
    def parameters(self) -> int:
        return len(set(_PARAMETER.findall(self.body)))


TEMPLATES: tuple[TemplateSpec, ...] = (
    TemplateSpec(
        name="palabre_report_reminder",
        body=N_("📝 Reminder for {{1}}: the report for {{2}} is due on {{3}}. Tap below to "
                "send it."),
        buttons=(N_("Report now"), N_("Tomorrow")),
        examples=("Water Ziguinchor", "26 Oct – 25 Nov", "28 November"),
        purpose="a report reminder, before its date",
    ),
    TemplateSpec(
        name="palabre_report_overdue",
        body=N_("📝 {{1}}: the report for {{2}} was due on {{3}}. You can still send it."),
        buttons=(N_("Report now"), N_("Tomorrow")),
        examples=("Water Ziguinchor", "26 Oct – 25 Nov", "28 November"),
        purpose="a report reminder, after its date",
    ),
    TemplateSpec(
        name="palabre_survey_invitation",
        body=N_("📋 New questionnaire: {{1}}. Your answers are awaited before {{2}}. Tap "
                "Start to answer, one question at a time."),
        buttons=(N_("Start"),),
        examples=("Joint evaluation 2026", "15 December"),
        purpose="a questionnaire's invitation",
    ),
    TemplateSpec(
        name="palabre_survey_reminder",
        body=N_("📋 {{1}}: your answers are awaited before {{2}}. Thank you for your time."),
        buttons=(N_("Answer now"), N_("Tomorrow")),
        examples=("Joint evaluation 2026", "15 December"),
        purpose="a questionnaire's reminder",
    ),
    TemplateSpec(
        name="palabre_announcement",
        body=N_("📣 {{1}} has sent a message to the partners of {{2}}. Tap Read to see it."),
        buttons=(N_("Read"),),
        examples=("Mairie de Lyon", "Water Ziguinchor"),
        purpose="the first message of an announcement (the text follows once they tap Read)",
    ),
)


@dataclass(frozen=True)
class Rendered:
    """A template in one language, as Meta reviews it."""

    name: str
    language: str  # Meta's code
    category: str
    body: str
    buttons: tuple[str, ...]
    examples: tuple[str, ...]

    def payload(self) -> dict[str, Any]:
        """The body of Meta's `POST /{business-account-id}/message_templates`."""
        components: list[dict[str, Any]] = [{"type": "BODY", "text": self.body}]
        if self.examples:
            components[0]["example"] = {"body_text": [list(self.examples)]}
        if self.buttons:
            components.append({"type": "BUTTONS", "buttons": [
                {"type": "QUICK_REPLY", "text": text} for text in self.buttons]})
        return {"name": self.name, "language": self.language, "category": self.category,
                "components": components}


def render(spec: TemplateSpec, language: str) -> Rendered:
    """The template in Meta's `language` (a key of `LANGUAGES`)."""
    catalog = LANGUAGES[language]
    if catalog not in CATALOGS:
        catalog = catalog.split("_")[0]  # e.g. no Brazilian catalog installed: Portuguese
    with i18n.use_language(catalog):
        return Rendered(spec.name, language, CATEGORY, _(spec.body),
                        tuple(_(b) for b in spec.buttons), spec.examples)


def every_template() -> list[Rendered]:
    """Every template in every language, in a stable order."""
    return [render(spec, language) for spec in TEMPLATES for language in LANGUAGES]


def problems(template: Rendered, spec: TemplateSpec) -> list[str]:
    """What Meta would refuse in this template (empty when it may be submitted)."""
    found: list[str] = []
    if not _NAME.fullmatch(template.name):
        found.append("the name may hold only lowercase letters, digits and underscores")
    body = template.body.strip()
    numbers = sorted({int(n) for n in _PARAMETER.findall(body)})
    if numbers != list(range(1, spec.parameters + 1)):
        found.append(f"parameters {numbers} instead of 1 to {spec.parameters}")
    if _PARAMETER.match(body) or re.search(r"\{\{\d+\}\}[.!?…]?$", body):
        found.append("the body starts or ends with a parameter")
    if len(body) > BODY_LIMIT:
        found.append(f"the body has {len(body)} characters (at most {BODY_LIMIT})")
    for button in template.buttons:
        if not button.strip() or len(button) > BUTTON_LIMIT:
            found.append(f"button {button!r}: 1 to {BUTTON_LIMIT} characters")
    if len(set(template.buttons)) != len(template.buttons):
        found.append("two buttons have the same text")
    return found


@dataclass(frozen=True)
class Difference:
    """A template whose approved copy at Meta differs from what Palabre sends."""

    name: str
    language: str
    problem: str

    def __str__(self) -> str:
        return f"{self.name} ({self.language}): {self.problem}"


def compare(approved: list[dict[str, Any]]) -> list[Difference]:
    """Compare Meta's list of templates (`GET /{business-account-id}/message_templates`)
    with Palabre's: a template Palabre needs that is missing, not approved, of another
    category, or whose body or buttons differ."""
    known: dict[tuple[str, str], dict[str, Any]] = {}
    for listed in approved:
        known[(str(listed.get("name")), str(listed.get("language")))] = listed
    differences: list[Difference] = []
    for template in every_template():
        item = known.get((template.name, template.language))
        if item is None:
            differences.append(Difference(template.name, template.language, "not submitted"))
            continue
        status = str(item.get("status", "")).upper()
        if status != "APPROVED":
            differences.append(Difference(template.name, template.language,
                                          f"status {status or 'unknown'}, not APPROVED"))
        if str(item.get("category", "")).upper() != template.category:
            differences.append(Difference(template.name, template.language,
                                          f"category {item.get('category')}, not "
                                          f"{template.category}"))
        body, buttons = _components(item)
        if body != template.body:
            differences.append(Difference(template.name, template.language,
                                          f"body at Meta {body!r}, Palabre sends "
                                          f"{template.body!r}"))
        if buttons != template.buttons:
            differences.append(Difference(template.name, template.language,
                                          f"buttons at Meta {list(buttons)}, Palabre sends "
                                          f"{list(template.buttons)}"))
    return differences


def _components(item: dict[str, Any]) -> tuple[str | None, tuple[str, ...]]:
    body: str | None = None
    buttons: tuple[str, ...] = ()
    for component in item.get("components") or ():
        if not isinstance(component, dict):
            continue
        kind = str(component.get("type", "")).upper()
        if kind == "BODY":
            body = str(component.get("text", ""))
        elif kind == "BUTTONS":
            buttons = tuple(str(b.get("text", "")) for b in component.get("buttons") or ()
                            if isinstance(b, dict))
    return body, buttons
