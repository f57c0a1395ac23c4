"""A small pipeline end to end with a real model, offline: Gemma 3 270M run by llama.cpp on 1 thread.

The task is one such a small model can often do: add two small numbers. Filters drop empty
and repeated replies, the math verifier rejects the sums it gets wrong (so the pass rate is
the model's accuracy), the diagnostics compare its replies with real ones, and a dataset card
is written. Run by ``make demo-local`` (the first run builds llama.cpp once; see the README).
"""

import random

import synthkit as sk
from synthkit.diagnostics import diagnose
from synthkit.io.card import write_card
from synthkit.io.jsonl import iter_records
from synthkit.templates.jinja import JinjaTemplate

rng = random.Random(7)
pairs = [(rng.randint(1, 9), rng.randint(1, 9)) for _ in range(40)]
tasks = [sk.Record.create(data={"question": f"What is {a} + {b}?", "answer": str(a + b)}) for a, b in pairs]
# the real reference: sums written by hand, in the form a person answers (twice as many as the synthetic set)
reference = [f"{a} + {b} = {a + b}" for a in range(1, 10) for b in range(1, 10)]

teacher = sk.get_teacher("llamacpp", model="gemma-3-270m", n_threads=1, n_ctx=512)
ask = JinjaTemplate.from_string("{{ question }} Answer with the sum only.", name="sum")
pipeline = (
    sk.Pipeline(tasks, seed=7)
    .generate(teacher, template=ask, params={"max_tokens": 8, "temperature": 0, "stop": ["###", "\n"]}, cache="out/local.cache.sqlite")
    .filter("empty")        # drop empty replies
    .filter("exact-dedup")  # drop repeated question-reply pairs
    .verify("math")         # keep only right sums: data["answer"] is the reference
)
summary = pipeline.run(sink="out/local.jsonl", rejects="out/local.rejects.jsonl")
print(summary)
wrong = sum(n for (step, _), n in summary.dropped.items() if step == "math")
checked = summary.kept + wrong
print(f"pass rate (math verifier): {summary.kept}/{checked} = {summary.kept / max(1, checked):.0%}")
diag = diagnose(iter_records("out/local.jsonl"), reference, seed=0)
print("diagnostics against the hand-written sums:", "collapse warning" if diag.collapsed else "no collapse warning")
for m in diag.metrics:
    if m.status != "skipped":
        print(f"  {m.title}: {m.synthetic:.3g} vs real {m.real:.3g} ({m.status})")
print("card:", write_card("out/local.jsonl", "out/local-card.md", rejects=["out/local.rejects.jsonl"]))
