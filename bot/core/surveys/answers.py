"""What an answer means, pure: the choices a question offers, how a typed answer is read
(numbers in the member's locale, dates, times, a location), how a saved answer is shown, and
what the form computes for the submission."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, date, datetime, time
from decimal import Decimal
from zoneinfo import ZoneInfo

from babel.dates import parse_date

from bot.core.numbers import NumberError, parse_number
from bot.core.surveys import expressions as xpath
from bot.core.surveys.engine import State, encode, key
from bot.core.surveys.forms import Question, pick
from bot.core.surveys.markup import plain
from bot.i18n import _, format_date, format_moment, format_number, locale_name, ngettext

MAX_TEXT = 2000
RANGE_BUTTONS = 20  # a range with more steps is typed, as a number
SELECTS = ("select_one", "select_multiple", "range", "rank")
GEO_LINES = ("geotrace", "geoshape")  # several locations, shared one after the other


def _local_day(now: datetime, timezone: str) -> date:
    return now.astimezone(ZoneInfo(timezone)).date()


def options(question: Question, state: State | None, iteration: int,
            language: str) -> list[tuple[str, str]]:
    """(name, label) of the choices offered, after the `choice_filter`."""
    if question.type == "range":
        steps = round((question.end - question.start) / question.step)
        # Rounded: 0.1 * 3 is 0.30000000000000004 in binary floating point.
        numbers = [round(question.start + i * question.step, 6) for i in range(steps + 1)]
        return [(xpath.to_string(v), format_number(Decimal(xpath.to_string(v))))
                for v in numbers]
    node = xpath.parse(question.choice_filter, columns=True) \
        if question.choice_filter and state is not None else None
    found = []
    for choice in question.choices:
        if node is not None and state is not None:
            context = state.context(question, iteration)
            context.row = {"name": choice.name, **choice.properties}
            if not xpath.to_bool(xpath.evaluate(node, context)):
                continue
        found.append((choice.name, plain(pick(choice.label, language), {}) or choice.name))
    return found


def typed_range(question: Question) -> bool:
    return question.type == "range" and \
        (question.end - question.start) / question.step > RANGE_BUTTONS


def instruction(question: Question, today: date) -> str:
    """How to answer a typed question, with an example."""
    kind = question.type
    appearance = question.appearance.split()
    if kind == "integer":
        return _("Send a whole number, for example {example}.").format(
            example=format_number(12))
    if kind == "decimal":
        return _("Send a number, for example {example}.").format(
            example=format_number(Decimal("12.5")))
    if kind == "range":
        return _("Send a number from {low} to {high}.").format(
            low=format_number(Decimal(xpath.to_string(question.start))),
            high=format_number(Decimal(xpath.to_string(question.end))))
    if kind == "date" and "year" in appearance:
        return _("Send a year, for example {example}.").format(
            example=today.year)
    if kind == "date" and "month-year" in appearance:
        return _("Send a month and a year, for example {example}.").format(
            example=today.strftime("%m/%Y"))
    if kind == "date":
        return _("Send a date, for example {example}.").format(
            example=format_date(today, "short"))
    if kind == "time":
        return _("Send a time, for example {example}.").format(example="14:30")
    if kind == "datetime":
        return _("Send a date and a time, for example {example}.").format(
            example=format_date(today, "short") + " 14:30")
    if kind == "geopoint":
        return _("Share a location: 📎 then Location.")
    if kind == "geotrace":
        return _("Share the points of the line one after the other (📎 then Location), "
                 "then press Done.")
    if kind == "geoshape":
        return _("Share the corners of the area one after the other (📎 then Location), "
                 "then press Done.")
    if kind == "image" and set(appearance) & {"signature", "draw", "annotate"}:
        return _("Draw or sign on paper, then send a photo of it.")
    if kind == "image":
        return _("Send a photo.")
    if kind == "audio":
        return _("Send a voice note.")
    if kind == "video":
        return _("Send a video.")
    return _("Write your answer.")

def show(question: Question, answer: tuple[str | None, str | None], language: str) -> str:
    """An answer as the member reads it (review, Keep, echo)."""
    value, file_id = answer
    if value is None and file_id is None:
        return "—"
    if question.type in SELECTS:
        labels = dict(options(question, None, 0, language))
        shown = ", ".join(labels.get(v, v) for v in (value or "").split())
        return shown if len(shown) <= 200 else shown[:199] + "…"
    if question.type == "image":
        return "📷 " + _("photo")
    if question.type == "video":
        return "🎬 " + _("video")
    if question.type == "audio" or (question.type == "text" and value is None):
        return "🎤 " + _("voice note")
    if question.type == "geopoint":
        return place(value or "")
    if question.type in GEO_LINES:
        count = len(corners(question, value or ""))
        return "📍 " + ngettext("{count} point", "{count} points", count).format(count=count)
    if question.type == "acknowledge":
        return "✓"
    if question.type == "repeat":
        return _("Yes") if value == "yes" else _("No")
    try:
        if question.type in ("integer", "decimal") and value:
            return format_number(Decimal(value))
        if question.type == "time" and value:
            return value[:5]  # HH:MM, as typed
        if question.type == "datetime" and value:
            moment = datetime.fromisoformat(value)  # in the member's zone when answered
            return format_moment(moment, moment.tzinfo or UTC)
        if question.type == "date" and value:
            day = date.fromisoformat(value)
            if "year" in question.appearance.split():
                return str(day.year)
            if "month-year" in question.appearance.split():
                return day.strftime("%m/%Y")
            return format_date(day, "medium")
    except (ValueError, ArithmeticError):
        pass
    cut = value or ""
    return cut if len(cut) <= 60 else cut[:60] + "…"


def place(value: str, *, link: bool = False) -> str:
    """A location answer ("lat lon altitude accuracy", as ODK stores it) as people read one:
    '📍 14.6928° N, 17.4467° W' in the reader's language and number format; with `link`, a
    link to the place on OpenStreetMap (Telegram HTML)."""
    try:
        latitude, longitude = (float(n) for n in value.split()[:2])
    except ValueError:
        return "📍 " + value
    north = (_("{degrees}° N") if latitude >= 0 else _("{degrees}° S")).format(
        degrees=format_number(round(Decimal(str(abs(latitude))), 4)))
    east = (_("{degrees}° E") if longitude >= 0 else _("{degrees}° W")).format(
        degrees=format_number(round(Decimal(str(abs(longitude))), 4)))
    shown = f"{north}, {east}"
    if not link:
        return "📍 " + shown
    url = (f"https://www.openstreetmap.org/?mlat={latitude:.5f}&amp;mlon={longitude:.5f}"
           f"#map=15/{latitude:.5f}/{longitude:.5f}")
    return f'📍 <a href="{url}">{shown}</a>'


def parse(question: Question, body: str, language: str, timezone: str,
          now: datetime) -> tuple[str | None, str | None]:
    """(value as XLSForm stores it, None) or (None, what to tell the member)."""
    kind = question.type
    if question.read_only:
        return None, None
    if kind == "text":
        if not body:
            return None, _("Write your answer.")
        return body[:MAX_TEXT], None
    if kind in ("integer", "decimal") or typed_range(question):
        number = parse_number(body, language, timezone)
        if isinstance(number, NumberError):
            return None, "⚠ " + (_("This is not a number.") + " " + instruction(
                question, _local_day(now, timezone)))
        if kind == "integer" and number != number.to_integral_value():
            return None, "⚠ " + instruction(question, _local_day(now, timezone))
        if kind == "range" and not (question.start <= float(number) <= question.end
                                    and _on_step(question, float(number))):
            return None, "⚠ " + instruction(question, _local_day(now, timezone))
        shown = number.normalize()
        return (str(int(number)) if kind == "integer" else format(shown, "f")), None
    if kind == "date":
        day = _read_date(body, question.appearance.split(), language)
        if day is None:
            return None, "⚠ " + _("I could not read this date.") + " " + \
                instruction(question, _local_day(now, timezone))
        return day.isoformat(), None
    if kind == "time":
        moment = _read_time(body)
        if moment is None:
            return None, "⚠ " + instruction(question, _local_day(now, timezone))
        offset = now.astimezone(ZoneInfo(timezone)).strftime("%z")
        return f"{moment.isoformat('milliseconds')}{offset[:3]}:{offset[3:]}", None
    if kind == "datetime":
        day_text, _sep, clock_text = body.rpartition(" ")
        day = _read_date(day_text, [], language) if day_text else None
        clock = _read_time(clock_text)
        if day is None or clock is None:
            return None, "⚠ " + instruction(question, _local_day(now, timezone))
        stamp = datetime.combine(day, clock, tzinfo=ZoneInfo(timezone))
        return stamp.isoformat(timespec="milliseconds"), None
    if kind in ("geopoint", *GEO_LINES):
        numbers = body.replace(",", " ").split()
        try:
            latitude, longitude = (float(n) for n in numbers[:2]) if len(numbers) >= 2 \
                else (None, None)
        except ValueError:
            latitude = longitude = None
        if latitude is None or longitude is None:
            return None, "⚠ " + instruction(question, _local_day(now, timezone))
        problem = outside(latitude, longitude)
        return (None, problem) if problem else (f"{latitude} {longitude} 0 0", None)
    if kind in ("image", "audio", "video"):
        return None, "⚠ " + instruction(question, _local_day(now, timezone))
    return None, None  # buttons only


def computed_values(state: State) -> dict[str, str]:
    """What the form computes (calculations, metadata, read-only values), saved with the
    answers at submission, as ODK sends them in the submission."""
    found: dict[str, str] = {}
    for question in state.definition.questions:
        if question.type not in ("calculate", "meta") and not question.read_only:
            continue
        if question.repeat is None:
            value = state.values.get(question.name, "")
            if value:
                found[question.name] = value
            continue
        for path, row in state.iterations.get(question.repeat, []):
            if row.get(question.name):
                found[key(question, encode(path))] = row[question.name]
    return found


def name_index(question: Question, name: str) -> str:
    """A choice's position in the whole list (stable whatever the filter shows)."""
    return str(next(i for i, c in enumerate(question.choices) if c.name == name)) \
        if question.type != "range" else name_position(question, name)


