"""The conversation engine, pure: from a definition and the answers saved so far, what the
values are (calculations, metadata, repeats), which questions to ask now and in which order,
and what a typed answer means. No store, no chat: the conversation module does the I/O.

A step is (question index, iteration): iteration 0 outside a repeat, 1, 2… inside one. The
answer to a question inside a repeat is saved under `name[i]`; the loop question of a repeat
without `repeat_count` ("Add another?") under `repeat[i]` (yes/no). Inside a repeat nested in
another, the iteration is a path (outer i, inner j): saved under `name[i][j]`, and carried as one
number, i + 1000·j (+ 1000²·k a level deeper), so that a step stays two numbers.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime

from bot.core.surveys import expressions as xpath
from bot.core.surveys.forms import Definition, Question, pick

Answers = Mapping[str, tuple[str | None, str | None]]  # key → (value, file id)
Step = tuple[int, int]
IterationPath = tuple[int, ...]  # an iteration's indexes, the outermost repeat's first
MAX_ITERATIONS = 50  # a repeat_count (or a loop) beyond this is cut: one chat, one person
LEVEL = 1000  # an iteration's number per level of nesting (above MAX_ITERATIONS)
_INDEX = re.compile(r"\[(\d{1,3})\]$")


def encode(path: IterationPath) -> int:
    """(i, j, k) → i + 1000·j + 1000²·k; () → 0."""
    return sum(index * LEVEL ** level for level, index in enumerate(path))


def decode(iteration: int) -> IterationPath:
    found = []
    while iteration:
        iteration, index = divmod(iteration, LEVEL)
        found.append(index)
    return tuple(found)


def shown(iteration: int) -> str:
    """An iteration as people read it: `2`, or `2.1` inside a nested repeat."""
    return ".".join(str(i) for i in decode(iteration))


def key(question: Question, iteration: int) -> str:
    """Where the answer to `question` in `iteration` is saved."""
    return question.name + "".join(f"[{i}]" for i in decode(iteration))


def split_key(saved: str) -> tuple[str, int]:
    """`name[3]` → (name, 3); `name[2][1]` → (name, 1002); `name` → (name, 0)."""
    path: list[int] = []
    while (match := _INDEX.search(saved)) and 0 < int(match.group(1)) < LEVEL:
        path.insert(0, int(match.group(1)))
        saved = saved[:match.start()]
    return saved, encode(tuple(path))


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
    # Per repeat, its iterations in order: (path, values of the questions directly in it).
    iterations: dict[str, list[tuple[IterationPath, dict[str, str]]]] = field(default_factory=dict)
    path: list[Step] = field(default_factory=list)
    labels: Mapping[tuple[str, str], str] = field(default_factory=dict)
    chains: dict[str, tuple[str, ...]] = field(default_factory=dict)  # repeat → its nesting
    rows: dict[tuple[str, IterationPath], dict[str, str]] = field(default_factory=dict)

    def lists(self, within: IterationPath = ()) -> dict[str, list[str]]:
        """Every iteration's values of each repeated question; inside an iteration (`within`),
        those of a nested repeat are its own iteration's only (as ODK's relative paths)."""
        found: dict[str, list[str]] = {}
        for repeat, rows in self.iterations.items():
            kept = [(p, row) for p, row in rows
                    if p[:min(len(within), len(p) - 1)] == within[:min(len(within), len(p) - 1)]]
            found[repeat] = [str(p[-1]) for p, _row in kept]
            for _p, row in kept:
                for name, value in row.items():
                    found.setdefault(name, []).append(value)
        return found

    def scope(self, iteration: int, repeat: str | None) -> dict[str, str]:
        """The values an expression at this step sees (its own iteration's first, then the
        enclosing iterations', then those outside repeats)."""
        if not iteration or repeat is None:
            return self.values
        path = decode(iteration)
        merged = dict(self.values)
        for level, name in enumerate(self.chains.get(repeat, (repeat,))[:len(path)]):
            merged.update(self.rows.get((name, path[:level + 1]), {}))
        return merged

    def context(self, question: Question, iteration: int, current: str = "") -> xpath.Context:
        return self.context_at(question.repeat, iteration, current)

    def context_at(self, repeat: str | None, iteration: int,
                   current: str = "") -> xpath.Context:
        path = decode(iteration) if repeat is not None else ()
        return xpath.Context(
            self.scope(iteration, repeat), current=current, today=self.today,
            lists=self.lists(path), position=path[-1] if path else 0,
            instances=self.definition.instances, now=self.now,
            choice_label=lambda q, v: self.labels.get((q, v), v), indexed=self.indexed,
            version=self.definition.version)

    def indexed(self, name: str) -> list[tuple[IterationPath, str]]:
        """Every iteration's value of a repeated question with its path (indexed-repeat()
        naming the iteration at each level)."""
        for rows in self.iterations.values():
            found = [(p, row[name]) for p, row in rows if name in row]
            if found:
                return found
        return [(p, "") for p, _row in self.iterations.get(name, [])]

    def value(self, question: Question, iteration: int) -> str:
        return self.scope(iteration, question.repeat).get(question.name, "")


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
    state = State(definition, answers, today, now, labels=labels,
                  chains=chains(definition))
    # Twice: a calculation may read a question that comes later in the form.
    for _round in range(2):
        state.path = []
        state.iterations = {}
        state.rows = {}
        _walk(state, meta, list(range(len(definition.questions))), None, ())
    return state


def chains(definition: Definition) -> dict[str, tuple[str, ...]]:
    """Each repeat's nesting, outermost first: {inner: (outer, inner)}."""
    outer = {q.name: q.outer for q in definition.questions if q.type == "repeat"}
    found: dict[str, tuple[str, ...]] = {}
    for name in outer:
        chain = [name]
        while (parent := outer.get(chain[0])) is not None and parent not in chain:
            chain.insert(0, parent)
        found[name] = tuple(chain)
    return found


def _child(state: State, question: Question, repeat: str | None) -> str | None:
    """The repeat directly inside `repeat` (None: the top) that holds `question`, or None
    when the question is directly in `repeat`."""
    chain = state.chains.get(question.repeat, (question.repeat,)) if question.repeat else ()
    depth = 0 if repeat is None else chain.index(repeat) + 1 if repeat in chain else len(chain)
    return chain[depth] if depth < len(chain) else None


def _walk(state: State, meta: Meta, block: list[int], repeat: str | None, prefix: IterationPath) -> None:
    """The steps of `block` (question indexes) in the iteration `prefix` of `repeat`; a
    repeat inside it is walked iteration by iteration."""
    definition = state.definition
    questions = definition.questions
    here = encode(prefix)
    position = 0
    while position < len(block):
        index = block[position]
        question = questions[index]
        if question.type == "repeat" and question.name == repeat:
            # The loop's own "Add another?", after the iteration's questions.
            if question.repeat_count is None:
                state.path.append((index, here))
            position += 1
            continue
        child = _child(state, question, repeat)
        if child is None:
            _settle(state, question, here, meta)
            if _shown(state, question, here):
                state.path.append((index, here))
            position += 1
            continue
        inner = [i for i in block[position:] if _child(state, questions[i], repeat) == child]
        inner = inner[:next((n for n, i in enumerate(inner) if i != inner[0] + n), len(inner))]
        position += len(inner)
        loop = definition.repeat_of(child)
        rows = state.iterations.setdefault(child, [])
        context = state.context_at(repeat, here)
        relevant = loop is None or not loop.relevant or xpath.to_bool(
            xpath.evaluate(xpath.parse(loop.relevant), context))
        wanted = _iterations(loop, context) if relevant else 0
        count = 0
        while count < wanted:
            count += 1
            path = (*prefix, count)
            row: dict[str, str] = {}
            rows.append((path, row))
            state.rows[(child, path)] = row
            for i in inner:
                if questions[i].repeat == child and questions[i].type != "repeat":
                    row[questions[i].name] = _saved(state.answers,
                                                    key(questions[i], encode(path))) or ""
            _walk(state, meta, inner, child, path)
            if loop is not None and loop.repeat_count is None and count == wanted \
                    and _saved(state.answers, key(loop, encode(path))) == "yes" \
                    and wanted < MAX_ITERATIONS:
                wanted += 1


def _iterations(loop: Question | None, context: xpath.Context) -> int:
    if loop is None:
        return 1
    if loop.repeat_count is not None:
        number = xpath.to_number(xpath.evaluate(xpath.parse(loop.repeat_count), context))
        if math.isnan(number) or number < 0:
            return 0
        return MAX_ITERATIONS if number > MAX_ITERATIONS else int(number)
    return 1  # one iteration, then each "yes" to "Add another?" adds one


def _settle(state: State, question: Question, iteration: int, meta: Meta) -> None:
    """Compute a calculated value (calculate, metadata, read-only calculation, default)."""
    target = state.values if not iteration or question.repeat is None \
        else state.rows[(question.repeat, decode(iteration))]
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
    context = state.context(question, iteration, current=value)
    context.answers = {**context.answers, question.name: value}
    return xpath.to_bool(xpath.evaluate(xpath.parse(question.constraint), context))


def order(definition: Definition, step: Step) -> tuple[int, ...]:
    """A step's place in the conversation: a repeat's iterations one after the other (and
    a nested repeat's within its iteration)."""
    index, iteration = step
    question = definition.questions[index]
    if question.repeat is None or not iteration:
        return (index,)
    found: list[int] = []
    nesting = chains(definition)
    for level, number in zip(nesting.get(question.repeat, (question.repeat,)),
                             decode(iteration), strict=False):
        first = next(i for i, q in enumerate(definition.questions)
                     if q.repeat is not None and level in nesting.get(q.repeat, (q.repeat,)))
        found += [first, number]
    return (*found, index)


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
