"""Document-grounded QA, in Python: the twin of examples/doc_qa.yaml."""

import os

import synthkit as sk
from synthkit.recipes import source

reader = sk.get_teacher("openai", model="gpt-4o-mini", base_url=os.environ.get("OPENAI_BASE_URL", "https://api.openai.com/v1"), budget=0.5)
pipeline = (
    sk.Pipeline(source("documents", paths="examples/data/docs", size=200))
    .generate(reader, template="doc-qa", params={"temperature": 0.2, "max_tokens": 300})
    .verify("json-schema", schema={"type": "object", "required": ["question", "answer", "quote"]})
    .verify("quote")
    .filter("exact-dedup")
)
print(pipeline.run(sink="out/doc_qa.jsonl", rejects="out/doc_qa.rejects.jsonl"))