def name_position(question: Question, name: str) -> str:
    steps = options(question, None, 0, "default")
    return str(next(i for i, (n, _label) in enumerate(steps) if n == name))


def choice_name(question: Question, index: int) -> str | None:
    return question.choices[index].name if index < len(question.choices) else None


def _on_step(question: Question, number: float) -> bool:
    steps = (number - question.start) / question.step
    return abs(steps - round(steps)) < 1e-9


def outside(latitude: float, longitude: float) -> str | None:
    """What to tell the member when a location is off the Earth's bounds; None if fine."""
    if -90 <= latitude <= 90 and -180 <= longitude <= 180:
        return None
    return "⚠ " + _("This location is not on Earth: latitude goes from -90 to 90 and "
                    "longitude from -180 to 180.")


def _read_date(body: str, appearance: Sequence[str], language: str) -> date | None:
    text = body.strip()
    if "year" in appearance and re.fullmatch(r"\d{4}", text):
        return date(int(text), 1, 1)
    if "month-year" in appearance:
        match = re.fullmatch(r"(\d{1,2})\s*[/.\-]\s*(\d{4})", text) or \
            re.fullmatch(r"(\d{4})\s*[/.\-]\s*(\d{1,2})", text)
        if match:
            first, second = int(match.group(1)), int(match.group(2))
            year, month = (second, first) if first <= 12 and second > 12 else (first, second)
            if 1 <= month <= 12:
                return date(year, month, 1)
        return None
    try:
        # In the order the reader's formats write it (en_GB: 15/02/2026, not the US order).
        day = parse_date(text, locale=locale_name(language))
    except (ValueError, IndexError):
        return None
    if "year" in appearance:
        return date(day.year, 1, 1)
    return day


