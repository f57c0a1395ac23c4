"""Near-duplicate removal: recall, precision and wall time against bare rensa and datasketch scripts.

Builds its own planted set: N documents of about 1 KB (Zipf-distributed pseudo-words in
sentences), of which 10 % are planted twins of other documents: half with 1 to 3 words replaced
(word 5-gram Jaccard about 0.8 to 0.9), half edited until their Jaccard is just above the
threshold (0.70 to 0.75 at ``--threshold 0.7``). Then times, as subprocesses on the same file, in
the same run, with Python's bytecode cached as for an installed package (each command first runs
once, untimed, on one document):

* ``synthkit dedup IN -o OUT --near 0.7`` (the defaults: bands and rows chosen from the threshold,
  numpy MinHash, candidates confirmed by exact Jaccard); the same with ``--minhash rensa``; and
  the former defaults (``--bands 14 --confirm minhash --minhash rensa``: 14 bands of 8, estimated Jaccard),
* a bare rensa script doing the same job (same normalisation, word 5-grams, 112 permutations
  in 14 bands, threshold 0.7, keep-first streaming with ``RMinHashDeduplicator``),
* a bare datasketch script doing the same job (``MinHash`` + ``MinHashLSH`` with 14 x 8 bands,
  candidates confirmed by estimated Jaccard),
* ``synthkit filter IN -o OUT --filters empty`` (the pipeline's own cost per record).

A pair counts as found when either copy is removed (recall, per kind of twin); a removed
document is right when it belongs to a planted pair (precision). Wall and CPU times (user +
system, of the subprocess) are each the best of ``--repeat`` interleaved runs; on a shared
machine the CPU ratio is the steadier one.

    .venv/bin/python bench/dedup.py            # 20k documents
    .venv/bin/python bench/dedup.py --docs 2000000 --repeat 1 --skip-datasketch
    .venv/bin/python bench/dedup.py --docs 2000 --repeat 1 --json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
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


def build(
    n_docs: int, twin_frac: float, seed: int, edits: tuple[int, int] = (1, 3), near_frac: float = 0.5, near: tuple[float, float] = (0.70, 0.75)
) -> tuple[list[dict], list[tuple[str, str, str]]]:
    """Return (documents, planted pairs ``(original, twin, kind)``): documents of about 1 KB, ``twin_frac`` of them twins.

    A ``near_frac`` share of the twins (kind ``"near"``) is edited until its word 5-gram Jaccard
    with the original is in ``near``; the others (kind ``"edited"``) get ``edits`` words replaced.
    """
    import numpy as np

    rng = random.Random(seed)
    nprng = np.random.default_rng(seed)
    vocab = _vocab(rng)
    probs = 1.0 / np.arange(1, len(vocab) + 1)
    probs /= probs.sum()
    draws: list[list[int]] = []

    def doc() -> str:
        if not draws:  # draw words for many documents at once
            draws.extend(nprng.choice(len(vocab), size=(4096, 260), p=probs).tolist())
        out, sentence, size = [], [], 0
        for i in draws.pop():
            w = vocab[i]
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
    # hex ids, which the summary masks in reasons (so it counts drops by kind, not one line per kept id)
    docs = [{"id": f"{i:012x}", "text": doc()} for i in range(n_docs - n_twins)]
    pairs = []
    n_near = int(n_twins * near_frac)
    for j, src in enumerate(rng.sample(range(len(docs)), n_twins)):
        text = docs[src]["text"]
        if j < n_near:
            twin, kind = _near_twin(rng, vocab, text, near), "near"
        else:
            words_ = text.split(" ")
            for _ in range(rng.randint(*edits)):
                words_[rng.randrange(len(words_))] = rng.choice(vocab)
            twin, kind = " ".join(words_), "edited"
        twin_id = f"{(1 << 44) | j:012x}"
        docs.append({"id": twin_id, "text": twin})
        pairs.append((docs[src]["id"], twin_id, kind))
    rng.shuffle(docs)
    return docs, pairs


def _grams(text: str) -> set[str]:
    sys.path.insert(0, str(HERE.parent))
    from synthkit.filters.ngrams import word_ngrams, words

    return set(word_ngrams(words(text), 5))


def _near_twin(rng: random.Random, vocab: list[str], text: str, near: tuple[float, float]) -> str:
    """Return a copy of ``text`` with words replaced until its 5-gram Jaccard with it is in ``near``."""
    base = _grams(text)
    for _ in range(200):
        words_ = text.split(" ")
        for _ in range(rng.randint(3, 12)):
            words_[rng.randrange(len(words_))] = rng.choice(vocab)
        twin = " ".join(words_)
        g = _grams(twin)
        if near[0] <= len(base & g) / len(base | g) <= near[1]:
            return twin
    return twin


def true_jaccards(docs: list[dict], pairs: list[tuple[str, str, str]]) -> dict[str, list[float]]:
    by_id = {d["id"]: d["text"] for d in docs}
    out: dict[str, list[float]] = {}
    for a, b, kind in pairs:
        x, y = _grams(by_id[a]), _grams(by_id[b])
        out.setdefault(kind, []).append(len(x & y) / len(x | y))
    return {k: sorted(v) for k, v in out.items()}


# -- runs ----------------------------------------------------------------------------------


def installed_env(cache: Path) -> dict[str, str]:
    """The environment for the timed commands: Python's bytecode cached (in ``cache``), as an installed package has it.

    A shell with ``PYTHONDONTWRITEBYTECODE=1`` would make every command compile its modules
    from source at each start (about 0.1 s for synthkit's, nothing for a one-file script).
    """
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(cache)
    return env


def timed(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, float]:
    """Run ``cmd``; return (wall seconds, CPU seconds of the child: user + system)."""
    t = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t
    if os.waitstatus_to_exitcode(status):
        msg = f"{' '.join(cmd)} failed"
        raise RuntimeError(msg)
    return wall, usage.ru_utime + usage.ru_stime


def score(src: Path, out: Path, pairs: list[tuple[str, str, str]]) -> dict[str, float]:
    all_ids = [json.loads(x)["id"] for x in src.open()]
    kept = {json.loads(x)["id"] for x in out.open()}
    removed = set(all_ids) - kept
    in_pair = {x for p in pairs for x in p[:2]}
    right = sum(1 for x in removed if x in in_pair)
    row: dict[str, float] = {"removed": len(removed)}
    for kind in sorted({k for _, _, k in pairs}):
        of_kind = [(a, b) for a, b, k in pairs if k == kind]
        row[f"recall_{kind}"] = sum(1 for a, b in of_kind if a in removed or b in removed) / len(of_kind)
    row["recall"] = sum(1 for a, b, _ in pairs if a in removed or b in removed) / len(pairs) if pairs else 1.0
    row["precision"] = right / len(removed) if removed else 1.0
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--docs", type=int, default=20000)
    ap.add_argument("--twins", type=float, default=0.10)
    ap.add_argument("--near-twins", type=float, default=0.5, help="share of the twins planted just above the threshold")
    ap.add_argument("--threshold", type=float, default=0.7)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--skip-datasketch", action="store_true")
    ap.add_argument("--json", action="store_true", help="print the results as JSON")
    args = ap.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="synthkit-bench-dedup-"))
    src = tmp / "in.jsonl"
    t = args.threshold
    docs, pairs = build(args.docs, args.twins, args.seed, near_frac=args.near_twins, near=(t, t + 0.05))
    with src.open("w") as fh:
        for d in docs:
            fh.write(json.dumps(d) + "\n")
    jac = true_jaccards(docs, pairs)
    (tmp / "one.jsonl").write_text(json.dumps(docs[0]) + "\n")  # for the untimed warm-up runs
    del docs  # the runs below read the file; keep this process small
    (tmp / "rensa_bare.py").write_text(BARE_RENSA)
    (tmp / "datasketch_bare.py").write_text(BARE_DATASKETCH)
    ts = str(t)
    dedup = [SYNTHKIT, "dedup", str(src), "--near", ts]
    runs = {
        "synthkit dedup --near (defaults)": ([*dedup, "-o", str(tmp / "sk.jsonl")], "sk.jsonl"),
        "synthkit dedup --near --minhash rensa": ([*dedup, "-o", str(tmp / "skr.jsonl"), "--minhash", "rensa"], "skr.jsonl"),
        "synthkit dedup --near, former defaults (14x8, estimated)": (
            [*dedup, "-o", str(tmp / "sk14.jsonl"), "--bands", "14", "--confirm", "minhash", "--minhash", "rensa"],
            "sk14.jsonl",
        ),
        "bare rensa script": ([PY, str(tmp / "rensa_bare.py"), str(src), str(tmp / "rensa.jsonl"), ts], "rensa.jsonl"),
        "bare datasketch script": ([PY, str(tmp / "datasketch_bare.py"), str(src), str(tmp / "ds.jsonl"), ts], "ds.jsonl"),
        "synthkit filter --filters empty (pipeline only)": ([SYNTHKIT, "filter", str(src), "-o", str(tmp / "pass.jsonl"), "--filters", "empty"], None),
    }
    if args.skip_datasketch:
        del runs["bare datasketch script"]
    wall: dict[str, float] = {}
    cpu: dict[str, float] = {}
    env = installed_env(tmp / "pycache")
    for cmd, _ in runs.values():  # each once on one document, untimed: fills the bytecode cache (the input is cmd[2])
        timed([*cmd[:2], str(tmp / "one.jsonl"), *cmd[3:]], env)
    for rep in range(args.repeat):  # interleaved, so background load hits every command alike
        for name, (cmd, _) in runs.items():
            if name == "bare datasketch script" and rep > 0:
                continue  # slow; once is enough
            w, c = timed(cmd, env)
            wall[name] = min(wall.get(name, float("inf")), w)
            cpu[name] = min(cpu.get(name, float("inf")), c)
    results = {}
    base = "bare rensa script"
    for name, (_, out) in runs.items():
        row = {
            "wall_s": round(wall[name], 3),
            "cpu_s": round(cpu[name], 3),
            "speed_vs_bare_rensa_wall": round(wall[base] / wall[name], 3),
            "speed_vs_bare_rensa_cpu": round(cpu[base] / cpu[name], 3),
        }
        if out is not None:
            row.update({k: round(v, 4) if isinstance(v, float) else v for k, v in score(src, tmp / out, pairs).items()})
        results[name] = row
    shutil.rmtree(tmp, ignore_errors=True)
    report = {
        "docs": args.docs,
        "planted_pairs": {k: len(v) for k, v in jac.items()},
        "threshold": t,
        "pair_jaccard": {k: {"min": round(v[0], 3), "median": round(v[len(v) // 2], 3), "max": round(v[-1], 3)} for k, v in jac.items()},
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "results": results,
    }
    if args.json:
        print(json.dumps(report, indent=2))
        return
    kinds = ", ".join(f"{len(v)} {k} (Jaccard {v[0]:.2f} to {v[-1]:.2f})" for k, v in jac.items())
    print(f"{args.docs} docs, planted twins: {kinds}; threshold {t}; {report['machine']}")
    print(f"{'command':<58} {'wall s':>7} {'x rensa':>8} {'CPU s':>7} {'x rensa':>8} {'removed':>8} {'near':>6} {'edited':>6} {'prec.':>6}")
    for name, r in results.items():
        print(
            f"{name:<58} {r['wall_s']:>7.2f} {r['speed_vs_bare_rensa_wall']:>8.2f} {r['cpu_s']:>7.2f} {r['speed_vs_bare_rensa_cpu']:>8.2f} "
            f"{r.get('removed', ''):>8} {r.get('recall_near', ''):>6} {r.get('recall_edited', ''):>6} {r.get('precision', ''):>6}"
        )


if __name__ == "__main__":
    main()
