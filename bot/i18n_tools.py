"""Catalog maintenance: extract messages from the code, compile and check the catalogs."""

from __future__ import annotations

import string
from collections.abc import Iterator
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from bot.config import UI_LANGUAGES
from bot.i18n import DOMAIN

KEYWORDS = {"_": None, "N_": None, "ngettext": (1, 2)}
PROJECT_ROOT = Path(__file__).resolve().parent.parent
SOURCE_DIRS = ("bot", "handlers", "storage")


def po_path(language: str) -> Path:
    return Path(str(resources.files("locales").joinpath(language, "LC_MESSAGES", f"{DOMAIN}.po")))


def read_catalog(language: str) -> Catalog:
    with po_path(language).open("rb") as handle:
        return read_po(handle, locale=language, domain=DOMAIN)


def extracted_messages(root: Path = PROJECT_ROOT) -> dict[str, str | None]:
    """Return msgid → plural msgid of every message marked in the source code."""
    found: dict[str, str | None] = {}
    for folder in SOURCE_DIRS:
        for _filename, _lineno, message, _comments, _context in extract_from_dir(
            root / folder, keywords=KEYWORDS, comment_tags=(),
            method_map=[("**.py", "python")],
        ):
            if isinstance(message, tuple):
                found[message[0]] = message[1]
            else:
                found[message] = None
    return found


def placeholders(text: str) -> set[str]:
    """Return the `{name}` fields of a message."""
    return {field for _, field, _, _ in string.Formatter().parse(text) if field is not None}


def check_all() -> list[str]:
    """List every problem: a code message missing from a catalog, untranslated, fuzzy,
    or with placeholders that differ from its msgid's."""
    problems: list[str] = []
    wanted = extracted_messages()
    for language in UI_LANGUAGES:
        catalog = read_catalog(language)
        for msgid in wanted:
            if msgid not in catalog:
                problems.append(f"{language}: missing {msgid!r}")
        for message in catalog:
            if not message.id:
                continue
            ids = message.id if isinstance(message.id, tuple) else (message.id,)
            strings = message.string if isinstance(message.string, tuple) else (message.string,)
            if message.fuzzy:
                problems.append(f"{language}: fuzzy {ids[0]!r}")
            if not all(strings):
                problems.append(f"{language}: untranslated {ids[0]!r}")
                continue
            expected = placeholders(str(ids[0]))
            for translated in strings:
                try:
                    got = placeholders(str(translated))
                except ValueError as exc:
                    problems.append(f"{language}: broken braces in {ids[0]!r}: {exc}")
                    continue
                if got != expected:
                    problems.append(f"{language}: placeholders {sorted(got)} != "
                                    f"{sorted(expected)} in {ids[0]!r}")
    return problems


def compile_all() -> Iterator[Path]:
    """Write a .mo next to each .po (for tools that want files; the bot reads the .po)."""
    for language in UI_LANGUAGES:
        catalog = read_catalog(language)
        target = po_path(language).with_suffix(".mo")
        with target.open("wb") as handle:
            write_mo(handle, catalog, use_fuzzy=False)
        yield target


def update_catalogs() -> list[Path]:
    """Merge the messages found in the code into every .po, keeping existing translations."""
    from babel.messages.pofile import write_po

    template = Catalog(domain=DOMAIN, project="Palabre")
    for msgid, plural in extracted_messages().items():
        template.add(msgid if plural is None else (msgid, plural))
    written = []
    for language in UI_LANGUAGES:
        path = po_path(language)
        if path.is_file():
            catalog = read_catalog(language)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            catalog = Catalog(locale=language, domain=DOMAIN, project="Palabre")
        catalog.update(template, no_fuzzy_matching=True)
        catalog.obsolete.clear()
        catalog.fuzzy = False  # the header is ours, not a guess
        catalog.revision_date = datetime.now(UTC)
        catalog.project, catalog.version = "Palabre", "1"
        catalog.msgid_bugs_address = ""
        catalog.last_translator = "Palabre team"
        catalog.language_team = f"Palabre {language}"
        with path.open("wb") as handle:
            write_po(handle, catalog, width=100, omit_header=False, sort_output=False,
                     include_previous=False, no_location=True)
        written.append(path)
    return written
