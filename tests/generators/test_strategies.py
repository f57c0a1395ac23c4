"""Strategy templates: each renders against fixtures and runs end to end against the local test server."""

from __future__ import annotations

import json
import re

import pytest

import synthkit as sk
from synthkit.verify.quote import QuoteVerifier, normalize_quote
from synthkit.generators.chunking import chunk_documents, chunk_text
from synthkit.errors import TemplateError
from synthkit.hookspecs import hookimpl
from synthkit.plugins import load_plugins
from synthkit.records import Record
from synthkit.generators.evolve import Evolve
from synthkit.filters.novelty import NoveltyFilter, ngram_jaccard, rouge_l
from synthkit.generators.self_instruct import SelfInstruct, parse_tasks
from synthkit.generators.grid import attribute_grid
from synthkit.verify.judge import parse_score
from synthkit.templates.jinja import JinjaTemplate, load_folder

SEEDS = [
    "Write a haiku about autumn leaves.",
    "Explain how a bicycle gear works to a child.",
    "List three uses of baking soda in cleaning.",
    "Translate 'good morning' into French and Spanish.",
    "Summarise the plot of Romeo and Juliet in two sentences.",
]

FIXTURES = {
    "self-instruct": (
        {"seed_tasks": SEEDS[:2]},
        ["Task 1: Write a haiku about autumn leaves.", "Task 2: Explain how a bicycle gear", "Write 5 new tasks"],
    ),
    "evol-instruct": ({"prompt": "What is 2 + 2?"}, ["#Given Prompt#:\nWhat is 2 + 2?", "Add one more constraint", "#Rewritten Prompt#:"]),
    "doc-qa": (
        {"chunk": "The Nile is about 6650 km long.", "source": "rivers.txt"},
        ["# Passage (from rivers.txt)", "The Nile is about 6650 km long.", '"quote"'],
    ),
    "persona": (
        {"topic": "fractions", "persona": "a retired sailor", "difficulty": "hard", "format": "word problem"},
        ["You are writing for this reader: a retired sailor.", "Write one hard-difficulty word problem about fractions."],
    ),
    "judge": (
        {"prompt": "Capital of France?", "response": "Paris", "answer": "Paris"},
        ["# Task\nCapital of France?", "# Response\nParis", "# Reference answer\nParis", "Score: <n>/10"],
    ),
}


def _teacher(server):
    return sk.get_teacher("openai", model="m", base_url=server.url, api_key="k", max_attempts=1)


@pytest.mark.parametrize("name", sorted(FIXTURES))
def test_template_renders_fixture(name):
    """Each registered strategy template renders its fixture record with the expected parts and a stable hash."""
    reg = load_plugins(entry_points=False).registries["templates"]
    data, expected = FIXTURES[name]
    record = Record.from_dict(data)
    tmpl = reg.get(name)
    text = "\n".join(m["content"] for m in tmpl.render(record))
    for part in expected:
        assert part in text, (part, text)
    assert tmpl.hash == reg.get(name).hash and len(tmpl.hash) == 16


@pytest.mark.parametrize("name", ["self-instruct", "evol-instruct", "doc-qa", "persona", "judge"])
def test_template_names_a_missing_field(name):
    """A record lacking a field the template needs is a TemplateError naming the template."""
    tmpl = load_plugins(entry_points=False).registries["templates"].get(name)
    with pytest.raises(TemplateError, match=name):
        tmpl.render(Record.create(data={"unrelated": 1}))


def test_template_options_change_the_hash():
    """Template options (operator, rubric, task count) are part of the hash that goes into lineage."""
    assert sk.get_template("evol-instruct", operator="deepen").hash != sk.get_template("evol-instruct", operator="breadth").hash
    assert sk.get_template("judge", rubric="only 10 or 1").hash != sk.get_template("judge").hash
    assert sk.get_template("self-instruct", num_tasks=3).hash != sk.get_template("self-instruct").hash
    with pytest.raises(ValueError, match="unknown evol-instruct operator"):
        sk.get_template("evol-instruct", operator="harder")


