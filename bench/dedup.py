"""Near-duplicate removal: recall, precision and wall time against bare rensa and datasketch scripts.

Builds its own planted set: N documents of about 1 KB (Zipf-distributed pseudo-words in
sentences), of which 10 % are planted twins of other documents with 1 to 3 words replaced.
Then times, as subprocesses on the same file, in the same run:

* ``synthkit dedup IN -o OUT --near 0.7`` (engine rensa, the default; and engine numpy),
* a bare rensa script doing the same job (same normalisation, word 5-grams, 112 permutations
  in 14 bands, threshold 0.7, keep-first streaming with ``RMinHashDeduplicator``),
* a bare datasketch script doing the same job (``MinHash`` + ``MinHashLSH`` with 14 x 8 bands,
  candidates confirmed by estimated Jaccard),
* ``synthkit filter IN -o OUT --filters empty`` (the pipeline's own cost per record).

A pair counts as found when either copy is removed (recall); a removed document is right
when it belongs to a planted pair (precision). Wall and CPU times (user + system, of the
subprocess) are each the best of ``--repeat`` interleaved runs; on a shared machine the CPU
ratio is the steadier one.

    .venv/bin/python bench/dedup.py            # 20k documents
    .venv/bin/python bench/dedup.py --docs 2000 --repeat 1 --json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
PY = sys.executable
SYNTHKIT = str(Path(PY).with_name("synthkit"))

BARE_RENSA = r'''
import json, re, sys
from rensa import RMinHashDeduplicator
src, dst, threshold = sys.argv[1], sys.argv[2], float(sys.argv[3])
word = re.compile(r"[^\W_]+")
def shingles(text, n=5):
    w = word.findall(text.lower())
    if len(w) <= n:
        return [" ".join(w)] if w else []
    return [" ".join(w[i:i + n]) for i in range(len(w) - n + 1)]
dedup = RMinHashDeduplicator(threshold=threshold, num_perm=112, use_lsh=True, num_bands=14)
with open(src) as fin, open(dst, "w") as fout:
    batch, n = [], 0
    def flush():
        global n
        keep = dedup.add_pairs((str(n + i), sh) for i, (_, sh) in enumerate(batch))
        fout.writelines(line for (line, _), k in zip(batch, keep) if k)
        n += len(batch)
        batch.clear()
    for line in fin:
        batch.append((line, shingles(json.loads(line)["text"])))
        if len(batch) == 1000:
            flush()
    flush()
'''

BARE_DATASKETCH = r'''
import json, re, sys
from datasketch import MinHash, MinHashLSH
src, dst, threshold = sys.argv[1], sys.argv[2], float(sys.argv[3])
word = re.compile(r"[^\W_]+")
def shingles(text, n=5):
    w = word.findall(text.lower())
    if len(w) <= n:
        return [" ".join(w)] if w else []
    return [" ".join(w[i:i + n]) for i in range(len(w) - n + 1)]
lsh = MinHashLSH(threshold=threshold, num_perm=112, params=(14, 8))
kept = {}
with open(src) as fin, open(dst, "w") as fout:
    for i, line in enumerate(fin):
        m = MinHash(num_perm=112, seed=1)
        m.update_batch([s.encode() for s in shingles(json.loads(line)["text"])])
        if any(kept[c].jaccard(m) >= threshold for c in lsh.query(m)):
            continue
        kept[i] = m
        lsh.insert(i, m)
        fout.write(line)
'''


# -- planted data --------------------------------------------------------------------------


def _vocab(rng: random.Random, n: int = 20000) -> list[str]:
    syllables = [c + v for c in "bcdfghjklmnprstvwz" for v in "aeiou"] + ["th", "sh", "ch", "qu", "str"]
    seen: set[str] = set()
    out: list[str] = []
    while len(out) < n:
        w = "".join(rng.choice(syllables) for _ in range(rng.choice((1, 2, 2, 3, 3, 4))))
        if w not in seen:
            seen.add(w)
            out.append(w)
    return out


def build(n_docs: int, twin_frac: float, seed: int, edits: tuple[int, int] = (1, 3)) -> tuple[list[dict], list[tuple[str, str]]]:
    """Return (documents, planted pairs): documents of about 1 KB, ``twin_frac`` of them edited twins."""
    import numpy as np

    rng = random.Random(seed)
    nprng = np.random.default_rng(seed)
    vocab = _vocab(rng)
    probs = 1.0 / np.arange(1, len(vocab) + 1)
    probs /= probs.sum()

    def doc() -> str:
        words = [vocab[i] for i in nprng.choice(len(vocab), size=260, p=probs)]
        out, sentence, size = [], [], 0
        for w in words:
            sentence.append(w)
            size += len(w) + 1
            if len(sentence) >= rng.randint(8, 20) or size >= 1000:
                s = " ".join(sentence)
                out.append(s[0].upper() + s[1:] + ".")
                sentence = []
            if size >= 1000:
                break
        return " ".join(out)

    n_twins = int(n_docs * twin_frac)
    docs = [{"id": f"d{i}", "text": doc()} for i in range(n_docs - n_twins)]
    pairs = []
    for j, src in enumerate(rng.sample(range(len(docs)), n_twins)):
        words = docs[src]["text"].split(" ")
        for _ in range(rng.randint(*edits)):
            words[rng.randrange(len(words))] = rng.choice(vocab)
        docs.append({"id": f"t{j}", "text": " ".join(words)})
        pairs.append((docs[src]["id"], f"t{j}"))
    rng.shuffle(docs)
    return docs, pairs


def true_jaccards(docs: list[dict], pairs: list[tuple[str, str]]) -> list[float]:
    sys.path.insert(0, str(HERE.parent))
    from synthkit.filters.ngrams import word_ngrams, words

    by_id = {d["id"]: d["text"] for d in docs}
    out = []
    for a, b in pairs:
        x, y = set(word_ngrams(words(by_id[a]), 5)), set(word_ngrams(words(by_id[b]), 5))
        out.append(len(x & y) / len(x | y))
    return out


# -- runs ----------------------------------------------------------------------------------


def timed(cmd: list[str]) -> tuple[float, float]:
    """Run ``cmd``; return (wall seconds, CPU seconds of the child: user + system)."""
    t = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t
    if os.waitstatus_to_exitcode(status):
        msg = f"{' '.join(cmd)} failed"
        raise RuntimeError(msg)
    return wall, usage.ru_utime + usage.ru_stime


def score(src: Path, out: Path, pairs: list[tuple[str, str]]) -> dict[str, float]:
    all_ids = [json.loads(x)["id"] for x in src.open()]
    kept = {json.loads(x)["id"] for x in out.open()}
    removed = set(all_ids) - kept
    in_pair = {x for p in pairs for x in p}
    found = sum(1 for a, b in pairs if a in removed or b in removed)
    right = sum(1 for x in removed if x in in_pair)
    return {
        "removed": len(removed),
        "recall": found / len(pairs) if pairs else 1.0,
        "precision": right / len(removed) if removed else 1.0,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--docs", type=int, default=20000)
    ap.add_argument("--twins", type=float, default=0.10)
    ap.add_argument("--threshold", type=float, default=0.7)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--skip-datasketch", action="store_true")
    ap.add_argument("--json", action="store_true", help="print the results as JSON")
    args = ap.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="synthkit-bench-dedup-"))
    src = tmp / "in.jsonl"
    docs, pairs = build(args.docs, args.twins, args.seed)
    with src.open("w") as fh:
        for d in docs:
            fh.write(json.dumps(d) + "\n")
    jac = sorted(true_jaccards(docs, pairs))
    (tmp / "rensa_bare.py").write_text(BARE_RENSA)
    (tmp / "datasketch_bare.py").write_text(BARE_DATASKETCH)
    t = str(args.threshold)
    runs = {
        "synthkit dedup --near (rensa engine)": [SYNTHKIT, "dedup", str(src), "-o", str(tmp / "sk.jsonl"), "--near", t],
        "synthkit dedup --near --minhash numpy": [SYNTHKIT, "dedup", str(src), "-o", str(tmp / "sknp.jsonl"), "--near", t, "--minhash", "numpy"],
        "bare rensa script": [PY, str(tmp / "rensa_bare.py"), str(src), str(tmp / "rensa.jsonl"), t],
        "bare datasketch script": [PY, str(tmp / "datasketch_bare.py"), str(src), str(tmp / "ds.jsonl"), t],
        "synthkit filter --filters empty (pipeline only)": [SYNTHKIT, "filter", str(src), "-o", str(tmp / "pass.jsonl"), "--filters", "empty"],
    }
    outs = {
        "synthkit dedup --near (rensa engine)": "sk.jsonl",
        "synthkit dedup --near --minhash numpy": "sknp.jsonl",
        "bare rensa script": "rensa.jsonl",
        "bare datasketch script": "ds.jsonl",
    }
    if args.skip_datasketch:
        del runs["bare datasketch script"]
    wall: dict[str, float] = {}
    cpu: dict[str, float] = {}
    for rep in range(args.repeat):  # interleaved, so background load hits every command alike
        for name, cmd in runs.items():
            if name == "bare datasketch script" and rep > 0:
                continue  # slow; once is enough
            w, c = timed(cmd)
            wall[name] = min(wall.get(name, float("inf")), w)
            cpu[name] = min(cpu.get(name, float("inf")), c)
    results = {}
    base = "bare rensa script"
    for name in runs:
        row = {
            "wall_s": round(wall[name], 3),
            "cpu_s": round(cpu[name], 3),
            "speed_vs_bare_rensa_wall": round(wall[base] / wall[name], 3),
            "speed_vs_bare_rensa_cpu": round(cpu[base] / cpu[name], 3),
        }
        if name in outs:
            row.update({k: round(v, 4) if isinstance(v, float) else v for k, v in score(src, tmp / outs[name], pairs).items()})
        results[name] = row
    report = {
        "docs": args.docs,
        "planted_pairs": len(pairs),
        "threshold": args.threshold,
        "pair_jaccard": {"min": round(jac[0], 3), "median": round(jac[len(jac) // 2], 3), "max": round(jac[-1], 3)},
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "results": results,
    }
    if args.json:
        print(json.dumps(report, indent=2))
        return
    print(f"{args.docs} docs, {len(pairs)} planted twins (5-gram Jaccard of pairs: min {jac[0]:.2f}, median {jac[len(jac) // 2]:.2f}); threshold {args.threshold}; {report['machine']}")
    print(f"{'command':<48} {'wall s':>7} {'x rensa':>8} {'CPU s':>7} {'x rensa':>8} {'removed':>8} {'recall':>7} {'precision':>9}")
    for name, r in results.items():
        print(
            f"{name:<48} {r['wall_s']:>7.2f} {r['speed_vs_bare_rensa_wall']:>8.2f} {r['cpu_s']:>7.2f} "
            f"{r['speed_vs_bare_rensa_cpu']:>8.2f} {r.get('removed', ''):>8} {r.get('recall', ''):>7} {r.get('precision', ''):>9}"
        )


if __name__ == "__main__":
    main()
