"""The conversation engine, pure: from a definition and the answers saved so far, what the
values are (calculations, metadata, repeats), which questions to ask now and in which order,
and what a typed answer means. No store, no chat: the conversation module does the I/O.

A step is (question index, iteration): iteration 0 outside a repeat, 1, 2… inside one. The
answer to a question inside a repeat is saved under `name[i]`; the loop question of a repeat
without `repeat_count` ("Add another?") under `repeat[i]` (yes/no).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime

from bot.core.surveys import expressions as xpath
from bot.core.surveys.forms import Definition, Question, pick

Answers = Mapping[str, tuple[str | None, str | None]]  # key → (value, file id)
Step = tuple[int, int]
MAX_ITERATIONS = 50  # a repeat_count (or a loop) beyond this is cut: one chat, one person


def key(question: Question, iteration: int) -> str:
    """Where the answer to `question` in `iteration` is saved."""
    return question.name if not iteration else f"{question.name}[{iteration}]"


def split_key(saved: str) -> tuple[str, int]:
    """`name[3]` → (name, 3); `name` → (name, 0)."""
    if saved.endswith("]") and "[" in saved:
        name, _sep, index = saved[:-1].rpartition("[")
        if index.isdigit():
            return name, int(index)
    return saved, 0


@dataclass
class Meta:
    """What ODK reads from the device, read here from the conversation."""

    start: str = ""
    now: str = ""
    deviceid: str = ""
    username: str = ""
    phonenumber: str = ""
    email: str = ""

    def value(self, kind: str, today: date) -> str:
        kind = kind.removeprefix("uri:")
        if kind == "start":
            return self.start
        if kind in ("end", "timestamp"):
            return self.now
        if kind == "today":
            return today.isoformat()
        return {"deviceid": self.deviceid, "username": self.username,
                "phonenumber": self.phonenumber, "email": self.email}.get(kind, "")


@dataclass
class State:
    """A response's values at one moment, and the steps to ask."""

    definition: Definition
    answers: Answers
    today: date
    now: datetime | None
    values: dict[str, str] = field(default_factory=dict)  # outside repeats
    iterations: dict[str, list[dict[str, str]]] = field(default_factory=dict)  # per repeat
    path: list[Step] = field(default_factory=list)
    labels: Mapping[tuple[str, str], str] = field(default_factory=dict)

    def lists(self) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {}
        for repeat, rows in self.iterations.items():
            found[repeat] = [str(i + 1) for i in range(len(rows))]
            for row in rows:
                for name, value in row.items():
                    found.setdefault(name, []).append(value)
        return found

    def scope(self, iteration: int, repeat: str | None) -> dict[str, str]:
        """The values an expression at this step sees (its own iteration's first)."""
        if not iteration or repeat is None:
            return self.values
        rows = self.iterations.get(repeat, [])
        own = rows[iteration - 1] if 0 < iteration <= len(rows) else {}
        return {**self.values, **own}

    def context(self, question: Question, iteration: int, current: str = "") -> xpath.Context:
        return xpath.Context(
            self.scope(iteration, question.repeat), current=current, today=self.today,
            lists=self.lists(), position=iteration,
            instances=self.definition.instances, now=self.now,
            choice_label=lambda q, v: self.labels.get((q, v), v))

    def value(self, question: Question, iteration: int) -> str:
        return self.scope(iteration, question.repeat).get(question.name, "")

    def count(self, repeat: str) -> int:
        return len(self.iterations.get(repeat, []))


def _text(value: xpath.Value) -> str:
    if isinstance(value, float) and math.isnan(value):
        return ""
    return xpath.to_string(value)


def _saved(answers: Answers, saved: str) -> str | None:
    found = answers.get(saved)
    if found is None:
        return None
    value, file_id = found
    return value if value is not None else (file_id or "")


def evaluate(definition: Definition, answers: Answers, today: date, now: datetime | None = None,
             meta: Meta | None = None, language: str = "default") -> State:
    """Values (answers, calculations, metadata, repeats) and the path of steps to ask."""
    meta = meta or Meta()
    labels = {(q.name, c.name): pick(c.label, language, definition.default_language) or c.name
              for q in definition.questions for c in q.choices}
    state = State(definition, answers, today, now, labels=labels)
    # Twice: a calculation may read a question that comes later in the form.
    for _round in range(2):
        state.path = []
        _walk(state, meta)
    return state


def _walk(state: State, meta: Meta) -> None:
    definition = state.definition
    questions = definition.questions
    index = 0
    while index < len(questions):
        question = questions[index]
        if question.repeat is None:
            _settle(state, question, 0, meta)
            if _shown(state, question, 0):
                state.path.append((index, 0))
            index += 1
            continue
        repeat = question.repeat
        block = [i for i in range(index, len(questions)) if questions[i].repeat == repeat]
        end = block[-1] + 1
        loop = definition.repeat_of(repeat)
        rows: list[dict[str, str]] = []
        state.iterations[repeat] = rows
        relevant = loop is None or not loop.relevant or xpath.to_bool(
            xpath.evaluate(xpath.parse(loop.relevant), state.context(question, 0)))
        wanted = _iterations(state, loop) if relevant else 0
        iteration = 0
        while iteration < wanted:
            iteration += 1
            rows.append({})
            for i in block:
                inner = questions[i]
                if inner.type == "repeat":
                    continue
                rows[-1][inner.name] = _saved(state.answers, key(inner, iteration)) or ""
            for i in block:
                inner = questions[i]
                if inner.type == "repeat":
                    if loop is not None and loop.repeat_count is None:
                        state.path.append((i, iteration))
                        if _saved(state.answers, key(inner, iteration)) == "yes" \
                                and iteration == wanted and wanted < MAX_ITERATIONS:
                            wanted += 1
                    continue
                _settle(state, inner, iteration, meta)
                if _shown(state, inner, iteration):
                    state.path.append((i, iteration))
        index = end