def test_user_templates_from_string_file_folder_and_plugin(tmp_path):
    """Users add templates from a string, a file (with a system part), a folder, or a plugin's register_templates."""
    inline = JinjaTemplate.from_string("Quiz on {{ topic }}", name="quiz")
    assert inline.render(Record.create(data={"topic": "sets"})) == [{"role": "user", "content": "Quiz on sets"}]
    (tmp_path / "tutor.j2").write_text("You are a tutor.\n---user---\nTeach {{ topic }}.")
    (tmp_path / "poem.txt").write_text("A poem on {{ topic }}")
    from_file = JinjaTemplate.from_file(tmp_path / "tutor.j2")
    assert from_file.render(Record.create(data={"topic": "sets"}))[0] == {"role": "system", "content": "You are a tutor."}
    assert sorted(t.name for t in load_folder(tmp_path)) == ["poem", "tutor"]

    class MyTemplates:
        @hookimpl
        def register_templates(self, register):
            register("riddle", lambda: JinjaTemplate(name="riddle", user="A riddle about {{ topic }}"))

    reg = load_plugins(entry_points=False, extra=[MyTemplates()]).registries["templates"]
    assert reg.get("riddle").render(Record.create(data={"topic": "time"}))[0]["content"] == "A riddle about time"
    assert reg.entry("riddle").plugin.startswith("MyTemplates")


# ----------------------------------------------------------------------------- self-instruct
def test_rouge_and_jaccard():
    """ROUGE-L and n-gram Jaccard are 1 for the same words, 0 for disjoint ones, in between otherwise."""
    assert rouge_l("Write a haiku about autumn.", "write a HAIKU about autumn") == 1.0
    assert rouge_l("alpha beta", "gamma delta") == 0.0
    assert 0.5 < rouge_l("write a haiku about autumn leaves", "write a haiku about spring rain") < 0.8
    assert ngram_jaccard("a b c d", "a b c d") == 1.0
    assert ngram_jaccard("a b c d", "a b x y") == pytest.approx(1 / 5)


def test_novelty_filter_rejects_near_copies_with_reason():
    """The novelty filter drops tasks too close to a seed or to a task kept before, naming which and the score."""
    f = NoveltyFilter(SEEDS, threshold=0.7)
    near_seed = f.check(Record.create(prompt="Write a haiku about the autumn leaves."))
    new = f.check(Record.create(prompt="Describe how vaccines train the immune system."))
    near_new = f.check(Record.create(prompt="Describe how vaccines train our immune system."))
    assert not near_seed.passed
    assert near_seed.reason.startswith("too close to seed 'Write a haiku about autumn leaves.': ROUGE-L 0.9")
    assert new.passed and new.reason.startswith("novel: highest ROUGE-L")
    assert not near_new.passed and "too close to earlier task" in near_new.reason
    jac = NoveltyFilter(SEEDS, metric="jaccard", threshold=0.5).check(Record.create(prompt="Write a haiku about autumn leaves!"))
    assert not jac.passed and "2-gram Jaccard 1.00" in jac.reason


def test_parse_tasks():
    """Numbered, bulleted and 'Task n:' lists are parsed in order."""
    assert parse_tasks("1. A\n2) B\n- C\nTask 4: D\nnoise") == ["A", "B", "C", "D"]


