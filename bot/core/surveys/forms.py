"""Form reading: an XLSForm (read with pyxform) or a YAML file become one versioned
definition; whatever the conversation could not run faithfully is refused here, naming the
sheet, row and column.

The definition is plain data (a pydantic model stored as JSON): the conversation, the results
and the exports read it, never the source file.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from bot.config import LANGUAGES
from bot.core.surveys import expressions as xpath
from bot.core.surveys.limits import MAX_FILE, check_workbook
from bot.core.surveys.limits import FormError as FormError  # raised here too, defined there

QuestionType = Literal["text", "integer", "decimal", "select_one", "select_multiple", "date",
                       "time", "datetime", "geopoint", "geotrace", "geoshape", "image", "audio",
                       "video", "note",
                       "acknowledge", "range", "rank", "calculate", "meta", "repeat"]
# Never asked: computed (calculate), filled from the conversation itself (meta), or the
# loop of a repeat (asked only when the repeat has no repeat_count; the engine decides).
NOT_ASKED: frozenset[str] = frozenset({"calculate", "meta"})
NAME = re.compile(r"^[A-Za-z_][\w.\-]*$")
Text = dict[str, str]  # language code ("fr", "en"… or "default") → text
# Characters of one label, hint or message: a screenful on a phone; longer is a mistake in
# the form (a pasted document), refused at import rather than paged at every question.
MAX_LABEL = 4000
MAX_NESTING = 3  # repeats inside repeats: an iteration is carried as one number (engine)


class Choice(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    name: str
    label: Text = Field(default_factory=dict)
    # Extra columns of the choices sheet, read by `choice_filter` (e.g. country=SN).
    properties: dict[str, str] = Field(default_factory=dict)


class Question(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    name: str
    type: QuestionType
    label: Text = Field(default_factory=dict)
    hint: Text = Field(default_factory=dict)
    section: Text = Field(default_factory=dict)  # the enclosing group's label
    required: bool = False
    required_if: str | None = None  # a condition in `required` (ODK: evaluated each time)
    required_message: Text = Field(default_factory=dict)
    constraint: str | None = None
    constraint_message: Text = Field(default_factory=dict)
    relevant: str | None = None  # with the enclosing groups' conditions, joined by `and`
    default: str | None = None
    default_expression: str | None = None  # a computed default (`today()`, `${x}`)
    choice_filter: str | None = None
    calculation: str | None = None  # on a calculate, or on a question: shown, not asked
    read_only: bool = False
    choices: tuple[Choice, ...] = ()
    list_name: str = ""  # the choice list (an instance for lookups)
    or_other: bool = False
    start: float = 0  # range
    end: float = 10
    step: float = 1
    appearance: str = ""
    meta: str = ""  # metadata kind (start, end, today, deviceid…) of a `meta` question
    repeat: str | None = None  # the repeat this question belongs to
    repeat_count: str | None = None  # on a `repeat` question: how many times, else asked
    outer: str | None = None  # on a `repeat` question inside another repeat: that one
    media: dict[str, Text] = Field(default_factory=dict)  # image/audio/video → language → file

    @property
    def asks(self) -> bool:
        """A message the member answers or reads (not computed, not metadata)."""
        return self.type not in NOT_ASKED and self.type != "repeat"


class Definition(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    form_id: str
    title: Text
    version: str = ""  # the author's own version string (settings sheet)
    default_language: str = "default"
    questions: tuple[Question, ...]
    # Secondary instances: choice lists and external data, read by `instance('x')/root/item`,
    # `pulldata()` and `jr:choice-name()`.
    instances: dict[str, tuple[dict[str, str], ...]] = Field(default_factory=dict)
    # The data files the form names (select_one_from_file, csv-external, xml-external,
    # pulldata) that were not given at import: the questionnaire cannot be sent until a new
    # import gives them (as a Kobo project waits for its media files).
    missing_files: tuple[str, ...] = ()

    def asked(self) -> list[Question]:
        return [q for q in self.questions if q.asks]

    def question(self, name: str) -> Question | None:
        return next((q for q in self.questions if q.name == name), None)

    def repeat_of(self, name: str) -> Question | None:
        """The `repeat` question (loop and count) of the repeat `name`."""
        return next((q for q in self.questions if q.type == "repeat" and q.name == name), None)

    def content_hash(self) -> str:
        dumped = self.model_dump(mode="json")
        # Fields added since the first versions count only when set: a form imported before
        # keeps its identity (importing it again changes nothing).
        if not dumped["missing_files"]:
            del dumped["missing_files"]
        for question in dumped["questions"]:
            if question["outer"] is None:
                del question["outer"]
        raw = json.dumps(dumped, sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(raw.encode()).hexdigest()


def pick(text: Mapping[str, str], language: str, default_language: str = "default") -> str:
    """The text in the member's language (pt_BR reads pt), else the form's default, else any."""
    for key in (language, language.split("_")[0], default_language, "default", "en", "fr"):
        if text.get(key):
            return text[key]
    return next((v for v in text.values() if v), "")


# --- checks shared by both sources --------------------------------------------------------

def _where(where: Mapping[str, tuple[str, int]], name: str) -> tuple[str, int]:
    # A name kept under its path (`group/name`) is found by its own row's name.
    return where.get(name) or where.get(name.rpartition("/")[2], ("survey", 0))


def check(definition: Definition, where: Mapping[str, tuple[str, int]],
          containers: frozenset[str] = frozenset()) -> Definition:
    """Refuse duplicate names and expressions that cannot be run; `where` maps a question
    name to its (sheet, row) for the messages; `containers` are group and repeat names."""
    names: set[str] = set()
    for question in definition.questions:
        sheet, row = _where(where, question.name)
        if question.name in names:
            raise FormError(f"sheet {sheet}, row {row}, column name: duplicate question name "
                            f"{question.name!r}")
        names.add(question.name)
    known = names | containers
    for question in definition.questions:
        sheet, row = _where(where, question.name)
        for column in ("constraint", "relevant", "calculation", "choice_filter", "required_if",
                       "default_expression", "repeat_count"):
            source = getattr(question, column)
            if not source:
                continue
            shown = {"required_if": "required", "default_expression": "default"}.get(column,
                                                                                      column)
            try:
                node = xpath.parse(source, columns=column == "choice_filter")
            except xpath.ExpressionError as exc:
                raise FormError(f"sheet {sheet}, row {row}, column {shown}: {exc}") from exc
            unknown = sorted(xpath.references(node) - known)
            if unknown:
                raise FormError(f"sheet {sheet}, row {row}, column {shown}: unknown question "
                                f"${{{unknown[0]}}}")
        if question.type == "range" and (question.step <= 0 or question.end <= question.start):
            raise FormError(f"sheet {sheet}, row {row}, column parameters: a range needs "
                            "start < end and a step above 0")
        for column in ("label", "hint", "constraint_message", "required_message"):
            if any(len(text) > MAX_LABEL for text in getattr(question, column).values()):
                raise FormError(f"sheet {sheet}, row {row}, column {column}: longer than "
                                f"{MAX_LABEL} characters")
    if not definition.asked():
        raise FormError("sheet survey: the questionnaire has no question to ask")
    return definition


# --- XLSForm ------------------------------------------------------------------------------

# pyxform's names (after its own aliases: `gps` → geopoint, `int` → integer…) → ours.
_XLS_TYPES = {
    "text": "text", "string": "text", "integer": "integer", "int": "integer",
    "decimal": "decimal", "date": "date", "time": "time", "dateTime": "datetime",
    "datetime": "datetime", "geopoint": "geopoint", "geotrace": "geotrace",
    "geoshape": "geoshape", "image": "image", "photo": "image",
    "audio": "audio", "video": "video", "note": "note", "acknowledge": "acknowledge",
    "trigger": "acknowledge", "range": "range", "calculate": "calculate", "hidden": "calculate",
    "select one": "select_one", "select all that apply": "select_multiple",
    "select_one": "select_one", "select_multiple": "select_multiple", "rank": "rank",
    # The older spellings pyxform still reads (its `add … prompt` family, ODK Build's names).
    "gps": "geopoint", "location": "geopoint", "add location prompt": "geopoint",
    "phone number": "text", "tel": "text", "add text prompt": "text",
    "add integer prompt": "integer", "add decimal prompt": "decimal",
    "add date prompt": "date", "add time prompt": "time", "add datetime prompt": "datetime",
    "add dateTime prompt": "datetime", "add image prompt": "image", "add photo prompt": "image",
    "add audio prompt": "audio", "add video prompt": "video", "add note prompt": "note",
    "add acknowledge prompt": "acknowledge", "q picture": "image", "q video": "video",
    "q audio": "audio", "q location": "geopoint", "q note": "note",
}
# Metadata: ODK fills them from the device; here from the conversation (never asked).
METADATA = frozenset({"start", "end", "today", "deviceid", "username", "phonenumber", "audit",
                      "email", "subscriberid", "simserial", "start-geopoint", "uri:username",
                      "uri:email", "uri:phonenumber", "uri:deviceid", "background-audio",
                      "background-geopoint", "instanceID", "caseid", "simid", "imei"})
# Needs a device the chat does not have.
_DEVICE_TYPES = {
    "barcode": "a barcode needs the phone's scanner", "osm": "an OpenStreetMap editor",
    "file": "a file picker",
}
# Declarations of a secondary instance read from a data file (`name.csv`, `name.xml`).
_EXTERNAL = {"csv-external": ".csv", "xml-external": ".xml"}
DATA_SUFFIXES = (".csv", ".xml", ".geojson")
MAX_DATA_CELLS = 200_000  # values in one data file (rows × columns)
_PULLDATA = re.compile(r"""pulldata\s*\(\s*['"‘’“”]([^'"‘’“”]+)['"‘’“”]""")
# pyxform's entity declarations (records for a server's dataset): no answer to give.
_NOT_QUESTIONS = frozenset({"entity", "attribute", "label"})
_LANGUAGE = re.compile(r"\(([a-z]{2,3})\)\s*$")
# Appearances that ask for a drawing: a photo of it is what a phone can send.
_PHOTO_APPEARANCES = frozenset({"signature", "draw", "annotate"})
# Appearances the chat cannot honour (a device widget with no chat equivalent).
_REFUSED_APPEARANCES = {"printer": "a printer", "ex": "an external app",
                        "counter": "a tally counter"}


def language_code(column_language: str, default_language: str) -> str:
    """`Français (fr)` → fr; `default` → the form's default language, when it is ours."""
    match = _LANGUAGE.search(column_language)
    if match:
        return match.group(1)
    lowered = column_language.strip().lower()
    names = {"english": "en", "french": "fr", "français": "fr", "portuguese": "pt",
             "português": "pt", "spanish": "es", "español": "es"}
    if lowered in names:
        return names[lowered]
    if lowered == "default" and default_language != column_language:
        return language_code(default_language, "default") if default_language != "default" \
            else "default"
    return lowered


def _texts(raw: object, default_language: str) -> Text:
    if raw is None:
        return {}
    if isinstance(raw, str):
        return {language_code(default_language, "default") if default_language != "default"
                else "default": raw}
    if isinstance(raw, Mapping):
        return {language_code(str(k), default_language): str(v) for k, v in raw.items() if v}
    return {}


def _media(raw: object, default_language: str) -> dict[str, Text]:
    found: dict[str, Text] = {}
    if not isinstance(raw, Mapping):
        return found
    for kind, value in raw.items():
        kind = "image" if kind == "big-image" else str(kind)
        if kind in ("image", "audio", "video"):
            texts = _texts(value, default_language)
            if texts:
                found[kind] = texts
    return found


_TRUE = ("yes", "true", "true()", "1")
_FALSE = ("", "no", "false", "false()", "0")


def _yes(raw: object) -> bool:
    return str(raw).strip().lower() in _TRUE


def _computed(default: str) -> bool:
    return "${" in default or "(" in default or default.startswith(("/", "."))


def _raw_rows(workbook: Any) -> list[Mapping[str, Any]]:
    rows = workbook.survey or []
    return [row for row in rows if isinstance(row, Mapping)]


def _choice_properties(raw: Mapping[str, Any]) -> dict[str, str]:
    return {str(k): str(v) for k, v in raw.items()
            if k not in ("name", "label", "media") and not str(k).startswith(("label", "media"))
            and isinstance(v, str | int | float)}


def external_rows(path: Path) -> list[dict[str, str]]:
    """The rows of a CSV, the items of an XML file (`<root><item><name>…`), or the features
    of a GeoJSON file (ODK: `id` and `title` properties become `name` and `label`), for
    select_one_from_file and lookups."""
    if path.stat().st_size > MAX_FILE:
        raise FormError(f"{path.name}: larger than {MAX_FILE // (1024 * 1024)} MB")
    rows = _external_rows(path, path.read_bytes())
    if sum(len(row) for row in rows) > MAX_DATA_CELLS:
        raise FormError(f"{path.name}: more than {MAX_DATA_CELLS:,} values")
    return rows


def _external_rows(path: Path, data: bytes) -> list[dict[str, str]]:
    if path.suffix.lower() == ".xml":
        import xml.etree.ElementTree as ElementTree  # no DTD, so no entities: see below

        if re.search(rb"<!(?:DOCTYPE|ENTITY)", data, re.IGNORECASE):
            raise FormError(f"{path.name}: declares XML entities; refused")
        try:
            root = ElementTree.fromstring(data)  # noqa: S314 (entities refused above)
        except ElementTree.ParseError as exc:
            raise FormError(f"{path.name}: not valid XML ({exc})") from exc
        return [{child.tag: (child.text or "").strip() for child in item}
                for item in root if len(item)]
    if path.suffix.lower() == ".geojson":
        try:
            document = json.loads(data)
        except ValueError as exc:
            raise FormError(f"{path.name}: not valid GeoJSON") from exc
        rows = []
        for feature in document.get("features", []) if isinstance(document, dict) else []:
            properties = {str(k): str(v) for k, v in (feature.get("properties") or {}).items()}
            geometry = feature.get("geometry") or {}
            if geometry.get("type") == "Point":
                lon, lat = geometry["coordinates"][:2]
                properties["geometry"] = f"{lat} {lon} 0 0"
            properties.setdefault("name", str(feature.get("id", properties.get("id", ""))))
            properties.setdefault("label", properties.get("title", properties["name"]))
            rows.append(properties)
        return rows
    text = data.decode("utf-8-sig", errors="replace")
    return [{str(k): str(v or "") for k, v in row.items() if k}
            for row in csv.DictReader(io.StringIO(text))]


def read_xlsform(path: Path, files: Mapping[str, Path] | None = None) -> Definition:
    """Read an XLSForm (.xlsx or .xls) with pyxform; refuse what the conversation cannot run.
    `files`: the CSV or GeoJSON files a `select_one_from_file` or `pulldata()` names."""
    check_workbook(path)
    try:
        return _read_xlsform(path, files or {})
    except FormError:
        raise
    except Exception as exc:  # a broken file is answered in one line, never a traceback
        first = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else ""
        raise FormError(f"cannot read {path.name}: {type(exc).__name__}"
                        + (f": {first}" if first else "")) from exc


def _read_xlsform(path: Path, files: Mapping[str, Path]) -> Definition:
    from pyxform.errors import PyXFormError
    from pyxform.xls2json import workbook_to_json
    from pyxform.xls2json_backends import get_xlsform

    try:
        workbook = get_xlsform(xlsform=str(path))
    except PyXFormError as exc:
        raise FormError(f"cannot read {path.name}: {exc}") from exc
    where: dict[str, tuple[str, int]] = {}
    raw_by_name: dict[str, Mapping[str, Any]] = {}
    for index, row in enumerate(_raw_rows(workbook)):
        row_number = index + 2  # the header is row 1
        kind = " ".join(str(row.get("type", "")).split())
        if row.get("name"):
            where[str(row["name"])] = ("survey", row_number)
            raw_by_name[str(row["name"])] = row
        base = kind.split(" ")[0].lower() if kind else ""
        if base in _DEVICE_TYPES:
            raise FormError(f"sheet survey, row {row_number}, column type: type {base!r} is "
                            f"not supported in a chat ({_DEVICE_TYPES[base]})")
        appearance = set(str(row.get("appearance", "")).lower().split())
        refused = sorted(a for a in appearance if a.split("(")[0] in _REFUSED_APPEARANCES)
        if refused:
            raise FormError(f"sheet survey, row {row_number}, column appearance: appearance "
                            f"{refused[0]!r} is not supported in a chat")
    warnings: list[str] = []
    try:
        form = workbook_to_json(workbook_dict=workbook, form_name="data",
                                fallback_form_name=workbook.fallback_form_name,
                                warnings=warnings)
    except PyXFormError as exc:
        raise FormError(f"{path.name}: {exc}") from exc
    default_language = str(form.get("default_language") or "default")
    instances: dict[str, tuple[dict[str, str], ...]] = {}
    for list_name, rows in (form.get("choices") or {}).items():
        instances[str(list_name)] = tuple(
            {"name": str(r.get("name", "")),
             "label": pick(_texts(r.get("label"), default_language), default_language),
             **_choice_properties(r)} for r in rows)
    external: dict[str, list[dict[str, str]]] = {}
    for row in getattr(workbook, "external_choices", None) or []:
        external.setdefault(str(row.get("list_name", row.get("list name", ""))), []).append(
            {str(k): str(v) for k, v in row.items() if k not in ("list_name", "list name")})
    for list_name, rows in external.items():
        instances[list_name] = tuple(rows)
    missing: list[str] = []
    for file_name in _data_files(form.get("children") or [], set(instances)):
        found = files.get(file_name) or _beside(path, file_name)
        if found is None:
            missing.append(file_name)
        else:
            instances[Path(file_name).stem] = tuple(external_rows(found))
    questions: list[Question] = []
    containers: set[str] = set()

    def refuse(name: str, column: str, reason: str) -> FormError:
        sheet, row_number = _where(where, name)
        return FormError(f"sheet {sheet}, row {row_number}, column {column}: {reason}")

    used: set[str] = set()
    repeats: list[str] = []  # the repeats around the rows being read

    # Names of questions outside any group: one also used inside a group keeps its bare name.
    top = {str(c.get("name")) for c in form.get("children") or []
           if c.get("type") not in ("group", "repeat", "loop")}

    def walk(children: Sequence[Mapping[str, Any]], section: Text,
             conditions: tuple[str, ...], repeat: str | None, groups: tuple[str, ...] = (),
             pathed: bool = False) -> None:
        for child in children:
            name = str(child.get("name", ""))
            kind = str(child.get("type", ""))
            if kind == "group" and name == "meta" and child.get("control", {}).get("bodyless"):
                walk(child.get("children") or [], section, conditions, repeat, groups)
                continue
            if kind not in ("group", "repeat", "loop") and (
                    pathed or name in used or (groups and name in top)):
                # pyxform allows one name in two groups (never referenced as ${name}: that
                # would be ambiguous); the later one, and each one in a loop's groups, is
                # kept under its path, as Kobo's export names it.
                name = "/".join((*groups, name))
            used.add(name)
            if kind in _NOT_QUESTIONS or kind in _EXTERNAL:
                continue
            bind = child.get("bind") or {}
            relevant = bind.get("relevant")
            label = _texts(child.get("label"), default_language)
            if kind == "loop":
                # `begin loop over list`: pyxform's shorthand for one group per choice of the
                # list, `%(name)s` and `%(label)s` in its rows standing for the choice's.
                containers.add(name)
                inner = conditions + ((f"({relevant})",) if relevant else ())
                for column in child.get("columns") or []:
                    if str(column.get("name")) == "none":
                        continue  # as pyxform: the "none" of a select all that apply
                    walk([_substitute(c, column) for c in child.get("children") or []],
                         _texts(column.get("label"), default_language) or label or section,
                         inner, repeat, (*groups, name, str(column.get("name"))), True)
                continue
            if kind in ("group", "repeat"):
                containers.add(name)
                inner = conditions + ((f"({relevant})",) if relevant else ())
                if kind == "group":
                    walk(child.get("children") or [], label or section, inner, repeat,
                         (*groups, name), pathed)
                    continue
                depth = len(repeats) + 1
                if depth > MAX_NESTING:
                    raise refuse(name, "type", f"a repeat nested more than {MAX_NESTING} "
                                 "deep is not supported")
                repeats.append(name)
                walk(child.get("children") or [], label or section, inner, name,
                     (*groups, name), pathed)
                repeats.pop()
                count = (child.get("control") or {}).get("jr:count")
                questions.append(Question(
                    name=name, type="repeat", label=label or {"default": name},
                    section=label or section, repeat=name,
                    repeat_count=str(count) if count not in (None, "") else None,
                    relevant=_joined(inner), outer=repeat))
                continue
            questions.append(_question(child, name, kind, bind, label, section, conditions,
                                       repeat, refuse, instances, raw_by_name.get(name, {}),
                                       default_language, questions, set(missing)))

    walk(form.get("children") or [], {}, (), None)
    title = _texts(form.get("title"), default_language) or {"default": str(form.get("id_string"))}
    definition = Definition(
        form_id=str(form.get("id_string") or path.stem), title=title,
        version=str(form.get("version") or ""),
        default_language=language_code(default_language, "default")
        if default_language != "default" else "default",
        questions=tuple(questions), instances=instances, missing_files=tuple(missing))
    return check(definition, where, frozenset(containers))


def _data_files(children: Sequence[Mapping[str, Any]], known: set[str]) -> list[str]:
    """The data files a form names, in the order met: select_one_from_file's file,
    csv-external and xml-external declarations, and pulldata()'s first argument (a CSV,
    unless it names a list of the workbook)."""
    declared: list[str] = []
    pulled: list[str] = []

    def walk(items: Sequence[Mapping[str, Any]]) -> None:
        for child in items:
            kind = str(child.get("type", ""))
            if kind in _EXTERNAL:
                declared.append(str(child.get("name", "")) + _EXTERNAL[kind])
            itemset = str(child.get("itemset") or "")
            if itemset.lower().endswith(DATA_SUFFIXES):
                declared.append(itemset)
            texts = [str(v) for v in (child.get("bind") or {}).values()]
            texts += [str(child.get(k) or "") for k in ("choice_filter", "default")]
            pulled.extend(name for text in texts for name in _PULLDATA.findall(text))
            walk(child.get("children") or [])

    walk(children)
    stems = known | {Path(name).stem for name in declared}
    found = declared + [name + ".csv" for name in pulled if name not in stems]
    return list(dict.fromkeys(name for name in found if name))


def _beside(form: Path, name: str) -> Path | None:
    """A data file where Kobo and ODK tools put a form's files: beside the form, in
    `media/` or `<form>-media/` (a name from the form is a file name, never a path)."""
    if Path(name).name != name:
        return None
    for folder in (form.parent, form.parent / "media", form.parent / f"{form.stem}-media"):
        candidate = folder / name
        if candidate.is_file():
            return candidate
    return None


def _substitute(row: Mapping[str, Any], column: Mapping[str, Any]) -> dict[str, Any]:
    """A row of a loop for one choice: `%(name)s` and `%(label)s` replaced in its texts (in
    each language's label), as pyxform does."""
    label = column.get("label")

    def fill(text: str, language: str | None = None) -> str:
        if isinstance(label, Mapping):
            shown = label.get(language) if language in label else next(iter(label.values()), "")
        else:
            shown = label or ""
        try:
            return text % {"name": column.get("name", ""), "label": shown}
        except (KeyError, ValueError, TypeError):
            return text  # a `%` that is not a placeholder

    found: dict[str, Any] = {}
    for key, value in row.items():
        if isinstance(value, str):
            found[key] = fill(value)
        elif isinstance(value, Mapping):
            found[key] = {k: fill(v, k) if isinstance(v, str) else v for k, v in value.items()}
        else:
            found[key] = value
    return found


def _joined(conditions: Sequence[str]) -> str | None:
    if not conditions:
        return None
    return " and ".join(conditions) if len(conditions) > 1 else conditions[0][1:-1]


def _question(child: Mapping[str, Any], name: str, kind: str, bind: Mapping[str, Any],
              label: Text, section: Text, conditions: tuple[str, ...], repeat: str | None,
              refuse: Any, instances: dict[str, tuple[dict[str, str], ...]],
              raw: Mapping[str, Any], default_language: str,
              questions: Sequence[Question], missing: set[str]) -> Question:
    relevant = bind.get("relevant")
    appearance = str((child.get("control") or {}).get("appearance", "")).strip()
    appearances = set(appearance.lower().split())
    meta = ""
    preload = bind.get("jr:preload")
    if kind in METADATA or (kind == "calculate" and preload):
        meta = kind if kind in METADATA else str(bind.get("jr:preloadParams") or preload)
        ours = "meta"
    elif kind.startswith(("select one external", "select_one_external")):
        ours = "select_one"
    else:
        found = _XLS_TYPES.get(kind)
        if found is None:
            raise refuse(name, "type", f"type {kind!r} is not supported")
        ours = found
    if ours == "image" and appearances & _PHOTO_APPEARANCES:
        appearance = " ".join(sorted(appearances & _PHOTO_APPEARANCES))
    if name.endswith("_other") and kind == "text" and questions and \
            questions[-1].or_other and questions[-1].name == name[:-6]:
        # pyxform's companion of an `or_other` question.
        relevant = f"selected(${{{name[:-6]}}}, 'other')"
    required_raw = str(bind.get("required", "")).strip()
    required = required_raw.lower() in _TRUE
    required_if = None
    if required_raw.lower() not in _TRUE and required_raw.lower() not in _FALSE:
        required_if = required_raw
    choices: list[Choice] = []
    list_name = str(child.get("list_name") or child.get("itemset") or "")
    if kind.startswith(("select one external", "select_one_external")):
        list_name = str(child.get("list_name") or child.get("itemset") or child.get("query")
                        or kind.split()[-1])
    or_other = False
    if child.get("choices"):
        for choice in child.get("choices") or []:
            choice_name = str(choice.get("name"))
            choices.append(Choice(name=choice_name,
                                  label=_texts(choice.get("label"), default_language),
                                  properties=_choice_properties(choice)))
        names = [c.name for c in choices]
        # pyxform appends `other` for `or_other`; it is not in the list's own rows.
        listed = [r.get("name") for r in instances.get(list_name, ())]
        or_other = names[-1:] == ["other"] and "other" not in listed[:-1] and \
            str(raw.get("type", "")).strip().endswith("or_other")
    elif ours in ("select_one", "select_multiple", "rank"):
        itemset = str(child.get("itemset") or "")
        key = Path(list_name).stem if "." in list_name else list_name
        parameters = child.get("parameters") or {}
        # select_one_from_file's `value` and `label` parameters name the file's columns.
        value_column = str(parameters.get("value") or "name")
        label_column = str(parameters.get("label") or "label")
        for row in instances.get(key, ()):
            if not row.get(value_column):
                continue
            labels = {language_code(k.split("::", 1)[1], default_language): v
                      for k, v in row.items() if k.startswith(label_column + "::") and v}
            labels = {"default": row.get(label_column) or row[value_column], **labels}
            choices.append(Choice(name=row[value_column], label=labels,
                                  properties={k: v for k, v in row.items()
                                              if k not in (value_column, label_column)}))
        list_name = key
        if not choices and itemset not in missing and (required or required_if):
            where = itemset or list_name
            raise refuse(name, "type", f"the choices of this required question come from "
                         f"{where!r}, which has none")
    parameters = child.get("parameters") or {}
    default_raw = child.get("default")
    default = None if default_raw is None else str(default_raw)
    default_expression = None
    if default is not None and (child.get("_dynamic_default") or _computed(default)):
        default_expression, default = default, None
    constraint_message = bind.get("jr:constraintMsg")
    required_message = bind.get("jr:requiredMsg")
    own = [f"({relevant})"] if relevant else []
    calculation = bind.get("calculate") or None
    if calculation and child.get("trigger") and ours not in ("calculate", "meta") \
            and not _yes(bind.get("readonly", "")):
        # ODK sets the value when the trigger question changes and the member may change
        # it: a computed value proposed with Keep, not a read-only one.
        default_expression, calculation = default_expression or calculation, None
    read_only = _yes(bind.get("readonly", "")) or (calculation is not None
                                                   and ours not in ("calculate", "meta"))
    try:
        return Question(
            name=name, type=ours,  # type: ignore[arg-type]
            label=label, hint=_texts(child.get("hint"), default_language), section=section,
            required=required, required_if=required_if,
            required_message=_texts(required_message, default_language),
            constraint=bind.get("constraint") or None,
            constraint_message=_texts(constraint_message, default_language),
            relevant=_joined((*conditions, *own)),
            default=default, default_expression=default_expression,
            choice_filter=child.get("choice_filter") or None,
            calculation=calculation, read_only=read_only and ours not in ("calculate", "meta"),
            choices=tuple(choices), list_name=list_name, or_other=or_other,
            start=float(parameters.get("start", 1) if ours == "range" else 0),
            end=float(parameters.get("end", 10) if ours == "range" else 10),
            step=float(parameters.get("step", 1) if ours == "range" else 1),
            appearance=appearance, meta=meta, repeat=repeat,
            media=_media(child.get("media"), default_language))
    except (ValidationError, ValueError) as exc:
        raise refuse(name, "type", str(exc).splitlines()[0]) from exc


# --- YAML ---------------------------------------------------------------------------------

class YamlChoice(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    label: str | Text = ""
    properties: dict[str, str] = Field(default_factory=dict)


class YamlQuestion(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    type: QuestionType
    label: str | Text = ""
    hint: str | Text = ""
    section: str | Text = ""
    required: bool = False
    required_message: str | Text = ""
    constraint: str | None = None
    constraint_message: str | Text = ""
    relevant: str | None = None
    default: str | None = None
    choice_filter: str | None = None
    calculation: str | None = None
    choices: list[YamlChoice] = Field(default_factory=list)
    or_other: bool = False
    start: float = 0
    end: float = 10
    step: float = 1

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not NAME.match(value):
            raise ValueError("a name starts with a letter and holds letters, digits, _ . -")
        return value


class YamlForm(BaseModel):
    model_config = ConfigDict(extra="forbid")
    form_id: str
    title: str | Text
    version: str = ""
    default_language: str = "fr"
    questions: list[YamlQuestion]


def _yaml_text(value: str | Text, default_language: str) -> Text:
    if isinstance(value, str):
        return {default_language: value} if value else {}
    unknown = set(value) - set(LANGUAGES) - {"default"}
    if unknown:
        raise FormError(f"unknown language {sorted(unknown)[0]!r} ({', '.join(LANGUAGES)})")
    return dict(value)


def read_yaml(path: Path) -> Definition:
    import yaml  # loaded when a YAML questionnaire is read: the bot starts without it

    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise FormError(f"{path.name}: not valid YAML: {exc}") from exc
    try:
        form = YamlForm.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        location = ".".join(str(p) for p in first["loc"])
        raise FormError(f"{path.name}: {location}: {first['msg']}") from exc
    language = form.default_language
    where: dict[str, tuple[str, int]] = {}
    questions = []
    for index, q in enumerate(form.questions):
        where[q.name] = ("questions", index + 1)
        if q.type in ("repeat", "meta"):
            raise FormError(f"{path.name}: questions, row {index + 1}: type {q.type!r} is "
                            "for XLSForms")
        try:
            choices = tuple(Choice(name=c.name, label=_yaml_text(c.label, language),
                                   properties=c.properties) for c in q.choices)
            if q.or_other and all(c.name != "other" for c in choices):
                choices += (Choice(name="other", label={"en": "Other", "fr": "Autre",
                                                        "pt": "Outro", "es": "Otro"}),)
            questions.append(Question(
                name=q.name, type=q.type, label=_yaml_text(q.label, language),
                hint=_yaml_text(q.hint, language), section=_yaml_text(q.section, language),
                required=q.required, required_message=_yaml_text(q.required_message, language),
                constraint=q.constraint, constraint_message=_yaml_text(q.constraint_message,
                                                                       language),
                relevant=q.relevant, default=q.default, choice_filter=q.choice_filter,
                calculation=q.calculation, read_only=q.calculation is not None
                and q.type != "calculate", choices=choices, or_other=q.or_other,
                start=q.start, end=q.end, step=q.step))
            if q.or_other:
                questions.append(Question(
                    name=f"{q.name}_other", type="text",
                    label={"en": "Specify other.", "fr": "Précisez « autre ».",
                           "pt": "Especifique « outro ».", "es": "Especifique « otro »."},
                    required=True, relevant=f"selected(${{{q.name}}}, 'other')"))
        except FormError as exc:
            raise FormError(f"{path.name}: questions, row {index + 1}: {exc}") from exc
    definition = Definition(form_id=form.form_id, title=_yaml_text(form.title, language),
                            version=form.version, default_language=language,
                            questions=tuple(questions))
    return check(definition, where)


def read_form(path: Path, files: Mapping[str, Path] | None = None) -> Definition:
    """An `.xlsx`/`.xls` XLSForm or a `.yaml`/`.yml` questionnaire, as a definition."""
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xls"):
        return read_xlsform(path, files)
    if suffix in (".yaml", ".yml"):
        check_workbook(path)
        return read_yaml(path)
    raise FormError(f"{path.name}: expected an XLSForm (.xlsx, .xls) or a YAML file (.yaml)")
