"""Dedup batches prepared in a worker process beside the local engine's loop: the same output, whatever happens to the worker."""

from __future__ import annotations

import functools
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import synthkit as sk
from synthkit.filters.dedup import ExactDedup, NearDedup
from synthkit.pipeline.local import LocalEngine
from synthkit.pipeline.preparers import MIN_RECORDS, Preparers

SYNTHKIT = str(Path(sys.executable).with_name("synthkit"))


def write_corpus(path: Path, n: int, seed: int = 0) -> None:
    """Texts with exact copies, copies in capitals (the same grams), near copies, and records with no text."""
    rng = random.Random(seed)
    vocab = [f"w{i}" for i in range(800)]
    pool: list[str] = []
    with path.open("w") as fh:
        for i in range(n):
            if i % 97 == 5:
                fh.write(json.dumps({"id": f"r{i}", "other": i}) + "\n")
                continue
            if pool and rng.random() < 0.5:
                text = rng.choice(pool)
                roll = rng.random()
                if roll < 0.2:
                    ws = text.split()
                    ws[rng.randrange(len(ws))] = rng.choice(vocab)
                    text = " ".join(ws)
                elif roll < 0.3:
                    text = text.upper()
            else:
                text = " ".join(rng.choice(vocab) for _ in range(rng.randrange(3, 40)))
                pool.append(text)
            fh.write(json.dumps({"id": f"r{i}", "text": text}) + "\n")


def run(src: Path, out: Path, workers: int, filters: list) -> tuple[bytes, bytes, dict]:
    pipe = sk.Pipeline(src)
    for f in filters:
        pipe = pipe.filter(f)
    rej = out.with_suffix(".rej.jsonl")
    s = pipe.run(out, rejects=rej, engine=LocalEngine(workers=workers))
    return out.read_bytes(), rej.read_bytes(), {"kept": s.kept, "dropped": dict(s.dropped), "failed": dict(s.failed)}


@pytest.mark.parametrize("make", [lambda: [NearDedup(0.7)], lambda: [ExactDedup(), NearDedup(0.6)], lambda: ["empty", NearDedup(0.8, confirm="minhash")]])
def test_workers_give_the_output_of_preparing_in_place(tmp_path, make):
    """With a worker preparing batches (exact and near dedup, alone or after other filters), kept, rejects and counts are the in-place run's."""
    src = tmp_path / "in.jsonl"
    write_corpus(src, 12_000)
    inline = run(src, tmp_path / "a.jsonl", 0, make())
    beside = run(src, tmp_path / "b.jsonl", 1, make())
    assert beside == inline
    assert sum(inline[2]["dropped"].values()) > 3000


def test_the_worker_starts_on_a_full_batch_and_prepares_once_ready():
    """A small batch starts nothing; the first full one starts the worker (prepared in place meanwhile); once ready, batches go to it."""
    recs = [sk.Record.create(id=f"r{i}", data={"text": f"text number {i} of many"}) for i in range(MIN_RECORDS)]
    filt, other = NearDedup(0.7), sk.resolve("filter", "empty")
    prep = Preparers(1)
    try:
        assert prep.ahead([filt], recs[:-1]) is None and not prep.ready and prep.sent == 0
        assert prep.ahead([filt], recs) is None
        deadline = time.monotonic() + 60
        while not prep.ready and time.monotonic() < deadline:
            time.sleep(0.01)
        futures = prep.ahead([filt, other], recs)
        assert futures is not None and futures[1] is None and prep.sent == 1
        batch = futures[0].result(timeout=60)
        assert batch.ids == tuple(r.id for r in recs)
        assert (batch.keys == filt.prepare(recs).keys).all()
    finally:
        prep.close()
    assert Preparers(0).ahead([filt], recs) is None


def _die_in_a_worker(parent, call):
    """A preparer call that kills the process it runs in unless that is the test's own."""
    if os.getpid() != parent:
        os._exit(9)
    return call()


class _DyingNear(NearDedup):
    """Near dedup whose prepared batches kill the worker process."""

    def preparer(self, records):
        return functools.partial(_die_in_a_worker, os.getpid(), super().preparer(records))


def test_a_worker_that_dies_costs_nothing_but_time(tmp_path):
    """The worker dies on its first batch: those batches are prepared in place and the output is unchanged."""
    src = tmp_path / "in.jsonl"
    write_corpus(src, 9000, seed=3)
    inline = run(src, tmp_path / "a.jsonl", 0, [NearDedup(0.7)])
    dying = _DyingNear(0.7)
    dying.name = "near-dedup"
    assert run(src, tmp_path / "b.jsonl", 1, [dying]) == inline


def test_bad_workers_option_is_named():
    """`workers` must be a whole number of at least 0; the message names the option and an example."""
    for bad in (-1, 1.5, "two", True):
        with pytest.raises(sk.errors.InputError, match="workers must be a whole number.*workers=0"):
            LocalEngine(workers=bad)


def test_bad_workers_option_on_the_command_line(tmp_path):
    """The command says what is wrong with `--engine-option workers=...` and how to write it, without a traceback."""
    src = tmp_path / "in.jsonl"
    src.write_text('{"text": "a b c d e f"}\n')
    res = subprocess.run([SYNTHKIT, "dedup", str(src), "-o", str(tmp_path / "o.jsonl"), "--near", "0.7", "--engine-option", "workers=-1"], capture_output=True, text=True, check=False)
    assert res.returncode != 0 and "workers must be a whole number of at least 0, got -1 (e.g. --engine-option workers=0)" in res.stderr
    assert "Traceback" not in res.stderr and not (tmp_path / "o.jsonl").exists()


def _children(pid: int) -> list[int]:
    out = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as fh:
                    if int(fh.read().rsplit(")", 1)[1].split()[1]) == pid:
                        out.append(int(d))
            except OSError:
                pass
    return out


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_to_the_whole_group_drains_and_leaves_no_worker(tmp_path, sig, code):
    """A signal to the whole process group (as Ctrl-C sends) reaches the worker too: it ignores it, the run drains, exits 130/143 and no worker is left."""
    src = tmp_path / "in.jsonl"
    write_corpus(src, 400_000, seed=5)
    out = tmp_path / "out.jsonl"
    proc = subprocess.Popen([SYNTHKIT, "dedup", str(src), "-o", str(out), "--near", "0.7", "--engine-option", "workers=1"], stderr=subprocess.PIPE, text=True, start_new_session=True)
    deadline = time.monotonic() + 120
    while not _children(proc.pid) and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    workers = _children(proc.pid)
    assert workers, "no worker was started"
    while (not out.exists() or out.stat().st_size < 100_000) and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    os.killpg(proc.pid, sig)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == code, err
    assert "Traceback" not in err and "inputs ->" in err
    for w in workers:
        assert not Path(f"/proc/{w}").exists() or "Z" in Path(f"/proc/{w}/stat").read_text().rsplit(")", 1)[1].split()[0]
    assert 0 < len(out.read_text().splitlines()) < 400_000