def test_self_instruct_end_to_end(openai_server, tmp_path):
    """Self-instruct asks for new tasks from a seeded sample of seeds; near-copies of seeds are dropped with a reason."""

    def reply(messages):
        shown = re.findall(r"Task \d+: (.+)", messages[-1]["content"])
        return f"1. {shown[0]}\n2. Design a weekly meal plan for a vegetarian athlete.\n3. Explain what a hash map is."

    openai_server.configure(reply=reply)
    si = SelfInstruct(_teacher(openai_server), SEEDS, examples=3, num_tasks=3)
    summary = (
        sk.Pipeline(SelfInstruct.rounds(2), seed=7, concurrency=2)
        .step(si)
        .filter("novelty", seeds=SEEDS)
        .run(sink=tmp_path / "tasks.jsonl", rejects=tmp_path / "rejects.jsonl")
    )
    kept = [json.loads(x) for x in (tmp_path / "tasks.jsonl").read_text().splitlines()]
    rejects = [json.loads(x) for x in (tmp_path / "rejects.jsonl").read_text().splitlines()]
    assert summary.kept == 2  # the second round's two new tasks repeat the first's: dropped as too close
    assert {k["prompt"] for k in kept} == {"Design a weekly meal plan for a vegetarian athlete.", "Explain what a hash map is."}
    assert all(k["lineage"]["template"] == "self-instruct" and len(k["seed_tasks"]) == 3 for k in kept)
    reasons = [r["reject"]["reason"] for r in rejects]
    assert sum(r.startswith("too close to seed") for r in reasons) == 2
    assert sum(r.startswith("too close to earlier task") for r in reasons) == 2
    first_prompt = openai_server.requests[0].user_content
    assert first_prompt.count("Task ") >= 3 and "Write 3 new tasks" in first_prompt


# ----------------------------------------------------------------------------- evol-instruct
def test_evol_instruct_end_to_end(openai_server):
    """Evol-instruct rewrites each prompt with a seeded operator and drops rewrites that change nothing."""

    def reply(messages):
        user = messages[-1]["content"]
        given = user.split("#Given Prompt#:\n", 1)[1].split("\n\n#Rewritten Prompt#:")[0]
        if "unchanged" in given:
            return f"#Rewritten Prompt#: {given}"
        return f"#Rewritten Prompt#: {given} Answer in under 50 words."

    openai_server.configure(reply=reply)
    ev = Evolve(_teacher(openai_server), operators=["depth", "breadth"])
    records = [Record.create(prompt=f"Why is the sky blue? ({i})") for i in range(6)] + [Record.create(prompt="keep unchanged")]
    out: list[Record] = []

    async def go():
        ctx = sk.Context(seed=3)
        for r in records:
            out.extend(await ev.generate(r, ctx))
        await ev.aclose()

    import asyncio

    asyncio.run(go())
    assert len(out) == 6
    assert all(r.prompt.endswith("Answer in under 50 words.") and r.response is None for r in out)
    ops = {r.data["evol_operator"] for r in out}
    assert ops <= {"constraints", "deepen", "concretize", "reasoning", "breadth"} and len(ops) >= 2
    assert all(r.lineage.template == f"evol-instruct:{r.data['evol_operator']}" for r in out)
    again: list[Record] = []

    async def replay():
        for r in records[:6]:
            again.extend(await ev.generate(r, sk.Context(seed=3)))

    asyncio.run(replay())
    assert [r.data["evol_operator"] for r in again] == [r.data["evol_operator"] for r in out]


# ----------------------------------------------------------------------------- persona grid
def test_attribute_grid_product_and_sample():
    """The grid yields every combination once, or a seeded sample of distinct combinations."""
    attrs_ = {"topic": ["sets", "limits", "graphs"], "persona": ["nurse", "pilot"], "difficulty": ["easy", "hard"]}
    full = [tuple(r.data.values()) for r in attribute_grid(attrs_)]
    assert len(full) == len(set(full)) == 12
    sample = [tuple(r.data.values()) for r in attribute_grid(attrs_, sample=5, seed=1)]
    assert len(sample) == len(set(sample)) == 5 and set(sample) <= set(full)
    assert sample == [tuple(r.data.values()) for r in attribute_grid(attrs_, sample=5, seed=1)]
    assert sample != [tuple(r.data.values()) for r in attribute_grid(attrs_, sample=5, seed=2)]
    assert len(list(attribute_grid(attrs_, sample=100))) == 12


