"""Tests of the response cache: key contents and stability, SQLite storage, CachedTeacher resume."""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import sys

from hypothesis import given, settings
from hypothesis import strategies as st

from synthkit.teachers.cache import CachedTeacher, ResponseCache, cache_key
from synthkit.interfaces import Completion, Usage
from synthkit.teachers.openai_client import OpenAITeacher
from synthkit.testing import FakeTeacher

ID = {"base_url": "http://127.0.0.1:1/v1", "model": "m"}
MSGS = [{"role": "system", "content": "S"}, {"role": "user", "content": "U"}]

text = st.text(max_size=20)
messages = st.lists(
    st.fixed_dictionaries({"role": st.sampled_from(["system", "user", "assistant"]), "content": text}), min_size=1, max_size=4
)
params = st.dictionaries(
    st.sampled_from(["temperature", "top_p", "max_tokens", "seed", "stop"]),
    st.one_of(st.integers(0, 1000), st.floats(0, 2, allow_nan=False), text),
    max_size=4,
)


@settings(max_examples=60, deadline=None)
@given(messages, params, st.integers(0, 8))
def test_key_is_stable_and_ignores_dict_order(msgs, p, index):
    """The same request gives the same key however its dicts are ordered."""
    shuffled = [dict(reversed(list(m.items()))) for m in msgs]
    assert cache_key(ID, msgs, p, index) == cache_key(dict(reversed(list(ID.items()))), shuffled, dict(reversed(list(p.items()))), index)


@settings(max_examples=60, deadline=None)
@given(messages, params, st.integers(0, 8), text)
def test_key_changes_with_each_part(msgs, p, index, other):
    """Changing the base URL, model, any message, the params or the sample index changes the key."""
    k = cache_key(ID, msgs, p, index)
    assert k != cache_key({**ID, "base_url": ID["base_url"] + "x"}, msgs, p, index)
    assert k != cache_key({**ID, "model": "m2"}, msgs, p, index)
    assert k != cache_key(ID, msgs, p, index + 1)
    assert k != cache_key(ID, msgs, {**p, "n_probe": other}, index)
    changed = [dict(m) for m in msgs]
    changed[0]["content"] += "!"
    assert k != cache_key(ID, changed, p, index)


def test_key_covers_system_prompt_and_params():
    """Two requests differing only in the system prompt, or only in temperature, have different keys."""
    other_system = [{"role": "system", "content": "T"}, MSGS[1]]
    assert cache_key(ID, MSGS, {}, 0) != cache_key(ID, other_system, {}, 0)
    assert cache_key(ID, MSGS, {"temperature": 0.1}, 0) != cache_key(ID, MSGS, {"temperature": 0.2}, 0)


def test_openai_identity_has_endpoint_not_key():
    """The openai teacher's cache identity is base URL + model; the API key changes no key."""
    a = OpenAITeacher("m", base_url="http://h/v1", api_key="sk-one")
    b = OpenAITeacher("m", base_url="http://h/v1", api_key="sk-two")
    assert a.cache_identity() == b.cache_identity() == {"base_url": "http://h/v1", "model": "m"}


def test_store_is_wal_and_round_trips(tmp_path):
    """The SQLite store runs in WAL mode and returns what was put, marked cached."""
    cache = ResponseCache(tmp_path / "c.db")
    c = Completion(text="hi", finish_reason="length", usage=Usage(3, 4, 0.5), model="m")
    cache.put_many([("k", c)])
    got = cache.get_many(["k", "missing"])
    assert list(got) == ["k"]
    assert got["k"].text == "hi" and got["k"].finish_reason == "length" and got["k"].usage == Usage(3, 4, 0.5)
    assert got["k"].cached
    mode = sqlite3.connect(tmp_path / "c.db").execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"
    cache.close()


async def test_cached_teacher_pays_once_and_returns_the_same(tmp_path):
    """A second identical request is answered from the cache, without calling the teacher."""
    inner = FakeTeacher()
    t = CachedTeacher(inner, tmp_path / "c.db")
    first = await t.complete(MSGS, {"temperature": 1}, n=2)
    second = await t.complete(MSGS, {"temperature": 1}, n=2)
    assert [c.text for c in first] == [c.text for c in second]
    assert len(inner.calls) == 1 and all(c.cached for c in second)
    assert t.name == "fake" and t.model == "fake-model"
    await t.complete(MSGS, {"temperature": 1}, n=3)  # only sample 2 is new
    assert inner.calls[-1][2] == 1 and len(inner.calls) == 2
    await t.aclose()


async def test_identical_requests_in_flight_are_sent_once(tmp_path):
    """Concurrent identical requests share one call to the teacher."""

    class Slow(FakeTeacher):
        async def complete(self, messages, params, *, n=1):
            await asyncio.sleep(0.05)
            return await super().complete(messages, params, n=n)

    inner = Slow()
    t = CachedTeacher(inner, tmp_path / "c.db")
    outs = await asyncio.gather(*(t.complete(MSGS, {}) for _ in range(5)))
    assert len(inner.calls) == 1 and len({o[0].text for o in outs}) == 1
    await t.aclose()


def test_cache_is_shared_across_processes(tmp_path):
    """Rows written by one process are read by another (WAL, committed per response)."""
    db = tmp_path / "c.db"
    code = (
        "import asyncio, sys\n"
        "from synthkit.teachers.cache import CachedTeacher\n"
        "from synthkit.testing import FakeTeacher\n"
        "t = CachedTeacher(FakeTeacher(), sys.argv[1])\n"
        "asyncio.run(t.complete([{'role': 'user', 'content': 'x'}], {}, n=3))\n"
    )
    subprocess.run([sys.executable, "-c", code, str(db)], check=True, timeout=60)
    inner = FakeTeacher()
    t = CachedTeacher(inner, db)
    out = asyncio.run(t.complete([{"role": "user", "content": "x"}], {}, n=3))
    assert inner.calls == [] and [c.text for c in out] == ["echo: x", "echo: x #1", "echo: x #2"]
