"""Generation strategies: self-instruct, evol-instruct, persona grids and the LLM-judge rubric.

Each strategy is a registered prompt template (a :class:`~synthkit.JinjaTemplate`, so it is
sandboxed, strict about missing fields and hashed into lineage) plus the small pieces that
make it work in a pipeline:

* self-instruct: :class:`SelfInstruct` (a generator: show a seeded sample of seed tasks,
  ask for new tasks, one record per task) and :class:`NoveltyFilter` (the ``novelty``
  filter: drop a task whose ROUGE-L, or word n-gram Jaccard, with a seed or an earlier
  kept task reaches the threshold).
* evol-instruct: :class:`Evolve` (a generator rewriting each prompt with a depth or
  breadth operator, see :data:`EVOL_OPERATORS`).
* persona/attribute-seeded generation: :func:`attribute_grid` (seed records for the
  cartesian product of attribute values, or a seeded sample of it).
* LLM-judge rubric: the ``judge`` template and :func:`parse_score`.

Document-grounded QA lives in :mod:`synthkit.chunking`.
"""

from __future__ import annotations

import itertools
import math
import random
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs

from .errors import TemplateError
from .interfaces import Context, Filter, Generator, PromptTemplate, Teacher
from .ngrams import word_ngrams, words
from .records import Lineage, Record, Verdict, content_id
from .templates import JinjaTemplate

__all__ = [
    "SELF_INSTRUCT",
    "EVOL_OPERATORS",
    "PERSONA",
    "JUDGE",
    "JUDGE_SYSTEM",
    "DEFAULT_RUBRIC",
    "self_instruct_template",
    "evol_template",
    "persona_template",
    "judge_template",
    "StrategyTemplate",
    "rouge_l",
    "ngram_jaccard",
    "parse_tasks",
    "parse_score",
    "NoveltyFilter",
    "SelfInstruct",
    "Evolve",
    "attribute_grid",
]

# ----------------------------------------------------------------------------- templates
SELF_INSTRUCT = """You are asked to come up with {{ num_tasks }} new, diverse tasks for training a helpful assistant.
Here are some example tasks:
{% for task in seed_tasks %}
Task {{ loop.index }}: {{ task }}
{% endfor %}

Write {{ num_tasks }} new tasks. Each must be self-contained, differ from the examples and from each
other in topic and in wording, and be answerable by a text-only assistant.
Write them as a numbered list, one task per line:
1. <task>
2. <task>"""

#: Evol-instruct operators: four deepen the prompt ("depth"), one writes a new one ("breadth").
EVOL_OPERATORS: dict[str, str] = {
    "constraints": "Add one more constraint or requirement to the prompt.",
    "deepen": "If the prompt asks about a specific issue, increase the depth and breadth of the question.",
    "concretize": "Replace general concepts in the prompt with more specific ones.",
    "reasoning": "If the prompt can be solved in a few simple steps, rewrite it to explicitly require "
    "multi-step reasoning.",
    "breadth": "Draw inspiration from the prompt to create a brand-new prompt in the same domain, "
    "but rarer and more long-tailed. It must have a similar length and difficulty.",
}
DEPTH_OPERATORS = ("constraints", "deepen", "concretize", "reasoning")

_EVOL = """I want you to act as a prompt rewriter.
Your objective is to rewrite a given prompt into a {{ "new" if operator == "breadth" else "more complex" }} version
that a capable assistant can still answer, and that a human would understand.
Do not omit the non-text parts (tables, code) of the given prompt. The rewritten prompt may add at most
20 words to the given prompt{% if operator == "breadth" %} (for a new prompt: about the same length){% endif %}.
Do not use the words "given prompt" or "rewritten prompt" in it.

Method: {{ instruction }}

#Given Prompt#:
{{ prompt if prompt is not none else record.user_content() }}

#Rewritten Prompt#:"""