def test_persona_end_to_end(openai_server, tmp_path):
    """Every topic x persona x difficulty x format combination becomes one prompt sent to the teacher."""
    openai_server.configure(reply=lambda m: "A generated item.")
    grid = {"topic": ["primes", "ratios"], "persona": ["a baker", "a pilot"], "difficulty": ["easy"], "format": ["quiz question", "story"]}
    summary = sk.Pipeline(attribute_grid(grid)).generate(_teacher(openai_server), template="persona").run(sink=tmp_path / "out.jsonl")
    assert summary.kept == 8
    sent = sorted(r.user_content for r in openai_server.requests)
    assert len(set(sent)) == 8
    assert any("a baker" in s and "easy-difficulty story about ratios" in s for s in sent)
    rows = [json.loads(x) for x in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert {(r["topic"], r["persona"], r["format"]) for r in rows} == {
        (t, p, f) for t in grid["topic"] for p in grid["persona"] for f in grid["format"]
    }


# ----------------------------------------------------------------------------- document QA
DOC = (
    "The Amazon river carries more water than any other river. It flows through Brazil, Peru and Colombia.\n\n"
    "Its basin covers about seven million square kilometres. Many species live only there."
)


def test_chunking_respects_sentences_and_size(tmp_path):
    """Chunks end at sentence boundaries, stay under the size, and overlap by whole sentences when asked."""
    chunks = chunk_text(DOC, size=110)
    assert all(len(c) <= 110 for c in chunks)
    assert chunks == [
        "The Amazon river carries more water than any other river. It flows through Brazil, Peru and Colombia.",
        "Its basin covers about seven million square kilometres. Many species live only there.",
    ]
    assert chunk_text(DOC, size=60)[1] == "It flows through Brazil, Peru and Colombia."
    overlapped = chunk_text(DOC, size=120, overlap=60)
    assert overlapped[1] == "It flows through Brazil, Peru and Colombia. Its basin covers about seven million square kilometres."
    long_word_run = chunk_text("word " * 50, size=30)
    assert all(len(c) <= 30 for c in long_word_run) and " ".join(long_word_run).split() == ["word"] * 50
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "a.txt").write_text(DOC)
    (tmp_path / "docs" / "b.md").write_text("Short note. Nothing else.")
    (tmp_path / "docs" / "skip.bin").write_bytes(b"\x00\x01")
    recs = list(chunk_documents(tmp_path / "docs", size=110))
    assert [r.data["source"].rsplit("/", 1)[1] for r in recs] == ["a.txt", "a.txt", "b.md"]
    assert [r.data["chunk_index"] for r in recs] == [0, 1, 0]


async def test_quote_verifier():
    """A quote must occur in its chunk (modulo whitespace, case and quote marks); missing parts are named."""
    v = QuoteVerifier()
    chunk = "It flows through Brazil,\n Peru and Colombia."
    ok = Record.create(response=json.dumps({"question": "Where?", "answer": "Brazil", "quote": "it flows through “Brazil, Peru"}), data={"chunk": chunk.replace("Brazil", "\u201cBrazil")})
    assert (await v.verify(ok)).passed
    made_up = Record.create(response=json.dumps({"question": "Where?", "answer": "Chile", "quote": "It flows through Chile"}), data={"chunk": chunk})
    assert (await v.verify(made_up)).reason == "quote 'It flows through Chile' does not occur in its chunk"
    empty = Record.create(response=json.dumps({"question": "", "answer": "x", "quote": "Peru and Colombia"}), data={"chunk": chunk})
    assert (await v.verify(empty)).reason == "empty or missing question"
    assert "not a JSON object" in (await v.verify(Record.create(response="Brazil", data={"chunk": chunk}))).reason
    assert normalize_quote(" \u201cHello\u201d  World. ") == 'hello" world'


def test_doc_qa_end_to_end(openai_server, tmp_path):
    """Chunks of a folder go through the doc-qa template; answers whose quote is not in the chunk are dropped."""
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "amazon.txt").write_text(DOC)

    def reply(messages):
        passage = messages[-1]["content"].split("# Passage", 1)[1].split("\n", 1)[1].split("\n\nReply with only")[0].strip()
        first = passage.split(". ")[0] + "."
        if "basin" in passage:
            return json.dumps({"question": "How big is the basin?", "answer": "Huge", "quote": "The basin is the largest on Earth"})
        return "```json\n" + json.dumps({"question": "What does the Amazon carry?", "answer": "The most water", "quote": first}) + "\n```"

    openai_server.configure(reply=reply)
    summary = (
        sk.Pipeline(chunk_documents(tmp_path / "docs", size=110))
        .generate(_teacher(openai_server), template="doc-qa")
        .verify("quote")
        .run(sink=tmp_path / "qa.jsonl", rejects=tmp_path / "rej.jsonl")
    )
    assert summary.kept == 1 and summary.n_dropped == 1
    kept = json.loads((tmp_path / "qa.jsonl").read_text())
    assert kept["source"].endswith("amazon.txt") and kept["lineage"]["template"] == "doc-qa"
    rej = json.loads((tmp_path / "rej.jsonl").read_text())
    assert rej["reject"]["reason"] == "quote 'The basin is the largest on Earth' does not occur in its chunk"


