"""DPO and KTO exports, from procedural samples through `synthkit pairs`, run through TRL's own trainers' preprocessing.

The tokenizer is built here, offline, from the export's own text (a word-level vocabulary
with the `tokenizers` library, a chat template of our own); the model is a randomly
initialised one-layer Llama. Nothing is downloaded.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

import synthkit as sk
from synthkit.cli import cli
from synthkit.io.interchange import write_records
from synthkit.records import Lineage, Record, Verdict

pytest.importorskip("trl")

TEMPLATE = (
    "{% for m in messages %}<|{{ m['role'] }}|> {{ m['content'] }} <|end|> {% endfor %}"
    "{% if add_generation_prompt %}<|assistant|> {% endif %}"
)
SPECIALS = ["<unk>", "<pad>", "<eos>", "<|system|>", "<|user|>", "<|assistant|>", "<|end|>"]


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def invoke(*args: str) -> str:
    res = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    assert res.exit_code == 0, res.output
    return res.output


@pytest.fixture(scope="module")
def exports(tmp_path_factory) -> dict[str, Path]:
    """Samples from the erring procedural teacher, their pairs, and the pairs exported as dpo and kto."""
    d = tmp_path_factory.mktemp("pref")
    write_records(sk.get_teacher("procedural").problems(12, seed=11, families=["arithmetic", "word-problems"]), d / "p.jsonl")
    invoke("generate", str(d / "p.jsonl"), "-o", str(d / "s.jsonl"), "--teacher", "procedural",
           "--teacher-option", "error_rate=0.5", "--teacher-option", "think=true", "-n", "4", "--no-cache")
    invoke("pairs", str(d / "s.jsonl"), "-o", str(d / "pairs.jsonl"), "--verifier", "math", "-O", "answer_field=answer")
    invoke("export", str(d / "pairs.jsonl"), "-o", str(d / "dpo.jsonl"), "--format", "dpo", "--reasoning", "think", "--system", "Solve it.")
    invoke("export", str(d / "pairs.jsonl"), "-o", str(d / "kto.jsonl"), "--format", "kto")
    return {k: d / f"{k}.jsonl" for k in ("pairs", "dpo", "kto")}


def tokenizer_for(rows: list[dict], keys: tuple[str, ...]):
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    texts = [m["content"] for r in rows for k in keys for m in r[k]]
    tok = Tokenizer(models.WordLevel(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tok.train_from_iterator(texts, trainers.WordLevelTrainer(special_tokens=SPECIALS))
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="<unk>", pad_token="<pad>", eos_token="<eos>")
    fast.chat_template = TEMPLATE
    return fast


def tiny_model(vocab: int):
    from transformers import LlamaConfig, LlamaForCausalLM

    cfg = LlamaConfig(vocab_size=vocab, hidden_size=16, intermediate_size=32, num_hidden_layers=1, num_attention_heads=2, num_key_value_heads=2)
    return LlamaForCausalLM(cfg)


def test_dpo_rows_are_trl_conversational_preference_rows(exports):
    """Each row is prompt/chosen/rejected lists of messages; chosen holds the verified answer, with its think block."""
    from trl.data_utils import is_conversational

    rows, pairs = read_jsonl(exports["dpo"]), read_jsonl(exports["pairs"])
    assert rows and len(rows) == len(pairs)
    for row, p in zip(rows, pairs):
        assert set(row) == {"prompt", "chosen", "rejected"} and is_conversational(row)
        assert row["prompt"] == [{"role": "system", "content": "Solve it."}, {"role": "user", "content": p["prompt"]}]
        assert row["chosen"][0]["role"] == row["rejected"][0]["role"] == "assistant"
        assert row["chosen"][0]["content"].startswith("<think>\n") and row["chosen"][0]["content"].endswith(p["chosen"]["response"])
        assert p["chosen"]["passed"] and not p["rejected"]["passed"]


def test_dpo_export_is_accepted_by_trl_dpo_preprocessing(exports, tmp_path):
    """DPOTrainer tokenises the export: prompt ids end at the generation prompt, chosen/rejected ids are the answers."""
    from datasets import Dataset
    from trl import DPOConfig, DPOTrainer

    rows = read_jsonl(exports["dpo"])
    tok = tokenizer_for(rows, ("prompt", "chosen", "rejected"))
    args = DPOConfig(output_dir=str(tmp_path), report_to=[], per_device_train_batch_size=2, max_steps=1, use_cpu=True)
    trainer = DPOTrainer(
        model=tiny_model(len(tok)), ref_model=tiny_model(len(tok)), args=args, train_dataset=Dataset.from_list(rows), processing_class=tok
    )
    ds = trainer.train_dataset
    assert len(ds) == len(rows) and {"prompt_ids", "chosen_ids", "rejected_ids"} <= set(ds.column_names)
    for ex, row in zip(ds, rows):
        assert tok.decode(ex["prompt_ids"]).split()[-1] == "<|assistant|>"
        assert tok.decode(ex["chosen_ids"]).split() == [*row["chosen"][0]["content"].split(), "<|end|>"]
        assert tok.decode(ex["rejected_ids"]).split() == [*row["rejected"][0]["content"].split(), "<|end|>"]
        assert tok.unk_token_id not in ex["chosen_ids"]


def test_kto_export_is_accepted_by_trl_kto_preprocessing(exports, tmp_path):
    """KTOTrainer tokenises the unpaired rows: two per pair, the chosen labelled True and the rejected False."""
    from datasets import Dataset
    from trl import KTOConfig, KTOTrainer

    rows, pairs = read_jsonl(exports["kto"]), read_jsonl(exports["pairs"])
    assert len(rows) == 2 * len(pairs)
    assert [r["label"] for r in rows] == [True, False] * len(pairs)
    assert [r["completion"][0]["content"] for r in rows[:2]] == [pairs[0]["chosen"]["response"], pairs[0]["rejected"]["response"]]
    tok = tokenizer_for(rows, ("prompt", "completion"))
    args = KTOConfig(output_dir=str(tmp_path), report_to=[], per_device_train_batch_size=2, max_steps=1, use_cpu=True)
    trainer = KTOTrainer(
        model=tiny_model(len(tok)), ref_model=tiny_model(len(tok)), args=args, train_dataset=Dataset.from_list(rows), processing_class=tok
    )
    ds = trainer.train_dataset
    assert len(ds) == len(rows) and {"prompt_ids", "completion_ids", "label"} <= set(ds.column_names)
    for ex, row in zip(ds, rows):
        assert tok.decode(ex["completion_ids"]).split() == [*row["completion"][0]["content"].split(), "<|end|>"]
        assert ex["label"] == row["label"]


def test_kto_labels_a_verified_sample_by_its_verdict_and_refuses_an_unverified_one():
    """A sample (not a pair) gives one KTO row labelled by its last verdict; without a verdict it is skipped with a reason."""
    from synthkit.errors import RecordError
    from synthkit.io.preference import KTOExporter

    lin = Lineage(origin="synthetic", verdicts=(Verdict("math", False, "wrong"),))
    rec = Record.create(prompt="2+2?", response="5", data={"reasoning": "2+2=5"}, lineage=lin)
    assert KTOExporter(reasoning="field").rows(rec) == [
        {"prompt": [{"role": "user", "content": "2+2?"}], "completion": [{"role": "assistant", "content": "5", "reasoning_content": "2+2=5"}], "label": False}
    ]
    with pytest.raises(RecordError) as err:
        KTOExporter().rows(Record.create(prompt="2+2?", response="4"))
    assert err.value.kind == "no_verdict"


def test_dpo_export_of_a_record_that_is_not_a_pair_is_skipped_with_the_reason(tmp_path):
    """export --format dpo on plain samples writes nothing and says each is not a pair."""
    src = tmp_path / "s.jsonl"
    write_records([Record.create(prompt="q", response="a")], src)
    out = invoke("export", str(src), "-o", str(tmp_path / "o.jsonl"), "--format", "dpo", "--rejects", str(tmp_path / "r.jsonl"))
    assert "not_a_pair" in out
    assert read_jsonl(tmp_path / "r.jsonl")[0]["reject"]["kind"] == "not_a_pair"


def test_sft_exports_write_reasoning_in_the_shape_chosen():
    """openai/sharegpt/alpaca: think tags inside the assistant turn, a separate field, or left out."""
    from synthkit.io.exporters import AlpacaExporter, OpenAIExporter, ShareGPTExporter

    rec = Record.create(prompt="2+2?", response="Final answer: 4", data={"reasoning": "2 and 2 make 4."})
    think = "<think>\n2 and 2 make 4.\n</think>\n\nFinal answer: 4"
    assert OpenAIExporter(reasoning="think").convert(rec)["messages"][-1] == {"role": "assistant", "content": think}
    assert OpenAIExporter(reasoning="field").convert(rec)["messages"][-1] == {
        "role": "assistant", "content": "Final answer: 4", "reasoning_content": "2 and 2 make 4."
    }
    assert OpenAIExporter().convert(rec)["messages"][-1] == {"role": "assistant", "content": "Final answer: 4"}
    assert ShareGPTExporter(reasoning="think").convert(rec)["conversations"][-1]["value"] == think
    assert AlpacaExporter(reasoning="field").convert(rec) == {"instruction": "2+2?", "input": "", "output": "Final answer: 4", "reasoning": "2 and 2 make 4."}
    with pytest.raises(sk.errors.OptionError):
        OpenAIExporter(reasoning="inline")  # type: ignore[arg-type]


def test_pairs_and_preference_rows_go_to_parquet_as_datasets_reads_them(exports, tmp_path):
    """Pairs round-trip through Parquet, and the dpo/kto rows written as Parquet load in `datasets` as the JSONL rows."""
    from datasets import Dataset

    pq = tmp_path / "pairs.parquet"
    invoke("export", str(exports["pairs"]), "-o", str(pq))
    for fmt in ("dpo", "kto"):
        out = tmp_path / f"{fmt}.parquet"
        invoke("export", str(pq), "-o", str(out), "--format", fmt, *(["--reasoning", "think", "--system", "Solve it."] if fmt == "dpo" else []))
        assert Dataset.from_parquet(str(out)).to_list() == read_jsonl(exports[fmt])
