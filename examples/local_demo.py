"""A small pipeline end to end with a real model, offline: Gemma 3 270M run by llama.cpp on 1 thread.

The task is one a model this small can sometimes do: add two numbers. Filters drop empty
and repeated replies, the math verifier rejects the sums it gets wrong (so the pass rate is
the model's accuracy), the diagnostics compare what it wrote with hand-written sums, and a
dataset card is written. Run by ``make demo-local`` (the first run builds llama.cpp once).
"""

import json
import pathlib
import random

import synthkit as sk
from synthkit.diagnostics import diagnose
from synthkit.io.card import write_card
from synthkit.io.jsonl import iter_records
from synthkit.templates.jinja import JinjaTemplate

rng = random.Random(7)
pairs = [(rng.randint(1, 15), rng.randint(1, 15)) for _ in range(240)]  # repeats on purpose: dedup drops them
tasks = [sk.Record.create(data={"question": f"What is {a} + {b}?", "answer": str(a + b)}) for a, b in pairs]
out = pathlib.Path("out")
out.mkdir(exist_ok=True)
reference = out / "local.reference.jsonl"  # the real reference: sums as a person writes them
reference.write_text("".join(json.dumps({"text": f"{a} + {b} = {a + b}"}) + "\n" for a in range(1, 26) for b in range(1, 26)))

teacher = sk.get_teacher("llamacpp", model="gemma-3-270m", n_threads=1, n_ctx=512)
ask = JinjaTemplate.from_string("{{ question }} Answer with the sum only.", name="sum")
pipeline = (
    sk.Pipeline(tasks, seed=7)
    .generate(teacher, template=ask, params={"max_tokens": 10, "temperature": 0, "stop": ["###", "\n\n"]}, cache=out / "local.cache.sqlite")
    .filter("empty")        # drop empty replies
    .filter("exact-dedup")  # drop repeated question-reply pairs
    .verify("math")         # keep only right sums: data["answer"] is the reference answer
)
summary = pipeline.run(sink=out / "local.jsonl", rejects=out / "local.rejects.jsonl")
print(summary)
wrong = [r for r in iter_records(out / "local.rejects.jsonl") if r.lineage.verdicts and r.lineage.verdicts[-1].name == "math"]
print(f"pass rate (math verifier): {summary.kept}/{summary.kept + len(wrong)} = {summary.kept / max(1, summary.kept + len(wrong)):.0%}")

checked = [*iter_records(out / "local.jsonl"), *wrong]  # everything the verifier saw
diag = diagnose(checked, iter_records(reference), seed=0)
print(f"diagnostics of {len(checked)} replies against {sum(1 for _ in iter_records(reference))} hand-written sums:")
for m in diag.metrics:
    if m.status != "skipped":
        print(f"  {m.title:<28} {m.synthetic:8.3g} vs real {m.real:8.3g}  {m.status}")
print("card:", write_card(out / "local.jsonl", out / "local-card.md", rejects=[out / "local.rejects.jsonl"], reference=reference))
