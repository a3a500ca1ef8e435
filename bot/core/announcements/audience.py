"""Who receives an announcement (or is invited to a questionnaire): the audience's criteria,
read from the command line or chosen in the chat with one picker shared by `/announce` and
`/survey`, always within the author's scope."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from babel import Locale

from bot.config import LANGUAGES, base_language
from bot.core.announcements.picker_refs import PickerRefs
from bot.core.people import role_name
from bot.core.replies import Button, Reply
from bot.i18n import (
    LANGUAGE_NAMES,
    _,
    current_language,
)
from storage import Store
from storage.models import (
    ROLES,
    Member,
    Recipient,
)

CRITERIA = ("project", "country", "organisation", "role", "language")
SHORT = {"project": "p", "country": "c", "organisation": "o", "role": "r", "language": "l"}
LONG = {v: k for k, v in SHORT.items()}


class AudienceError(ValueError):
    """An audience given on the command line that cannot be understood."""


@dataclass(frozen=True)
class Audience:
    """Who receives an announcement, within the author's scope: every criterion given must
    match (AND); several values of one criterion are alternatives (OR). No criterion:
    everyone in scope."""

    criteria: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    @classmethod
    def parse(cls, specs: Sequence[str]) -> Audience:
        """Read `project=eau-ziguinchor`, `role=partner,observer`, `everyone`…"""
        found: dict[str, list[str]] = {}
        for spec in specs:
            if spec.strip().lower() in ("everyone", "all"):
                continue
            kind, sep, values = spec.partition("=")
            kind = kind.strip().lower()
            if not sep or kind not in CRITERIA:
                raise AudienceError(
                    f"unknown audience {spec!r}: use everyone, or one of "
                    f"{', '.join(c + '=…' for c in CRITERIA)}")
            for value in values.split(","):
                value = value.strip()
                if not value:
                    raise AudienceError(f"empty value in audience {spec!r}")
                value = value.upper() if kind == "country" else value.lower()
                if kind == "role" and value not in ROLES:
                    raise AudienceError(f"unknown role {value!r} ({', '.join(ROLES)})")
                if kind == "language" and value not in LANGUAGES:
                    raise AudienceError(f"unknown language {value!r} ({', '.join(LANGUAGES)})")
                found.setdefault(kind, [])
                if value not in found[kind]:
                    found[kind].append(value)
        return cls({k: tuple(v) for k, v in found.items()})

    @classmethod
    def from_json(cls, raw: str) -> Audience:
        data = json.loads(raw or "{}")
        return cls({k: tuple(v) for k, v in data.items() if k in CRITERIA})

    def to_json(self) -> str:
        return json.dumps({k: list(v) for k, v in self.criteria.items()}, sort_keys=True)

    def matches(self, r: Recipient) -> bool:
        for kind, values in self.criteria.items():
            if kind == "project" and not set(values) & set(r.projects):
                return False
            if kind == "country" and r.country not in values:
                return False
            if kind == "organisation" and r.organisation not in values:
                return False
            if kind == "role" and r.role not in values:
                return False
            if kind == "language" and base_language(r.language) not in values:
                return False
        return True

    def select(self, candidates: Sequence[Recipient]) -> list[Recipient]:
        return [r for r in candidates if self.matches(r)]


def country_name(code: str) -> str:
    """The country's name in the current language (e.g. SN → Sénégal)."""
    name = Locale.parse(current_language()).territories.get(code.upper())
    return str(name) if name else code


def replace_projects(r: Recipient, allowed: set[str]) -> Recipient:
    """Keep only the projects a coordinator may target (their own)."""
    return r.model_copy(update={"projects": tuple(p for p in r.projects if p in allowed)})


