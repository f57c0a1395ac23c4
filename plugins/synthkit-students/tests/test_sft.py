"""The trl-sft student: TRL's SFTTrainer on a tiny randomly initialised causal LM saved to a local directory."""

from __future__ import annotations

import pytest

import synthkit as sk
from synthkit.errors import InputError

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
pytest.importorskip("trl")

from synthkit_students.sft import SFTStudent  # noqa: E402


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    """A 1-layer GPT-2 with random weights and a character-level tokenizer built here (nothing downloaded)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers

    where = tmp_path_factory.mktemp("tiny-lm")
    chars = sorted(set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,:?!-+=\n"))
    vocab = {"<pad>": 0, "<eos>": 1, **{c: i + 2 for i, c in enumerate(chars)}}
    tok = Tokenizer(models.WordLevel(vocab, unk_token="<pad>"))
    tok.pre_tokenizer = pre_tokenizers.Split("", behavior="isolated")
    tok.decoder = decoders.Fuse()
    fast = transformers.PreTrainedTokenizerFast(tokenizer_object=tok, pad_token="<pad>", eos_token="<eos>")
    fast.save_pretrained(where)
    torch.manual_seed(0)
    config = transformers.GPT2Config(vocab_size=len(vocab), n_positions=128, n_embd=32, n_layer=1, n_head=2, eos_token_id=1, pad_token_id=0, bos_token_id=1)
    transformers.GPT2LMHeadModel(config).save_pretrained(where)
    return str(where)


def _records(n):
    return [sk.Record.create(prompt=f"Repeat {i % 10}.", response=f"Final answer: {i % 10}", data={"answer": str(i % 10), "family": "echo"}) for i in range(n)]


def test_registered_and_trains_with_trl(tiny_model):
    """The plugin registers trl-sft; a few TRL steps train it, and it answers every prompt in order."""
    from synthkit.plugins import load_plugins

    student = load_plugins(only="students").registries["students"].get("trl-sft", model_dir=tiny_model, batch_size=4)
    before = [p.detach().clone() for p in transformers.AutoModelForCausalLM.from_pretrained(tiny_model).parameters()]
    trained = student.train(_records(16), seed=0, budget=3)
    after = list(trained._model.parameters())
    assert any(not torch.equal(a, b) for a, b in zip(before, after))  # the weights moved
    answers = trained.answer(["Repeat 3.", "Repeat 4."])
    assert len(answers) == 2 and all(isinstance(a, str) for a in answers)


def test_a_folder_without_a_model_is_a_clear_error(tmp_path):
    """A directory with no config.json is refused, naming it."""
    with pytest.raises(InputError, match="config.json"):
        SFTStudent(str(tmp_path))