def _iterations(state: State, loop: Question | None) -> int:
    if loop is None:
        return 1
    if loop.repeat_count is not None:
        number = xpath.to_number(xpath.evaluate(xpath.parse(loop.repeat_count),
                                                state.context(loop, 0)))
        if math.isnan(number) or number < 0:
            return 0
        return MAX_ITERATIONS if number > MAX_ITERATIONS else int(number)
    return 1  # one iteration, then each "yes" to "Add another?" adds one


def _settle(state: State, question: Question, iteration: int, meta: Meta) -> None:
    """Compute a calculated value (calculate, metadata, read-only calculation, default)."""
    target = state.values if not iteration or question.repeat is None \
        else state.iterations[question.repeat][iteration - 1]
    saved = _saved(state.answers, key(question, iteration))
    if question.type == "meta":
        target[question.name] = saved if saved else meta.value(question.meta, state.today)
        return
    if question.calculation:
        result = xpath.evaluate(xpath.parse(question.calculation),
                                state.context(question, iteration, current=saved or ""))
        target[question.name] = _text(result)
        return
    if question.type == "calculate":
        if question.default_expression:
            target[question.name] = _text(xpath.evaluate(
                xpath.parse(question.default_expression), state.context(question, iteration)))
        else:
            target[question.name] = question.default or ""
        return
    target[question.name] = saved if saved is not None else ""


def hidden(question: Question) -> bool:
    """A read-only question with nothing to show (ODK's `hidden` appearance, no label)."""
    return question.read_only and ("hidden" in question.appearance.split()
                                   or not any(question.label.values()))


def _shown(state: State, question: Question, iteration: int) -> bool:
    if not question.asks or hidden(question):
        return False
    if not question.relevant:
        return True
    return xpath.to_bool(xpath.evaluate(xpath.parse(question.relevant),
                                        state.context(question, iteration)))


def is_required(state: State, question: Question, iteration: int) -> bool:
    if question.read_only or question.type in ("note", "repeat"):
        return question.type == "repeat"
    if question.required_if:
        return xpath.to_bool(xpath.evaluate(xpath.parse(question.required_if),
                                            state.context(question, iteration)))
    return question.required


def default(state: State, question: Question, iteration: int) -> str | None:
    """The value a question proposes before it is answered (a static or computed default);
    for a select, only a name among its choices (ODK selects nothing otherwise)."""
    value: str | None
    if question.default_expression:
        value = _text(xpath.evaluate(xpath.parse(question.default_expression),
                                     state.context(question, iteration)))
    else:
        value = question.default
    if not value:
        return None
    if question.type in ("select_one", "select_multiple") and question.choices:
        names = {c.name for c in question.choices}
        if any(v not in names for v in value.split()):
            return None
    return value


def constraint_ok(state: State, question: Question, iteration: int, value: str) -> bool:
    """Whether `value` meets the question's constraint; `.` and the question's own name both
    mean the value being checked (ODK checks the new value, not the saved one)."""
    if not question.constraint or value == "":
        return True
    scope = dict(state.scope(iteration, question.repeat))
    scope[question.name] = value
    lists = state.lists()
    context = xpath.Context(scope, current=value, today=state.today, lists=lists,
                            position=iteration, instances=state.definition.instances,
                            now=state.now)
    return xpath.to_bool(xpath.evaluate(xpath.parse(question.constraint), context))


def order(definition: Definition, step: Step) -> tuple[int, int, int]:
    """A step's place in the conversation: a repeat's iterations one after the other."""
    index, iteration = step
    question = definition.questions[index]
    if question.repeat is None or not iteration:
        return index, 0, 0
    first = next(i for i, q in enumerate(definition.questions) if q.repeat == question.repeat)
    return first, iteration, index


def remaining(state: State, step: Step) -> int:
    """How many steps may still come after `step`: those on the path, and those whose
    relevance still depends on a question not answered yet (so the total does not jump up
    as answers open questions)."""
    definition = state.definition
    here = order(definition, step)
    later = [s for s in state.path if order(definition, s) > here]
    on_path = {i for i, _it in later}
    unanswered = {definition.questions[i].name for i, it in (step, *later)
                  if key(definition.questions[i], it) not in state.answers}
    extra = 0
    for index, question in enumerate(definition.questions):
        if index <= step[0] or index in on_path or not question.asks or hidden(question) \
                or not question.relevant or question.repeat is not None:
            continue
        if xpath.references(xpath.parse(question.relevant)) & unanswered:
            extra += 1
    return len(later) + extra