PERSONA = """{% if persona is defined %}You are writing for this reader: {{ persona }}.
{% endif %}Write one {{ difficulty | default("medium") }}-difficulty {{ format | default("question") }} about {{ topic }}.
{% for key, value in extra | default({}) | dictsort %}{{ key }}: {{ value }}
{% endfor %}It must be self-contained. Reply with the {{ format | default("question") }} only."""

JUDGE_SYSTEM = "You are a strict, fair grader of answers. You follow the rubric exactly."
DEFAULT_RUBRIC = """10: fully correct, complete and clearly explained.
7-9: correct, with minor omissions or unclear steps.
4-6: partly correct, or correct with a significant error in the reasoning.
1-3: wrong, off-topic or unsupported."""
JUDGE = """Grade the response to the task below with the rubric.

# Task
{{ prompt if prompt is not none else record.user_content() }}

# Response
{{ response }}

{% if answer is defined %}
# Reference answer
{{ answer }}

{% endif %}
# Rubric (score from 1 to {{ scale }})
{{ rubric }}

Give your reasons in a few sentences. Then end with a last line of the form
Score: <n>/{{ scale }}"""


@attrs.frozen
class StrategyTemplate(JinjaTemplate):
    """A :class:`~synthkit.JinjaTemplate` that also requires some content fields to be non-empty.

    Attributes:
        required: fields that must be present and not ``None`` or empty; ``"prompt"`` is
            satisfied by a prompt or a user message.
    """

    required: tuple[str, ...] = attrs.field(default=(), converter=tuple)

    def render(self, record: Record) -> list[dict[str, str]]:
        for field in self.required:
            value = record.user_content() if field == "prompt" else record.get(field)
            if value is None or value == "":
                msg = (
                    f"template {self.name!r} cannot render record {record.id}: it needs {field!r}, which the record "
                    f"lacks. Add the field to the input, or choose another template."
                )
                raise TemplateError(msg)
        return super().render(record)


def self_instruct_template(*, num_tasks: int = 5) -> JinjaTemplate:
    """The ``self-instruct`` template: needs ``seed_tasks`` (a list of strings)."""
    return JinjaTemplate(name="self-instruct", user=SELF_INSTRUCT, defaults={"num_tasks": num_tasks})


def evol_template(operator: str = "constraints") -> JinjaTemplate:
    """The ``evol-instruct`` template for one operator of :data:`EVOL_OPERATORS`."""
    if operator not in EVOL_OPERATORS:
        msg = f"unknown evol-instruct operator {operator!r}; choose one of {', '.join(EVOL_OPERATORS)}"
        raise ValueError(msg)
    return StrategyTemplate(
        name=f"evol-instruct:{operator}",
        user=_EVOL,
        defaults={"operator": operator, "instruction": EVOL_OPERATORS[operator]},
        required=("prompt",),
    )


def persona_template() -> JinjaTemplate:
    """The ``persona`` template: ``topic`` required; ``persona``, ``difficulty``, ``format`` optional."""
    return JinjaTemplate(name="persona", user=PERSONA)


def judge_template(*, rubric: str = DEFAULT_RUBRIC, scale: int = 10) -> JinjaTemplate:
    """The ``judge`` template: grades ``response`` to ``prompt`` (and ``answer``, if any)."""
    return StrategyTemplate(
        name="judge", user=JUDGE, system=JUDGE_SYSTEM, defaults={"rubric": rubric, "scale": scale}, required=("prompt", "response")
    )


# ----------------------------------------------------------------------------- similarity
def _lcs(a: Sequence[str], b: Sequence[str]) -> int:
    if len(a) < len(b):
        a, b = b, a
    prev = [0] * (len(b) + 1)
    for x in a:
        cur = [0]
        for j, y in enumerate(b):
            cur.append(prev[j] + 1 if x == y else max(prev[j + 1], cur[j]))
        prev = cur
    return prev[-1]


