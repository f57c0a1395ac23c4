"""Self-instruct with a judge, in Python: the twin of examples/self_instruct_judge.yaml."""

import os

import synthkit as sk
from synthkit.recipes import generator, source

seeds = [
    "Write a haiku about autumn leaves.",
    "Explain how a bicycle gear works to a child.",
    "List three uses of baking soda in cleaning.",
    "Describe the water cycle in two sentences.",
]
writer = sk.get_teacher(
    "openai", model="gpt-4o-mini", base_url=os.environ.get("OPENAI_BASE_URL", "https://api.openai.com/v1"), concurrency=8, budget=1.0
)
pipeline = (
    sk.Pipeline(source("rounds", n=4), seed=0)
    .step(generator("self-instruct", teacher=writer, seeds=seeds, examples=2, num_tasks=3))
    .filter("novelty", seeds=seeds, threshold=0.7)
    .generate(writer, params={"temperature": 0.7, "max_tokens": 400})
    .verify("judge", teacher=writer, threshold=7)
    .filter("exact-dedup")
)
print(pipeline.run(sink="out/self_instruct.jsonl", rejects="out/self_instruct.rejects.jsonl"))
