"""The ``tiny-transformer`` student: a byte-level decoder-only transformer, trained from scratch on CPU.

A training example is ``prompt <sep> target <eos>`` in bytes, the loss on the target only.
The target is the response's final answer (its last ``Final answer: X`` line), or the whole
response when it has none; :meth:`TinyTransformer.answer` decodes greedily and answers
``Final answer: X``, so synthkit's ``final-answer`` verifier can score it. Long prompts keep
their last ``max_prompt`` bytes.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Any

from synthkit import Record, Student
from synthkit.errors import InputError, MissingDependencyError

__all__ = ["TinyTransformer", "target_of"]

_FINAL = re.compile(r"final answer\s*[:：]\s*(.+?)\s*$", re.IGNORECASE | re.MULTILINE)
SEP, EOS, PAD = 256, 257, 258
VOCAB = 259


def target_of(response: str) -> str:
    """Return what the student learns from a response: its last final answer, else the response itself."""
    found = _FINAL.findall(response)
    return found[-1] if found else response.strip()


def _torch() -> Any:
    try:
        import torch
    except ImportError:
        msg = (
            "the tiny-transformer student needs PyTorch, which is not installed; install the CPU wheel "
            "(pip install torch --index-url https://download.pytorch.org/whl/cpu) or synthkit-students[torch]"
        )
        raise MissingDependencyError(msg) from None
    return torch


class TinyTransformer(Student):
    """A small transformer over bytes, trained from scratch; ``budget`` is the number of optimiser steps.

    Args:
        d_model: the width of the model.
        layers: transformer blocks.
        heads: attention heads per block.
        batch_size: examples per optimiser step.
        lr: the peak learning rate (AdamW, linear warm-up then cosine decay).
        max_prompt: prompt bytes kept (the last ones).
        max_answer: answer bytes learnt and generated.
        threads: torch CPU threads while training and answering.
    """

    name = "tiny-transformer"

    def __init__(
        self,
        d_model: int = 64,
        layers: int = 2,
        heads: int = 4,
        batch_size: int = 32,
        lr: float = 3e-3,
        max_prompt: int = 160,
        max_answer: int = 24,
        threads: int = 1,
        prompt_weight: float = 0.0,
    ) -> None:
        if d_model % heads:
            msg = f"d_model ({d_model}) must be a multiple of heads ({heads}) for the tiny-transformer student"
            raise InputError(msg)
        self.d_model, self.layers, self.heads = d_model, layers, heads
        self.batch_size, self.lr = batch_size, lr
        self.max_prompt, self.max_answer, self.threads = max_prompt, max_answer, threads
        self.prompt_weight = prompt_weight
        self._model: Any = None
        _torch()

    def _options(self) -> dict[str, Any]:
        keys = ("d_model", "layers", "heads", "batch_size", "lr", "max_prompt", "max_answer", "threads", "prompt_weight")
        return {k: getattr(self, k) for k in keys}

    def train(self, records: Sequence[Record], *, seed: int, budget: int) -> TinyTransformer:
        """Train a fresh model on ``records`` for ``budget`` steps with ``seed``; return it as a new student."""
        torch = _torch()
        pairs = [(r.prompt, target_of(r.response)) for r in records if r.prompt is not None and r.response]
        if not pairs:
            msg = "the tiny-transformer student got no records with both a prompt and a response to train on"
            raise InputError(msg)
        torch.set_num_threads(self.threads)
        torch.manual_seed(seed)
        gen = torch.Generator().manual_seed(seed)
        seqs = [self._encode(p) + [SEP] + list(a.encode()[: self.max_answer]) + [EOS] for p, a in pairs]
        starts = [len(self._encode(p)) + 1 for p, _ in pairs]
        length = max(map(len, seqs))
        tokens = torch.full((len(seqs), length), PAD, dtype=torch.long)
        weight = torch.zeros((len(seqs), length), dtype=torch.float)
        for i, (s, start) in enumerate(zip(seqs, starts)):
            tokens[i, : len(s)] = torch.tensor(s)
            weight[i, 1:start] = self.prompt_weight
            weight[i, start : len(s)] = 1.0  # the target tokens, predicted from the token before
        model = _model(torch, self.d_model, self.layers, self.heads, length)
        opt = torch.optim.AdamW(model.parameters(), lr=self.lr, weight_decay=0.01)
        warm = max(1, budget // 10)
        sched = torch.optim.lr_scheduler.LambdaLR(
            opt, lambda step: min(1.0, (step + 1) / warm) * 0.5 * (1 + math.cos(math.pi * min(step, budget) / max(budget, 1)))
        )
        model.train()
        for _ in range(budget):
            idx = torch.randint(len(seqs), (min(self.batch_size, len(seqs)),), generator=gen)
            x, w = tokens[idx], weight[idx]
            n = int(w.sum(0).nonzero().max()) + 1  # trim the padding all rows share
            x, w = x[:, :n], w[:, 1:n]
            logits = model(x[:, :-1])  # right-padded: a token sees only real tokens before it
            loss = torch.nn.functional.cross_entropy(logits.reshape(-1, VOCAB), x[:, 1:].reshape(-1), reduction="none")
            loss = (loss * w.reshape(-1)).sum() / w.sum()
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
        trained = TinyTransformer(**self._options())
        trained._model = model.eval()  # noqa: SLF001 - a new instance of this class
        trained.final_loss = float(loss.detach())  # type: ignore[attr-defined]
        return trained

    def _encode(self, prompt: str) -> list[int]:
        return list(prompt.encode()[-self.max_prompt :])

    def answer(self, prompts: Sequence[str]) -> list[str]:
        """Return ``Final answer: X`` for each prompt, ``X`` decoded greedily."""
        if self._model is None:
            msg = "this tiny-transformer student is not trained yet; answer with the student train() returns"
            raise InputError(msg)
        torch = _torch()
        torch.set_num_threads(self.threads)
        out: list[str] = []
        with torch.no_grad():
            for i in range(0, len(prompts), 64):
                out.extend(self._decode(torch, prompts[i : i + 64]))
        return [f"Final answer: {a}" for a in out]

    def _decode(self, torch: Any, prompts: Sequence[str]) -> list[str]:
        encoded = [self._encode(p) + [SEP] for p in prompts]
        width = max(map(len, encoded))
        x = torch.full((len(encoded), width), PAD, dtype=torch.long)
        for i, e in enumerate(encoded):
            x[i, width - len(e) :] = torch.tensor(e)  # left padding: every row continues at the end
        done = torch.zeros(len(encoded), dtype=torch.bool)
        new: list[Any] = []
        for _ in range(self.max_answer + 1):
            logits = self._model(x, x != PAD)[:, -1]
            logits[:, PAD] = float("-inf")
            logits[:, SEP] = float("-inf")
            nxt = logits.argmax(-1)
            nxt = torch.where(done, torch.full_like(nxt, EOS), nxt)
            done |= nxt == EOS
            new.append(nxt)
            x = torch.cat([x, nxt[:, None]], 1)
            if bool(done.all()):
                break
        rows = torch.stack(new, 1).tolist()
        return [bytes(t for t in row[: row.index(EOS)] if t < 256).decode(errors="replace") if EOS in row else bytes(t for t in row if t < 256).decode(errors="replace") for row in rows]


def _model(torch: Any, d_model: int, layers: int, heads: int, length: int) -> Any:
    nn = torch.nn
    F = torch.nn.functional  # noqa: N806

    class Block(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.ln1, self.ln2 = nn.LayerNorm(d_model), nn.LayerNorm(d_model)
            self.qkv, self.proj = nn.Linear(d_model, 3 * d_model), nn.Linear(d_model, d_model)
            self.mlp = nn.Sequential(nn.Linear(d_model, 4 * d_model), nn.GELU(), nn.Linear(4 * d_model, d_model))

        def forward(self, h: Any, mask: Any) -> Any:
            b, t, _ = h.shape
            q, k, v = self.qkv(self.ln1(h)).view(b, t, 3, heads, d_model // heads).permute(2, 0, 3, 1, 4)
            att = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, is_causal=mask is None)
            h = h + self.proj(att.transpose(1, 2).reshape(b, t, d_model))
            return h + self.mlp(self.ln2(h))

    class GPT(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.tok = nn.Embedding(VOCAB, d_model)
            self.pos = nn.Embedding(length + 64, d_model)
            self.blocks = nn.ModuleList(Block() for _ in range(layers))
            self.ln = nn.LayerNorm(d_model)
            self.head = nn.Linear(d_model, VOCAB)

        def forward(self, x: Any, real: Any = None) -> Any:
            """Logits for ``x``: right-padded rows (training: plain causal attention), or left-padded ones with their ``real`` tokens marked."""
            t = x.shape[1]
            if real is None:
                h = self.tok(x) + self.pos(torch.arange(t))[None]
                mask = None
            else:
                pos = (real.long().cumsum(1) - 1).clamp(min=0).clamp(max=self.pos.num_embeddings - 1)
                h = self.tok(x) + self.pos(pos)
                causal = torch.ones(t, t, dtype=torch.bool).tril()
                mask = ((causal[None] & real[:, None, :]) | torch.eye(t, dtype=torch.bool)[None])[:, None]
            for block in self.blocks:
                h = block(h, mask)
            return self.head(self.ln(h))

    return GPT()