def rouge_l(a: str, b: str) -> float:
    """Return the ROUGE-L F1 of two texts on normalised words (0 to 1).

    >>> rouge_l("write a poem about the sea", "Write a poem about the sea!")
    1.0
    """
    wa, wb = words(a), words(b)
    if not wa or not wb:
        return 0.0
    lcs = _lcs(wa, wb)
    if lcs == 0:
        return 0.0
    p, r = lcs / len(wb), lcs / len(wa)
    return 2 * p * r / (p + r)


def ngram_jaccard(a: str, b: str, n: int = 2) -> float:
    """Return the Jaccard similarity of the word ``n``-gram sets of two texts (0 to 1)."""
    sa, sb = set(word_ngrams(words(a), n)), set(word_ngrams(words(b), n))
    if not sa or not sb:
        return 0.0
    return len(sa & sb) / len(sa | sb)


_NUMBERED = re.compile(r"^\s*(?:\d+[.)]|[-*•]|Task\s*\d+\s*[:.])\s*(.+?)\s*$", re.I | re.M)


def parse_tasks(text: str) -> list[str]:
    """Return the tasks of a numbered (or bulleted) list, in order; blank ones are skipped."""
    return [t for t in (m.group(1).strip() for m in _NUMBERED.finditer(text)) if t]


_SCORE = re.compile(
    r"(?:score|rating|grade)\W{0,5}\s*(?:is\s*)?(-?\d+(?:\.\d+)?)\s*(?:/\s*(\d+(?:\.\d+)?)|out of\s*(\d+))?", re.I
)


def parse_score(text: str, *, scale: float | None = None) -> float | None:
    """Return the last score in a judge's reply (``Score: 8/10``, ``"score": 8``...), or ``None``.

    A score written out of another scale (``4/5``) is rescaled to ``scale`` when one is given.

    >>> parse_score("Clear and correct.\\nScore: 8/10")
    8.0
    >>> parse_score("**Rating:** 4 out of 5", scale=10)
    8.0
    """
    matches = list(_SCORE.finditer(text))
    if not matches:
        return None
    m = matches[-1]
    value = float(m.group(1))
    out_of = m.group(2) or m.group(3)
    if scale is not None and out_of is not None and float(out_of) not in (0, scale):
        value = value * scale / float(out_of)
    return value


# ----------------------------------------------------------------------------- self-instruct
def _texts(seeds: Iterable[str] | str | Path) -> list[str]:
    if isinstance(seeds, (str, Path)) and Path(seeds).is_file():
        from .jsonl import iter_records

        out = []
        for r in iter_records(seeds):
            if isinstance(r, Record):
                out.append(r.user_content() or r.text())
        return out
    if isinstance(seeds, str):
        return [seeds]
    return [s.user_content() if isinstance(s, Record) else str(s) for s in seeds]


class NoveltyFilter(Filter):
    """Drop a text too close to a seed or to a text this filter kept before (the ``novelty`` filter).

    Args:
        seeds: the seed texts (strings, records, or a JSONL path of records).
        threshold: drop at this similarity or above (self-instruct uses ROUGE-L 0.7).
        metric: ``"rouge-l"`` or ``"jaccard"`` (word n-grams, ``n`` words).
        field: the field compared; default the record's prompt (or last user message).
        grow: also compare with texts kept earlier (the pool grows, as in self-instruct).
    """

    name = "novelty"
    stateful = True  # the index grows as records pass: one place, input order

    def __init__(
        self,
        seeds: Iterable[str] | str | Path = (),
        *,
        threshold: float = 0.7,
        metric: str = "rouge-l",
        n: int = 2,
        field: str | None = None,
        grow: bool = True,
    ) -> None:
        if metric not in ("rouge-l", "jaccard"):
            msg = f"metric must be 'rouge-l' or 'jaccard', got {metric!r}"
            raise ValueError(msg)
        self.seeds = _texts(seeds)
        self.pool: list[tuple[str, str]] = [("seed", s) for s in self.seeds]
        self.threshold = threshold
        self.metric = metric
        self.n = n
        self.field = field
        self.grow = grow

    def similarity(self, a: str, b: str) -> float:
        return rouge_l(a, b) if self.metric == "rouge-l" else ngram_jaccard(a, b, self.n)

    def check(self, record: Record) -> Verdict:
        text = record.text(self.field) if self.field else (record.user_content() or record.text())
        best, which, source = 0.0, "", ""
        for kind, other in self.pool:
            s = self.similarity(text, other)
            if s > best:
                best, which, source = s, other, kind
                if s >= self.threshold:
                    break
        label = "ROUGE-L" if self.metric == "rouge-l" else f"{self.n}-gram Jaccard"
        if best >= self.threshold:
            shown = which if len(which) <= 80 else which[:77] + "..."
            what = "seed" if source == "seed" else "earlier task"
            return Verdict(self.name, False, f"too close to {what} {shown!r}: {label} {best:.2f} >= {self.threshold}", best)
        if self.grow:
            self.pool.append(("kept", text))
        return Verdict(self.name, True, f"novel: highest {label} {best:.2f} < {self.threshold}", best)


