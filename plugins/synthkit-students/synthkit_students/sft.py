"""The ``trl-sft`` student: supervised fine-tuning of a local Hugging Face causal LM with TRL, on CPU.

A training example is ``prompt`` -> ``completion`` (TRL's prompt-completion format, the loss
on the completion only): the prompt followed by a newline, and the response's final answer
(see :func:`~synthkit_students.tiny.target_of`) as ``Final answer: X``. Every ``train`` starts
again from the weights in ``model_dir``; nothing is downloaded (``local_files_only``).
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from synthkit import Record, Student
from synthkit.errors import InputError, MissingDependencyError

from .tiny import target_of

__all__ = ["SFTStudent"]


def _require() -> tuple[Any, Any, Any]:
    try:
        import torch
        import transformers
        import trl
    except ImportError:
        msg = "the trl-sft student needs torch, transformers and trl; install them with `pip install 'synthkit[trainers]'` and the CPU torch wheel"
        raise MissingDependencyError(msg) from None
    return torch, transformers, trl


class SFTStudent(Student):
    """Fine-tune the causal LM in ``model_dir`` with TRL's ``SFTTrainer``; ``budget`` is the number of optimiser steps.

    Args:
        model_dir: a local Hugging Face model directory (config, weights and tokenizer).
        batch_size: examples per step.
        lr: the learning rate.
        max_length: tokens per example (prompt and completion).
        max_new_tokens: tokens generated per answer (greedy).
        threads: torch CPU threads.
    """

    name = "trl-sft"

    def __init__(
        self,
        model_dir: str,
        batch_size: int = 8,
        lr: float = 5e-4,
        max_length: int = 128,
        max_new_tokens: int = 16,
        threads: int = 1,
    ) -> None:
        if not (Path(model_dir) / "config.json").is_file():
            msg = f"the trl-sft student needs a local Hugging Face model directory with a config.json; {model_dir!r} has none"
            raise InputError(msg)
        self.model_dir = str(model_dir)
        self.batch_size, self.lr, self.max_length = batch_size, lr, max_length
        self.max_new_tokens, self.threads = max_new_tokens, threads
        self._model: Any = None
        self._tokenizer: Any = None
        _require()

    def train(self, records: Sequence[Record], *, seed: int, budget: int) -> SFTStudent:
        """Fine-tune a fresh copy of ``model_dir`` on ``records`` for ``budget`` steps; return it as a new student."""
        torch, transformers, trl = _require()
        from datasets import Dataset

        rows = [{"prompt": r.prompt + "\n", "completion": f"Final answer: {target_of(r.response)}"} for r in records if r.prompt and r.response]
        if not rows:
            msg = "the trl-sft student got no records with both a prompt and a response to train on"
            raise InputError(msg)
        torch.set_num_threads(self.threads)
        transformers.set_seed(seed)
        tokenizer = transformers.AutoTokenizer.from_pretrained(self.model_dir, local_files_only=True)
        if tokenizer.pad_token is None:
            tokenizer.pad_token = tokenizer.eos_token
        model = transformers.AutoModelForCausalLM.from_pretrained(self.model_dir, local_files_only=True)
        with tempfile.TemporaryDirectory(prefix="synthkit-sft-") as out:
            args = trl.SFTConfig(
                output_dir=out, max_steps=budget, per_device_train_batch_size=self.batch_size, learning_rate=self.lr,
                seed=seed, max_length=self.max_length, report_to=[], save_strategy="no", logging_strategy="no",
                use_cpu=True, dataloader_num_workers=0, completion_only_loss=True, disable_tqdm=True,
            )
            trainer = trl.SFTTrainer(model=model, args=args, train_dataset=Dataset.from_list(rows), processing_class=tokenizer)
            trainer.train()
        trained = SFTStudent(self.model_dir, self.batch_size, self.lr, self.max_length, self.max_new_tokens, self.threads)
        trained._model, trained._tokenizer = model.eval(), tokenizer  # noqa: SLF001 - a new instance of this class
        return trained

    def answer(self, prompts: Sequence[str]) -> list[str]:
        """Return each prompt's greedy continuation, cut at the first line break."""
        if self._model is None:
            msg = "this trl-sft student is not trained yet; answer with the student train() returns"
            raise InputError(msg)
        torch, _, _ = _require()
        torch.set_num_threads(self.threads)
        out = []
        with torch.no_grad():
            for p in prompts:
                ids = self._tokenizer(p + "\n", return_tensors="pt")
                gen = self._model.generate(
                    **ids, max_new_tokens=self.max_new_tokens, do_sample=False, pad_token_id=self._tokenizer.pad_token_id,
                )
                text = self._tokenizer.decode(gen[0, ids["input_ids"].shape[1] :], skip_special_tokens=True)
                out.append(text.strip().split("\n")[0])
        return out
