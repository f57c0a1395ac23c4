"""Multi-turn dialogues: a simulated user with a persona and a goal talks with the assistant teacher.

:class:`Dialogue` is a generator step. The simulated user is a teacher (the assistant's
own, or another) prompted with the record's ``persona`` and ``goal`` (a persona grid's
fields, or the record's own); it sees the conversation from its side (its own turns as
``assistant``, the assistant's as ``user``). The two take turns for ``turns`` assistant
replies, or until a stop:

* the user ends the conversation: its message contains a ``stop`` phrase (default
  ``goodbye``); that farewell is not kept, the dialogue ends on the assistant's reply;
* ``until``, a verifier (a judge) run on the dialogue after each assistant reply, passes.

A ``check`` verifier judges every assistant reply as it comes (the reply as ``response``,
the conversation before it as ``messages``); a failing reply drops the dialogue with the
turn and the reason. The kept record holds the conversation in ``messages`` and the last
assistant reply in ``response``, so any verifier or judge can check the whole dialogue
afterwards; ``dialogue_stop`` says why it ended (``turns``, ``user``, ``until``) and
``lineage.turns`` who said each turn, with which teacher, model and template, and what
it used.

Every turn's request goes through the teacher and the cache (``cache=``): a re-run after a
crash is answered from the cache turn by turn up to where it stopped, and pays only the rest.

Example:
    >>> step = Dialogue("openai", turns=4, cache="dialogues.cache.sqlite")  # doctest: +SKIP
    >>> Pipeline(attribute_grid({"persona": personas, "goal": goals})).step(step).run("dialogues.jsonl")  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs

from synthkit.errors import InputError
from synthkit.generators._turns import model_turn, total_usage
from synthkit.generators.generate import child_of
from synthkit.interfaces import Completion, Context, Drop, Generator, PromptTemplate, Swap, Teacher, Verifier, copy_with
from synthkit.plugins import resolve
from synthkit.records import Record, content_id
from synthkit.teachers.params import check_params
from synthkit.templates.jinja import JinjaTemplate

__all__ = ["Dialogue", "USER_TEMPLATE", "dialogue_seeds", "user_template"]

#: The simulated user's prompt: a system part with the persona and goal, and the opening request.
USER_TEMPLATE = JinjaTemplate(
    name="simulated-user",
    system=(
        "You are role-playing a user who is talking with an AI assistant. Stay in character.\n"
        "{% if persona %}Who you are: {{ persona }}\n{% endif %}"
        "{% if goal %}Your goal in this conversation: {{ goal }}\n{% endif %}"
        "Write only your next message to the assistant, as this user would write it. "
        "When your goal is met, or you have nothing more to ask, reply with just: Goodbye."
    ),
    user="Write your first message to the assistant{% if topic %}, about {{ topic }}{% endif %}.",
    defaults={"persona": None, "goal": None, "topic": None},
)


def user_template() -> JinjaTemplate:
    """The built-in ``simulated-user`` template (:data:`USER_TEMPLATE`)."""
    return USER_TEMPLATE


class Dialogue(Generator):
    """Play a conversation between a simulated user and the assistant teacher.

    Args:
        assistant: the assistant teacher (object or registered name).
        user: the simulated user's teacher (default: the assistant's).
        turns: assistant replies in a full dialogue (at least 1).
        user_template: the simulated user's prompt, rendered with the record (default
            :data:`USER_TEMPLATE`: ``persona``, ``goal``, ``topic``).
        system: the assistant's system prompt, a template (object, name or file) whose
            rendering gives it, or ``None``: the record's own system message, if any.
        params: the assistant's sampling parameters.
        user_params: the simulated user's (default: ``params``).
        stop: phrases that end the dialogue when the user's message contains one (case-insensitive).
        until: a verifier run on the dialogue after each assistant reply; it ends when it passes.
        check: a verifier run on each assistant reply; a failure drops the dialogue.
        cache: a SQLite file caching every turn's request (both teachers share it).
        name: the step's name (default ``dialogue:<teacher>``).

    A record with a ``prompt`` (or ``messages`` ending in a user turn) opens with it;
    otherwise the simulated user writes the first message.
    """

    def __init__(
        self,
        assistant: Teacher | str,
        user: Teacher | str | None = None,
        *,
        turns: int = 4,
        user_template: PromptTemplate | str | None = None,
        system: PromptTemplate | str | None = None,
        params: Mapping[str, Any] | None = None,
        user_params: Mapping[str, Any] | None = None,
        stop: Sequence[str] = ("goodbye",),
        until: Verifier | str | None = None,
        check: Verifier | str | None = None,
        cache: str | Path | None = None,
        name: str | None = None,
    ) -> None:
        if turns < 1:
            msg = f"turns must be at least 1, got {turns}"
            raise InputError(msg)
        self.assistant: Teacher = resolve("teacher", assistant)
        self.user: Teacher = self.assistant if user is None else resolve("teacher", user)
        if cache is not None:
            from synthkit.teachers.cache import CachedTeacher, ResponseCache

            store = ResponseCache(cache)
            same = self.user is self.assistant
            self.assistant = CachedTeacher(self.assistant, store)
            self.user = self.assistant if same else CachedTeacher(self.user, store)
        self.turns = turns
        self.user_template: PromptTemplate = USER_TEMPLATE if user_template is None else resolve("template", user_template)
        self.system: PromptTemplate | None = None if system is None else resolve("template", system)
        self.params = check_params(params)
        self.user_params = self.params if user_params is None else check_params(user_params)
        self.stop = tuple(s.lower() for s in stop)
        self.until: Verifier | None = None if until is None else resolve("verifier", until)
        self.check: Verifier | None = None if check is None else resolve("verifier", check)
        self.name = name or f"dialogue:{self.assistant.name}"

    def opening(self, record: Record) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """The assistant's system messages and the conversation the record opens with."""
        msgs = [dict(m) for m in record.messages] if record.messages else []
        if not msgs and record.prompt is not None:
            msgs = [{"role": "user", "content": record.prompt}]
        system = [m for m in msgs if m.get("role") == "system"]
        convo = [m for m in msgs if m.get("role") != "system"]
        if self.system is not None:
            system = [m for m in self.system.render(record) if m.get("role") == "system"]
        return system, convo

    def user_messages(self, record: Record, convo: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """The simulated user's request: its prompt, then the conversation seen from its side."""
        flip = {"user": "assistant", "assistant": "user"}
        return [*self.user_template.render(record), *({"role": flip[m["role"]], "content": m["content"]} for m in convo)]

    async def generate(self, record: Record, ctx: Context) -> Sequence[Record | Drop]:
        system, convo = self.opening(record)
        turns: list[dict[str, Any]] = [{"turn": i, "role": m["role"], "source": "record"} for i, m in enumerate(convo)]
        replies = 0
        last: Completion | None = None
        why = "turns"
        while replies < self.turns:
            if not convo or convo[-1]["role"] == "assistant":
                said = (await self.user.complete(self.user_messages(record, convo), self.user_params, n=1))[0]
                if any(s in said.text.lower() for s in self.stop):
                    turns.append({**model_turn(len(turns), "user", self.user, said, self.user_template), "kept": False})
                    why = "user"
                    break
                convo.append({"role": "user", "content": said.text})
                turns.append(model_turn(len(turns), "user", self.user, said, self.user_template))
            last = (await self.assistant.complete([*system, *convo], self.params, n=1))[0]
            convo.append({"role": "assistant", "content": last.text})
            turns.append(model_turn(len(turns), "assistant", self.assistant, last, self.system))
            replies += 1
            if self.check is not None:
                verdict = await self.check.verify(self._child(record, ctx, system, convo, last, turns, why))
                if not verdict.passed:
                    child = self._child(record, ctx, system, convo, last, turns, why).with_verdict(verdict)
                    return [Drop(child, f"assistant turn {replies}: {verdict.reason}")]
            if self.until is not None and replies < self.turns:
                verdict = await self.until.verify(self._child(record, ctx, system, convo, last, turns, why))
                if verdict.passed:
                    why = "until"
                    break
        if last is None:
            child = self._child(record, ctx, system, convo, Completion(text=""), turns, why)
            return [Drop(child, "the simulated user ended the conversation before the assistant replied")]
        return [self._child(record, ctx, system, convo, last, turns, why)]

    def _child(
        self,
        parent: Record,
        ctx: Context,
        system: list[dict[str, Any]],
        convo: list[dict[str, Any]],
        last: Completion,
        turns: list[dict[str, Any]],
        why: str,
    ) -> Record:
        ends_on_reply = bool(convo) and convo[-1]["role"] == "assistant"
        response = convo[-1]["content"] if ends_on_reply else None
        earlier = convo[:-1] if ends_on_reply else convo
        summed = Completion(text=response or "", finish_reason=last.finish_reason, usage=total_usage(turns), model=last.model)
        child = child_of(
            parent,
            summed,
            teacher=self.assistant,
            template=self.system,
            params=self.params,
            ctx=ctx,
            step=self.name,
            key=[self.name, self.assistant.model, self.user.model, self.params, self.user_template.hash, len(turns)],
            messages=[*system, *earlier],
            response=response,
            data={**parent.data, "dialogue_stop": why},
        )
        return child.evolve(lineage=attrs.evolve(child.lineage, turns=tuple(turns)))

    def teachers(self) -> tuple[Teacher, ...]:
        out = list(self.assistant.teachers())
        if self.user is not self.assistant:
            out += self.user.teachers()
        for v in (self.until, self.check):
            if v is not None:
                out += v.teachers()
        return tuple(out)

    def with_teachers(self, swap: Swap) -> Dialogue:
        assistant = self.assistant.with_teachers(swap)
        user = assistant if self.user is self.assistant else self.user.with_teachers(swap)
        changes: dict[str, Any] = {"assistant": assistant, "user": user}
        for key in ("until", "check"):
            v = getattr(self, key)
            if v is not None:
                changes[key] = v.with_teachers(swap)
        return copy_with(self, **changes)

    async def aclose(self) -> None:
        await self.assistant.aclose()
        if self.user is not self.assistant:
            await self.user.aclose()
        for v in (self.until, self.check):
            if v is not None:
                await v.aclose()


def dialogue_seeds(
    records: Iterable[Record] | None = None,
    *,
    personas: Sequence[str] | None = None,
    goals: Sequence[str] | None = None,
) -> Iterator[Record]:
    """Yield one seed record per input record, persona and goal (each crossed with the others).

    Args:
        records: the input records (``None``: one empty record).
        personas: put in each seed's ``persona`` field (``None``: keep the record's).
        goals: put in each seed's ``goal`` field (``None``: keep the record's).

    A seed's id derives from its record's id, persona and goal, so a re-run makes the same ids.
    """
    for rec in records if records is not None else [Record.create(data={})]:
        for persona in personas if personas is not None else [None]:
            for goal in goals if goals is not None else [None]:
                data = dict(rec.data)
                if persona is not None:
                    data["persona"] = persona
                if goal is not None:
                    data["goal"] = goal
                if persona is None and goal is None:
                    yield rec
                    continue
                yield rec.evolve(id=content_id([rec.id, persona, goal]), data=data)