def _child(parent: Record, teacher: Teacher, completion: Any, tmpl: PromptTemplate, params: Mapping[str, Any], ctx: Context, step: str, index: int, *, prompt: str, data: Mapping[str, Any]) -> Record:
    lineage = Lineage(
        origin="synthetic",
        teacher=teacher.name,
        model=completion.model or teacher.model,
        template=tmpl.name,
        template_hash=tmpl.hash,
        params=params,
        seed=ctx.seed_for(parent, step),
        parents=(parent.id,),
        generation=parent.lineage.generation + 1,
        finish_reason=completion.finish_reason,
        usage=completion.usage.to_dict(),
    )
    cid = content_id([parent.id, step, teacher.name, lineage.model, tmpl.hash, dict(params), index, prompt])
    return Record(id=cid, prompt=prompt, data=data, lineage=lineage)


def _teacher(teacher: Teacher | str, options: Mapping[str, Any] | None = None) -> Teacher:
    if isinstance(teacher, str):
        from .plugins import get_teacher

        return get_teacher(teacher, **dict(options or {}))
    return teacher


class SelfInstruct(Generator):
    """Self-instruct: show a seeded sample of seed tasks and ask for new ones; one record per new task.

    Follow it with :class:`NoveltyFilter` (``.filter("novelty", seeds=...)``) to drop tasks
    too close to a seed or to each other.

    Args:
        teacher: a teacher object or registered name.
        seeds: the seed tasks (strings, records, or a JSONL path).
        examples: seed tasks shown per request (sampled per record from the run seed).
        num_tasks: new tasks asked for per request.
        params: sampling parameters (self-instruct samples at a high temperature).
        template: the template; default the registered ``self-instruct``.

    An input record whose data has ``seed_tasks`` uses those instead of a sample; any
    other record (for example from :meth:`rounds`) just triggers one request.
    """

    def __init__(
        self,
        teacher: Teacher | str,
        seeds: Iterable[str] | str | Path,
        *,
        examples: int = 4,
        num_tasks: int = 5,
        params: Mapping[str, Any] | None = None,
        template: PromptTemplate | None = None,
    ) -> None:
        self.teacher = _teacher(teacher)
        self.seeds = _texts(seeds)
        if not self.seeds:
            msg = "self-instruct needs at least one seed task"
            raise ValueError(msg)
        self.examples = examples
        self.params = dict(params if params is not None else {"temperature": 1.0})
        self.template = template or self_instruct_template(num_tasks=num_tasks)
        self.name = "self-instruct"

    @staticmethod
    def rounds(n: int) -> Iterator[Record]:
        """Yield ``n`` trigger records, one request each."""
        for i in range(n):
            yield Record.create(data={"round": i})

    async def generate(self, record: Record, ctx: Context) -> Sequence[Record]:
        shown = record.data.get("seed_tasks")
        if shown is None:
            rng = ctx.rng_for(record, self.name)
            shown = rng.sample(self.seeds, min(self.examples, len(self.seeds)))
        rec = record.evolve(data={**record.data, "seed_tasks": list(shown)})
        messages = self.template.render(rec)
        completion = (await self.teacher.complete(messages, self.params, n=1))[0]
        tasks = parse_tasks(completion.text)
        return [
            _child(record, self.teacher, completion, self.template, self.params, ctx, self.name, i, prompt=task, data={"seed_tasks": list(shown)})
            for i, task in enumerate(tasks)
        ]

    async def aclose(self) -> None:
        await self.teacher.aclose()


