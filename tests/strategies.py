"""Hypothesis strategies for records, in one place."""

from __future__ import annotations

from hypothesis import strategies as st

from synthkit import Lineage, Record, Verdict
from synthkit.records import RESERVED_KEYS

text = st.text(max_size=40)
json_scalars = st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.floats(allow_nan=False, allow_infinity=False) | text
json_values = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(text, children, max_size=4),
    max_leaves=10,
)
data_keys = st.text(min_size=1, max_size=12).filter(lambda k: k not in RESERVED_KEYS)

verdicts = st.builds(
    Verdict,
    name=st.text(min_size=1, max_size=12),
    passed=st.booleans(),
    reason=text,
    score=st.none() | st.floats(allow_nan=False, allow_infinity=False),
)

lineages = st.builds(
    Lineage,
    origin=st.sampled_from(["real", "synthetic"]),
    teacher=st.none() | text,
    model=st.none() | text,
    template=st.none() | text,
    template_hash=st.none() | st.text("0123456789abcdef", min_size=16, max_size=16),
    params=st.dictionaries(st.sampled_from(["temperature", "top_p", "max_tokens", "stop"]), json_values, max_size=3),
    seed=st.none() | st.integers(0, 2**31 - 1),
    parents=st.lists(st.text("0123456789abcdef", min_size=16, max_size=16), max_size=3).map(tuple),
    generation=st.integers(0, 10),
    verdicts=st.lists(verdicts, max_size=3).map(tuple),
    finish_reason=st.none() | st.sampled_from(["stop", "length"]),
    usage=st.dictionaries(st.sampled_from(["prompt_tokens", "completion_tokens"]), st.integers(0, 10**6), max_size=2),
    attempts=st.lists(st.dictionaries(st.sampled_from(["response", "reason"]), text, max_size=2), max_size=2).map(tuple),
)

messages = st.lists(
    st.fixed_dictionaries({"role": st.sampled_from(["system", "user", "assistant"]), "content": text}), min_size=1, max_size=4
)

records = st.builds(
    Record,
    id=st.text(min_size=1, max_size=20),
    prompt=st.none() | text,
    messages=st.none() | messages,
    response=st.none() | text,
    data=st.dictionaries(data_keys, json_values, max_size=4),
    lineage=lineages,
)