# ----------------------------------------------------------------------------- judge
def test_parse_score_forms():
    """Judge scores are read from 'Score: n/10', 'Rating: n out of 5' (rescaled) and JSON."""
    assert parse_score("ok\nScore: 7/10") == 7.0
    assert parse_score("Score: 3\nlater... Score: 8") == 8.0
    assert parse_score('{"reasons": "fine", "score": 6}') == 6.0
    assert parse_score("Rating: 4 out of 5", scale=10) == 8.0
    assert parse_score("no number here") is None


def test_judge_end_to_end(openai_server, tmp_path):
    """The judge verifier in a pipeline keeps responses the judge scores at or above the threshold."""
    openai_server.configure(reply=lambda m: "Score: 8/10" if "Paris" in m[-1]["content"] else "Score: 3/10")
    rows = [{"prompt": "Capital of France?", "response": r} for r in ("Paris", "Rome")]
    judge = sk.get_verifier("judge", teacher=_teacher(openai_server), threshold=7)
    summary = sk.Pipeline([Record.from_dict(r) for r in rows]).verify(judge).run(sink=tmp_path / "k.jsonl", rejects=tmp_path / "r.jsonl")
    assert summary.kept == 1
    assert json.loads((tmp_path / "r.jsonl").read_text())["reject"]["reason"].startswith("judge score 3/10 < 7")


# ----------------------------------------------------------------------------- properties
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_word = st.text(alphabet="abcdefghij", min_size=1, max_size=8)
_sentence = st.lists(_word, min_size=1, max_size=12).map(lambda ws: " ".join(ws) + ".")


@given(st.lists(_sentence, min_size=1, max_size=30), st.integers(min_value=10, max_value=200))
@settings(max_examples=60, deadline=None)
def test_chunking_keeps_every_word_in_order(sentences, size):
    """Without overlap, the chunks hold exactly the text's words, in order, each chunk within the size."""
    text = " ".join(sentences)
    chunks = chunk_text(text, size=size)
    assert " ".join(chunks).split() == text.split()
    assert all(len(c) <= size or " " not in c for c in chunks)


@given(st.lists(_word, max_size=15), st.lists(_word, max_size=15))
@settings(max_examples=80, deadline=None)
def test_rouge_l_is_a_symmetric_similarity(a, b):
    """ROUGE-L is within [0, 1], symmetric, and 1 for a text with itself."""
    x, y = " ".join(a), " ".join(b)
    assert 0.0 <= rouge_l(x, y) <= 1.0
    assert rouge_l(x, y) == pytest.approx(rouge_l(y, x))
    if a:
        assert rouge_l(x, x) == 1.0


@given(
    st.dictionaries(st.sampled_from(["topic", "persona", "difficulty", "format"]), st.lists(_word, min_size=1, max_size=4, unique=True), min_size=1),
    st.integers(min_value=0, max_value=40),
    st.integers(min_value=0, max_value=5),
)
@settings(max_examples=60, deadline=None)
def test_attribute_grid_sample_is_a_distinct_subset(grid, n, seed):
    """A sample of the grid has min(n, total) distinct combinations, all from the full product."""
    full = {tuple(sorted(r.data.items())) for r in attribute_grid(grid)}
    sample = [tuple(sorted(r.data.items())) for r in attribute_grid(grid, sample=n, seed=seed)]
    assert len(sample) == len(set(sample)) == min(n, len(full))
    assert set(sample) <= full