# ----------------------------------------------------------------------------- evol-instruct
_REWRITTEN = re.compile(r"#?\s*Rewritten Prompt\s*#?\s*:?\s*", re.I)


class Evolve(Generator):
    """Evol-instruct: rewrite each record's prompt with a depth or breadth operator.

    Args:
        teacher: a teacher object or registered name.
        operators: operator names from :data:`EVOL_OPERATORS`; one is picked per record
            from the run seed, so a run is reproducible. ``"depth"`` stands for the four
            depth operators.
        params: sampling parameters.

    The child's ``prompt`` is the evolved prompt (no response); its data keeps the
    parent's data plus ``evol_operator``. A rewrite that is empty, unchanged, or still
    talks about "the given prompt" is dropped (evol-instruct's elimination step).
    """

    def __init__(
        self,
        teacher: Teacher | str,
        operators: Sequence[str] = ("depth", "breadth"),
        *,
        params: Mapping[str, Any] | None = None,
    ) -> None:
        ops: list[str] = []
        for op in operators:
            ops.extend(DEPTH_OPERATORS if op == "depth" else [op])
        self.templates = {op: evol_template(op) for op in ops}
        self.operators = ops
        self.teacher = _teacher(teacher)
        self.params = dict(params or {})
        self.name = "evol-instruct"

    async def generate(self, record: Record, ctx: Context) -> Sequence[Record]:
        op = ctx.rng_for(record, self.name).choice(self.operators)
        tmpl = self.templates[op]
        completion = (await self.teacher.complete(tmpl.render(record), self.params, n=1))[0]
        text = _REWRITTEN.sub("", completion.text).strip()
        original = record.user_content().strip()
        if not text or text == original or "given prompt" in text.lower():
            return []
        data = {**record.data, "evol_operator": op}
        return [_child(record, self.teacher, completion, tmpl, self.params, ctx, self.name, 0, prompt=text, data=data)]

    async def aclose(self) -> None:
        await self.teacher.aclose()


# ----------------------------------------------------------------------------- persona grids
def attribute_grid(
    attributes: Mapping[str, Sequence[Any]], *, sample: int | None = None, seed: int = 0
) -> Iterator[Record]:
    """Yield one seed record per combination of attribute values, for coverage.

    Args:
        attributes: attribute name to its values, e.g. ``{"topic": [...], "persona": [...],
            "difficulty": [...], "format": [...]}``.
        sample: yield a seeded sample of this many distinct combinations instead of all
            of them (the product is never built in memory).
        seed: the sample's seed.

    Examples:
        >>> [r.data for r in attribute_grid({"topic": ["sets", "limits"], "difficulty": ["easy"]})]
        [{'topic': 'sets', 'difficulty': 'easy'}, {'topic': 'limits', 'difficulty': 'easy'}]
    """
    keys = list(attributes)
    values = [list(attributes[k]) for k in keys]
    for k, v in zip(keys, values):
        if not v:
            msg = f"attribute {k!r} has no values"
            raise ValueError(msg)
    total = math.prod(len(v) for v in values)
    if sample is None:
        for combo in itertools.product(*values):
            yield Record.create(data=dict(zip(keys, combo)))
        return
    rng = random.Random(seed)
    for index in sorted(rng.sample(range(total), min(sample, total))):
        combo = []
        for v in reversed(values):
            index, r = divmod(index, len(v))
            combo.append(v[r])
        yield Record.create(data=dict(zip(keys, reversed(combo))))
