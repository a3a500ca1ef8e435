"""Questionnaire definitions: an XLSForm (read with pyxform) or a YAML file become one
versioned definition; whatever the conversation could not run faithfully is refused here.

The definition is plain data (a pydantic model stored as JSON): the conversation, the results
and the exports read it, never the source file.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from bot.config import LANGUAGES
from bot.core import xpath

QuestionType = Literal["text", "integer", "decimal", "select_one", "select_multiple", "date",
                       "geopoint", "image", "audio", "note", "acknowledge", "range",
                       "calculate"]
# What a question's answer is given with; `calculate` is never asked.
ASKED: frozenset[str] = frozenset(QuestionType.__args__) - {"calculate"}  # type: ignore[attr-defined]
NAME = re.compile(r"^[A-Za-z_][\w.\-]*$")
Text = dict[str, str]  # language code ("fr", "en"… or "default") → text


class FormError(ValueError):
    """A questionnaire refused at import; the message names the sheet, row and column."""


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
    required_message: Text = Field(default_factory=dict)
    constraint: str | None = None
    constraint_message: Text = Field(default_factory=dict)
    relevant: str | None = None  # with the enclosing groups' conditions, joined by `and`
    default: str | None = None
    choice_filter: str | None = None
    calculation: str | None = None
    choices: tuple[Choice, ...] = ()
    or_other: bool = False
    start: float = 0  # range
    end: float = 10
    step: float = 1


class Definition(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    form_id: str
    title: Text
    version: str = ""  # the author's own version string (settings sheet)
    default_language: str = "default"
    questions: tuple[Question, ...]

    def asked(self) -> list[Question]:
        return [q for q in self.questions if q.type != "calculate"]

    def question(self, name: str) -> Question | None:
        return next((q for q in self.questions if q.name == name), None)

    def content_hash(self) -> str:
        raw = json.dumps(self.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(raw.encode()).hexdigest()


def pick(text: Mapping[str, str], language: str, default_language: str = "default") -> str:
    """The text in the member's language, else the form's default, else any."""
    for key in (language, default_language, "default", "en", "fr"):
        if text.get(key):
            return text[key]
    return next((v for v in text.values() if v), "")


# --- checks shared by both sources --------------------------------------------------------

def check(definition: Definition, where: Mapping[str, tuple[str, int]]) -> Definition:
    """Refuse duplicate names and expressions that cannot be run; `where` maps a question
    name to its (sheet, row) for the messages."""
    names: set[str] = set()
    for question in definition.questions:
        sheet, row = where.get(question.name, ("survey", 0))
        if question.name in names:
            raise FormError(f"sheet {sheet}, row {row}, column name: duplicate question name "
                            f"{question.name!r}")
        names.add(question.name)
    for question in definition.questions:
        sheet, row = where.get(question.name, ("survey", 0))
        if question.type in ("select_one", "select_multiple") and not question.choices:
            raise FormError(f"sheet {sheet}, row {row}, column type: the choice list of "
                            f"{question.name!r} is empty or missing")
        for column in ("constraint", "relevant", "calculation", "choice_filter"):
            source = getattr(question, column)
            if not source:
                continue
            try:
                node = xpath.parse(source, columns=column == "choice_filter")
            except xpath.ExpressionError as exc:
                raise FormError(f"sheet {sheet}, row {row}, column {column}: {exc}") from exc
            unknown = sorted(xpath.references(node) - names - {q.name for q in
                                                               definition.questions})
            if unknown:
                raise FormError(f"sheet {sheet}, row {row}, column {column}: unknown question "
                                f"${{{unknown[0]}}}")
        if question.type == "calculate" and not question.calculation:
            raise FormError(f"sheet {sheet}, row {row}, column calculation: a calculate "
                            "needs a calculation")
        if question.type == "range" and (question.step <= 0 or question.end <= question.start
                                         or (question.end - question.start) / question.step > 20):
            raise FormError(f"sheet {sheet}, row {row}, column parameters: a range needs "
                            "start < end and at most 20 steps (one button each)")
    if not definition.asked():
        raise FormError("sheet survey: the questionnaire has no question to ask")
    return definition


# --- XLSForm ------------------------------------------------------------------------------

_XLS_TYPES = {
    "text": "text", "integer": "integer", "decimal": "decimal", "date": "date",
    "geopoint": "geopoint", "image": "image", "photo": "image", "audio": "audio",
    "note": "note", "acknowledge": "acknowledge", "trigger": "acknowledge", "range": "range",
    "calculate": "calculate", "select one": "select_one", "select all that apply":
    "select_multiple", "select_one": "select_one", "select_multiple": "select_multiple",
}
# pyxform's own helpers (the instance id, the metadata group): not questions.
_IGNORED = frozenset({"instanceID", "meta"})
_LANGUAGE = re.compile(r"\(([a-z]{2,3})\)\s*$")
_ROW_TYPE_KEYS = ("type",)
_REFUSED_ROW_TYPES = {
    "begin_repeat": "repeat groups are not supported: a conversation cannot add rows",
    "begin repeat": "repeat groups are not supported: a conversation cannot add rows",
}


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


def _yes(raw: object) -> bool:
    return str(raw).strip().lower() in ("yes", "true", "true()", "1")


# Appearances that change what is stored or asked (a month instead of a date, a drawing pad):
# answering them as plain questions would not be faithful. Others only change the layout.
_REFUSED_APPEARANCES = frozenset({"month-year", "year", "signature", "draw", "annotate"})


def _row_problem(kind: str, row: Mapping[str, str]) -> tuple[str, str] | None:
    """(column, reason) when a survey row uses what the conversation would get wrong."""
    appearance = set(str(row.get("appearance", "")).split())
    refused = sorted(appearance & _REFUSED_APPEARANCES)
    if refused:
        return "appearance", f"appearance {refused[0]!r} is not supported"
    required = str(row.get("required", "")).strip().lower()
    if required not in ("", "yes", "no", "true", "false", "true()", "false()", "1", "0"):
        return "required", "a condition in required is not supported: use yes or no"
    if kind not in ("calculate", "") and row.get("calculation"):
        return "calculation", "only a calculate row may have a calculation"
    default = str(row.get("default", ""))
    if "${" in default or "(" in default:
        return "default", "a computed default is not supported: give a value"
    return None


def read_xlsform(path: Path) -> Definition:
    """Read an XLSForm with pyxform; refuse what the conversation cannot run."""
    from pyxform.errors import PyXFormError
    from pyxform.xls2json import workbook_to_json
    from pyxform.xls2json_backends import get_xlsform

    try:
        workbook = get_xlsform(xlsform=str(path))
    except PyXFormError as exc:
        raise FormError(f"cannot read {path.name}: {exc}") from exc
    survey_rows: Sequence[Mapping[str, str]] = workbook.survey or []
    where: dict[str, tuple[str, int]] = {}
    for index, row in enumerate(survey_rows):
        row_number = index + 2  # the header is row 1
        kind = str(row.get("type", "")).strip()
        base = kind.split()[0] if kind else ""
        if kind.lower() in _REFUSED_ROW_TYPES or base.lower() in _REFUSED_ROW_TYPES:
            raise FormError(f"sheet survey, row {row_number}, column type: "
                            f"{_REFUSED_ROW_TYPES[base.lower()]}")
        if row.get("name"):
            where[str(row["name"])] = ("survey", row_number)
        for column in row:
            if column.split("::")[0] in ("repeat_count", "trigger", "read_only", "readonly"):
                raise FormError(f"sheet survey, row {row_number}, column {column}: this column "
                                "is not supported")
        problem = _row_problem(base.lower(), row)
        if problem is not None:
            column, reason = problem
            raise FormError(f"sheet survey, row {row_number}, column {column}: {reason}")
    warnings: list[str] = []
    try:
        form = workbook_to_json(workbook_dict=workbook, form_name="data",
                                fallback_form_name=workbook.fallback_form_name,
                                warnings=warnings)
    except PyXFormError as exc:
        raise FormError(f"{path.name}: {exc}") from exc
    default_language = str(form.get("default_language") or "default")
    choice_rows: dict[tuple[str, str], dict[str, str]] = {}
    for row in workbook.choices or []:
        extra = {k: str(v) for k, v in row.items()
                 if k not in ("list_name", "name") and not k.startswith(("label", "media",
                                                                          "image", "audio"))}
        choice_rows[(str(row.get("list_name", "")), str(row.get("name", "")))] = extra
    questions: list[Question] = []

    def walk(children: Sequence[Mapping[str, Any]], section: Text,
             conditions: tuple[str, ...]) -> None:
        for child in children:
            name = str(child.get("name", ""))
            kind = str(child.get("type", ""))
            sheet, row_number = where.get(name, ("survey", 0))
            if name in _IGNORED:
                continue
            bind = child.get("bind") or {}
            relevant = bind.get("relevant")
            if kind == "group":
                label = _texts(child.get("label"), default_language)
                walk(child.get("children") or [], label or section,
                     conditions + ((f"({relevant})",) if relevant else ()))
                continue
            if kind == "repeat":
                raise FormError(f"sheet {sheet}, row {row_number}, column type: repeat groups "
                                "are not supported")
            ours = _XLS_TYPES.get(kind)
            if ours is None:
                raise FormError(f"sheet {sheet}, row {row_number}, column type: type {kind!r} "
                                "is not supported")
            if name.endswith("_other") and kind == "text" and questions and \
                    questions[-1].or_other and questions[-1].name == name[:-6]:
                # pyxform's companion of an `or_other` question.
                relevant = f"selected(${{{name[:-6]}}}, 'other')"
            constraint_message = bind.get("jr:constraintMsg")
            required_message = bind.get("jr:requiredMsg")
            choices: list[Choice] = []
            list_name = str(child.get("list_name") or child.get("itemset") or "")
            or_other = False
            for choice in child.get("choices") or []:
                choice_name = str(choice.get("name"))
                if choice_name == "other" and (list_name, "other") not in choice_rows:
                    or_other = True
                choices.append(Choice(name=choice_name,
                                      label=_texts(choice.get("label"), default_language),
                                      properties=choice_rows.get((list_name, choice_name), {})))
            parameters = child.get("parameters") or {}
            own = [f"({relevant})"] if relevant else []
            all_conditions = (*conditions, *own)
            try:
                questions.append(Question(
                    name=name, type=ours,  # type: ignore[arg-type]
                    label=_texts(child.get("label"), default_language),
                    hint=_texts(child.get("hint"), default_language), section=section,
                    required=_yes(bind.get("required", "")),
                    required_message=_texts(required_message, default_language),
                    constraint=bind.get("constraint") or None,
                    constraint_message=_texts(constraint_message, default_language),
                    relevant=(" and ".join(all_conditions) if len(all_conditions) > 1
                              else (all_conditions[0][1:-1] if all_conditions else None)),
                    default=(str(child["default"]) if child.get("default") is not None
                             else None),
                    choice_filter=child.get("choice_filter") or None,
                    calculation=bind.get("calculate") or None,
                    choices=tuple(choices), or_other=or_other,
                    start=float(parameters.get("start", 1) if ours == "range" else 0),
                    end=float(parameters.get("end", 10) if ours == "range" else 10),
                    step=float(parameters.get("step", 1) if ours == "range" else 1)))
            except (ValidationError, ValueError) as exc:
                raise FormError(f"sheet {sheet}, row {row_number}: {exc}") from exc

    walk(form.get("children") or [], {}, ())
    title = _texts(form.get("title"), default_language) or {"default": str(form.get("id_string"))}
    definition = Definition(
        form_id=str(form.get("id_string") or path.stem), title=title,
        version=str(form.get("version") or ""),
        default_language=language_code(default_language, "default")
        if default_language != "default" else "default",
        questions=tuple(questions))
    return check(definition, where)


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
                calculation=q.calculation, choices=choices, or_other=q.or_other,
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


def read_form(path: Path) -> Definition:
    """An `.xlsx` XLSForm or a `.yaml`/`.yml` questionnaire, as a definition."""
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        return read_xlsform(path)
    if suffix in (".yaml", ".yml"):
        return read_yaml(path)
    raise FormError(f"{path.name}: expected an XLSForm (.xlsx) or a YAML file (.yaml)")