class AudiencePicker:
    """The audience in the chat, the same for announcements and questionnaires: the menu of
    criteria, the values of one criterion with the number of people each reaches (within the
    author's scope: their projects' members, everyone for an admin), and the audience chosen."""

    def __init__(self, store: Store) -> None:
        self.store = store

    async def _candidates(self, author: Member | None) -> list[Recipient]:
        """Everyone the author may write to: their projects' members, or all for an admin."""
        if author is None or author.role == "admin":
            return await self.store.announcements.candidates(
                None, exclude_member=None if author is None else author.id)
        projects = await self.store.members.projects(author.id)
        return await self.store.announcements.candidates([p.id for p in projects],
                                                         exclude_member=author.id)

    async def recipients(self, author: Member | None, audience: Audience) -> list[Recipient]:
        candidates = await self._candidates(author)
        if author is not None and author.role != "admin":
            # A coordinator's criteria cannot reach outside their own projects.
            own = {p.slug for p in await self.store.members.projects(author.id)}
            candidates = [replace_projects(r, own) for r in candidates]
        return audience.select(candidates)

    async def options(self, member: Member, kind: str) -> list[tuple[str, str, int]]:
        """(value, label, number of people) for each value of a criterion in the scope."""
        people = await self.recipients(member, Audience())
        counts: Counter[str] = Counter()
        for r in people:
            if kind == "project":
                counts.update(r.projects)
            else:
                value = {"country": r.country, "organisation": r.organisation, "role": r.role,
                         "language": base_language(r.language)}[kind]
                if value:
                    counts[value] += 1
        labels: dict[str, str] = {}
        if kind == "project":
            labels = {p.slug: p.title(member.language) for p in await self.store.network.projects()}
        elif kind == "organisation":
            labels = {o.slug: o.name for o in await self.store.network.organisations()}
        elif kind == "country":
            labels = {code: country_name(code) for code in counts}
        elif kind == "role":
            labels = {role: role_name(role) for role in ROLES}
        else:
            labels = dict(LANGUAGE_NAMES)
        return sorted(((v, labels.get(v, v), n) for v, n in counts.items()),
                      key=lambda item: item[1].lower())

    async def describe(self, member: Member | None, audience: Audience) -> str:
        if not audience.criteria:
            return (_("everyone in your projects") if member is not None
                    and member.role != "admin" else _("everyone"))
        parts = []
        for kind, values in audience.criteria.items():
            if kind == "project":
                projects = {p.slug: p.title(current_language())
                            for p in await self.store.network.projects()}
                shown = [projects.get(v, v) for v in values]
            elif kind == "organisation":
                orgs = {o.slug: o.name for o in await self.store.network.organisations()}
                shown = [orgs.get(v, v) for v in values]
            elif kind == "country":
                shown = [country_name(v) for v in values]
            elif kind == "role":
                shown = [role_name(v) for v in values]  # type: ignore[arg-type]
            else:
                shown = [LANGUAGE_NAMES.get(v, v) for v in values]
            parts.append(" / ".join(shown))
        return " + ".join(parts)

    async def menu(self, member: Member, question: str, refs: PickerRefs, *,
                   footer: Sequence[tuple[Button, ...]] = (), replace: bool = False) -> Reply:
        """Everyone in scope, or one criterion to choose a value of."""
        everyone = len(await self.recipients(member, Audience()))
        label = _("Everyone in your projects") if member.role != "admin" else _("Everyone")
        rows: list[tuple[Button, ...]] = [
            (Button(f"👥 {label} ({everyone})", refs.choose("all")),),
            (Button(_("By project"), refs.kind("p")), Button(_("By country"), refs.kind("c"))),
            (Button(_("By organisation"), refs.kind("o")), Button(_("By role"), refs.kind("r"))),
            (Button(_("By language"), refs.kind("l")),),
            *footer,
        ]
        return Reply(question, buttons=tuple(rows), replace=replace)

    async def kind_menu(self, member: Member, short: str, question: str,
                        refs: PickerRefs) -> Reply:
        """The values of one criterion (`p`, `c`, `o`, `r`, `l`) in scope, with their counts."""
        rows: list[tuple[Button, ...]] = []
        for index, (value, label, count) in enumerate(await self.options(member, LONG[short])):
            by_position = refs.choose(f"{short}#{index}")
            if refs.by_value:
                # Named by value, so that a press still means the same value if the list has
                # changed since it was shown; the position stands in where a channel's choice
                # ids cannot hold a long value (the renderer decides, knowing its limit).
                button = Button(f"{label} ({count})", refs.choose(f"{short}.{value}"),
                                fallback=by_position)
            else:
                button = Button(f"{label} ({count})", by_position)
            rows.append((button,))
        rows.append((Button("◀ " + _("Back"), refs.menu),))
        return Reply(question, buttons=tuple(rows), replace=True)

    async def chosen(self, member: Member, argument: str, *,
                     by_value: bool) -> Audience | None:
        """The audience a choice names (`all`, `<short>#<index>`, or `<short>.<value>` when
        `by_value`); None for a choice that is not (or no longer) offered."""
        if argument == "all":
            return Audience()
        kind = LONG.get(argument[:1])
        if kind is None:
            return None
        options = await self.options(member, kind)
        mark, rest = argument[1:2], argument[2:]
        value: str | None = None
        if mark == "." and by_value:
            value = rest if rest in {v for v, _label, _n in options} else None
        elif mark == "#" and rest.isdigit() and int(rest) < len(options):
            value = options[int(rest)][0]
        return None if value is None else Audience({kind: (value,)})
