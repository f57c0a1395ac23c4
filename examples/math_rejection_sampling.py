"""Math rejection sampling, end to end and offline: sample n, verify, keep, pair, export SFT and DPO.

The Python twin of examples/math_rejection_sampling.yaml. A model-free teacher (``procedural``)
works problems of its own and errs on purpose 30% of the time, thinking in ``<think>`` tags as
a reasoning model does. Every step is the Python face of a command (shown beside it);
docs/reasoning.md walks through it with a real run.
"""

from pathlib import Path

import synthkit as sk
from synthkit.generators.pairs import make_pairs
from synthkit.generators.sampling import select_samples
from synthkit.io.exporters import export
from synthkit.recipes import source

out = Path("out")
out.mkdir(exist_ok=True)
teacher = sk.get_teacher("procedural", error_rate=0.3, think=True)

# 1. problems: 100 of them (arithmetic, word problems, linear equations; levels 1 to 3), with reference answers
families = ["arithmetic", "word-problems", "linear-equations"]
problems = source("problems", teacher=teacher, n=100, seed=1, difficulty=[1, 2, 3], families=families)

# 2. sample 8 answers per problem      (synthkit generate problems.jsonl -o samples.jsonl --teacher procedural -n 8 ...)
print(sk.Pipeline(problems).generate(teacher, n=8).run(sink=out / "samples.jsonl", rejects=out / "samples.rejects.jsonl"))

# 3. verify, keep 1 per problem, drop the too easy and too hard
#                                      (synthkit select samples.jsonl -o kept.jsonl --verifier math --too-easy 1 --too-hard 0 ...)
print(select_samples(out / "samples.jsonl", out / "kept.jsonl", verifier="math", keep=1, too_easy=1.0, too_hard=0.0,
                     rejects=out / "not-kept.jsonl", pass_rates=out / "pass-rates.jsonl"))

# 4. one chosen/rejected pair per problem   (synthkit pairs samples.jsonl -o pairs.jsonl --verifier math ...)
print(make_pairs(out / "samples.jsonl", out / "pairs.jsonl", verifier="math", rejects=out / "unpaired.jsonl"))

# 5. training files: reasoning SFT (think tags in the assistant turn) and DPO
print(export(out / "kept.jsonl", out / "sft.jsonl", format="openai", reasoning="think"))
print(export(out / "pairs.jsonl", out / "dpo.jsonl", format="dpo"))