def _read_time(text: str) -> time | None:
    match = re.fullmatch(r"(\d{1,2})\s*[:hH.]\s*(\d{2})", text.strip())
    if not match:
        return None
    hours, minutes = int(match.group(1)), int(match.group(2))
    if hours > 23 or minutes > 59:
        return None
    return time(hours, minutes)


# --- lines and areas: points shared one after the other ---------------------------------------

def points(value: str) -> list[str]:
    """The points of a geotrace or geoshape as ODK writes it: `lat lon alt acc;lat lon …`."""
    return [p.strip() for p in value.split(";") if p.strip()]


def closed(found: list[str]) -> bool:
    return len(found) >= 4 and found[0] == found[-1]


def corners(question: Question, value: str) -> list[str]:
    """The points the member shared (a closed shape's repeated first point counted once)."""
    found = points(value)
    return found[:-1] if question.type == "geoshape" and closed(found) else found


def add_point(question: Question, value: str, point: str) -> str:
    """The value with one more point (a closed shape is opened again to take it)."""
    return ";".join([*corners(question, value), point])


def least_points(question: Question) -> int:
    """ODK: a line has at least 2 points, a shape at least 3 corners."""
    return 3 if question.type == "geoshape" else 2


def finished(question: Question, value: str) -> str | None:
    """The value as ODK stores it once the member presses Done (a shape closed on its first
    point), or None while there are too few points."""
    found = corners(question, value)
    if len(found) < least_points(question):
        return None
    return ";".join([*found, found[0]] if question.type == "geoshape" else found)


def complete(question: Question, value: str | None) -> bool:
    """Whether a saved geotrace or geoshape is a finished one (any other answer is)."""
    if question.type not in GEO_LINES or not value:
        return True
    return finished(question, value) == value
