"""The student study: what verification, steering and real data do for a student that learns.

At an equal budget of teacher requests, with the ``procedural`` teacher erring on a known
share of problems (``error_rate``), for each seed:

* (a) ``verified`` against ``unverified``: one round; the unverified student trains on as many
  records as the verified one kept (the same volume), so only their correctness differs;
* (b) ``targeted`` (steered to the weakest slices) against ``uniform`` generation, over rounds,
  each round's kept data added to the earlier rounds';
* (c) recursive training, the student of round r teaching round r+1: ``recursive-replace``
  (its own outputs only), ``recursive-accumulate`` (every round's outputs kept), and
  ``recursive-verified-real`` (its outputs verified, plus real data).

Each arm is a :class:`~synthkit.students.loop.Loop`; the JSON holds, per arm and seed, every
round's accuracy, per-slice accuracy and teacher requests (and the loop's other figures).
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import attrs

from synthkit.errors import InputError
from synthkit.plugins import resolve
from synthkit.students.loop import procedural_loop

__all__ = ["ARMS", "COMPARISONS", "DEFAULT_FAMILIES", "DEFAULT_STUDENT_OPTIONS", "comparisons", "plot_study", "student_study", "summarise", "summary_table", "write_json"]

ARMS = (
    "verified",
    "unverified",
    "targeted",
    "uniform",
    "recursive-replace",
    "recursive-accumulate",
    "recursive-verified-real",
)

DEFAULT_FAMILIES = ("bases", "linear-equations", "lists", "modular")

#: The study's student size: small enough for 45 training runs in well under 10 minutes on 2 cores.
DEFAULT_STUDENT_OPTIONS = {"d_model": 48, "layers": 2, "heads": 2, "batch_size": 16, "max_prompt": 96}


def student_study(
    folder: str | Path,
    *,
    seeds: int = 3,
    student: str = "tiny-transformer",
    student_options: dict[str, Any] | None = None,
    families: Sequence[str] = DEFAULT_FAMILIES,
    error_rate: float = 0.5,
    requests: int = 1500,
    budget: int = 700,
    rounds: int = 3,
    heldout: int = 400,
    real: int = 400,
    arms: Sequence[str] = ARMS,
    workers: int = 2,
) -> dict[str, Any]:
    """Run the study's arms for ``seeds`` seeds in ``folder`` (one loop run folder per arm and seed) and return the JSON.

    Args:
        folder: where each arm's loop writes its rounds (``folder/ARM/seed-S``); reruns resume.
        seeds: how many seeds (the spread is over these).
        student: the registered student; ``student_options`` its options (default, for
            ``tiny-transformer``: :data:`DEFAULT_STUDENT_OPTIONS`).
        families: the procedural families (the slices).
        error_rate: the share of problems the teacher gets wrong on purpose.
        requests: teacher requests per round (equal across arms).
        budget: the student's training budget per round (optimiser steps for tiny-transformer).
        rounds: rounds of the targeted, uniform and recursive arms (verified/unverified: one).
        heldout: size of the fixed held-out set; real: size of the real pool.
        arms: which arms to run (default all).
        workers: processes running arms at once (each trains with one thread); 1 runs them here.
    """
    unknown = sorted(set(arms) - set(ARMS))
    if unknown:
        msg = f"unknown study arm(s) {unknown}; arms are {', '.join(ARMS)}"
        raise InputError(msg)
    if student_options is None:
        student_options = dict(DEFAULT_STUDENT_OPTIONS) if student == "tiny-transformer" else {}
    folder = Path(folder)
    started = time.monotonic()
    out: dict[str, Any] = {
        "config": {
            "seeds": seeds, "student": student, "student_options": student_options or {}, "families": list(families),
            "error_rate": error_rate, "requests": requests, "budget": budget, "rounds": rounds, "heldout": heldout, "real": real,
            "workers": workers,
        },
        "arms": {a: {"seeds": []} for a in arms},
    }
    settings = {
        "student": student, "student_options": student_options or {}, "families": list(families), "error_rate": error_rate,
        "heldout": heldout, "real": real, "requests": requests, "budget": budget, "rounds": rounds,
    }
    tasks = [(seed, group) for group in _GROUPS for seed in range(seeds) if any(a in arms for a in group)]
    jobs = [(str(folder), seed, group, settings, tuple(arms)) for seed, group in tasks]
    done = _in_processes(_run_group, jobs, workers) if workers > 1 and len(jobs) > 1 else [_run_group(*job) for job in jobs]
    for seed in range(seeds):
        runs = {arm: rounds_ for (s, _), got in zip(tasks, done) if s == seed for arm, rounds_ in got.items()}
        for arm in arms:
            out["arms"][arm]["seeds"].append({"seed": seed, "rounds": runs[arm]})
    out["seconds"] = round(time.monotonic() - started, 1)
    out["summary"] = summarise(out)
    out["comparisons"] = comparisons(out)
    return out


#: Arms run together in one process (the unverified arm takes the verified arm's volume; pairs
#: share round 0), the longest first so that the processes finish together.
_GROUPS = (("uniform", "targeted"), ("recursive-replace", "recursive-accumulate"), ("recursive-verified-real",), ("verified", "unverified"))


def _in_processes(fn: Any, jobs: Sequence[tuple[Any, ...]], workers: int) -> list[Any]:
    """``fn(*job)`` for every job in ``workers`` fresh processes, in order; SIGINT or SIGTERM ends them all.

    A stop kills the workers (a round in training cannot drain, and the study's teacher is
    model-free); the finished rounds are in the run folders, so the same call resumes.
    """
    import multiprocessing
    import signal
    import threading

    from synthkit.errors import Interrupted

    def stop(sig: int, _frame: Any) -> None:
        for child in multiprocessing.active_children():
            child.kill()
        raise Interrupted(sig)

    main = threading.current_thread() is threading.main_thread()
    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)} if main else {}
    try:
        with multiprocessing.get_context("spawn").Pool(min(workers, len(jobs))) as pool:  # leaving terminates the workers
            return pool.starmap(fn, jobs, chunksize=1)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _run_group(folder: str, seed: int, group: Sequence[str], settings: dict[str, Any], arms: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
    """Run the arms of ``group`` (those asked for) for ``seed``; return each arm's rounds."""
    base = procedural_loop(
        families=settings["families"], error_rate=settings["error_rate"], heldout=settings["heldout"], real=settings["real"], seed=seed,
        student=resolve("student", settings["student"], **settings["student_options"]), requests=settings["requests"],
        budget=settings["budget"], on_collapse="warn",
    )

    def loop(arm: str, *, first: str | None = None, **kw: Any) -> list[dict[str, Any]]:
        run = attrs.evolve(base, **kw)
        where = Path(folder) / arm / f"seed-{seed}"
        if first is not None:
            _share_first_round(Path(folder) / first / f"seed-{seed}", where, run)
        return [dict(r) for r in run.run(where).rounds]

    rounds = settings["rounds"]
    runs: dict[str, list[dict[str, Any]]] = {}
    if "verified" in group and ({"verified", "unverified"} & set(arms)):
        runs["verified"] = loop("verified", rounds=1, verify=True, real_fraction=0.0)
        if "unverified" in arms:
            volume = runs["verified"][0]["kept"]
            runs["unverified"] = loop("unverified", rounds=1, verify=False, real_fraction=0.0, max_train=volume)
    if "targeted" in group and "targeted" in arms:
        runs["uniform"] = loop("uniform", rounds=rounds, steer=0.0, real_fraction=0.2, data="accumulate")
        runs["targeted"] = loop("targeted", first="uniform", rounds=rounds, steer=1.0, real_fraction=0.2, data="accumulate")
    elif "uniform" in group and "uniform" in arms:
        runs["uniform"] = loop("uniform", rounds=rounds, steer=0.0, real_fraction=0.2, data="accumulate")
    recursive = {
        "recursive-replace": {"verify": False, "real_fraction": 0.0, "data": "replace"},
        "recursive-accumulate": {"verify": False, "real_fraction": 0.0, "data": "accumulate"},
        "recursive-verified-real": {"verify": True, "real_fraction": 0.5, "data": "replace"},
    }
    for arm, kw in recursive.items():
        if arm in group and (arm in arms or (arm == "recursive-replace" and "recursive-accumulate" in arms)):
            first = "recursive-replace" if arm == "recursive-accumulate" and "recursive-replace" in runs else None
            runs[arm] = loop(arm, first=first, rounds=rounds, steer=0.0, recursive=True, **kw)
    return {arm: r for arm, r in runs.items() if arm in arms}


def _share_first_round(source: Path, target: Path, run: Any) -> None:
    """Start ``target`` from ``source``'s finished round 0, which ``run`` would repeat exactly.

    Round 0 is the same in arms that differ only in steering (round 0 is uniform) or in
    accumulating (round 0 has only its own data); a target already started is left alone.
    """
    import shutil

    log = json.loads((source / "log.json").read_text()) if (source / "log.json").exists() else None
    if log is None or not log["rounds"] or (target / "log.json").exists():
        return
    target.mkdir(parents=True, exist_ok=True)
    shutil.copytree(source / "round-000", target / "round-000", dirs_exist_ok=True)
    (target / "log.json").write_text(json.dumps({"rounds": log["rounds"][:1], "stopped": None, "config": run.config()}, indent=2, sort_keys=True))


def _mean_sd(values: Sequence[float]) -> dict[str, float]:
    return {"mean": statistics.fmean(values), "sd": statistics.stdev(values) if len(values) > 1 else 0.0, "n": len(values)}


def summarise(result: dict[str, Any]) -> dict[str, Any]:
    """Per arm and round: the mean and standard deviation over seeds of accuracy, of the weakest slice's accuracy, and of both diversities."""
    out: dict[str, Any] = {}
    for arm, body in result["arms"].items():
        seeds = body["seeds"]
        n_rounds = min(len(s["rounds"]) for s in seeds)
        rows = []
        for r in range(n_rounds):
            rounds = [s["rounds"][r] for s in seeds]
            rows.append({
                "accuracy": _mean_sd([x["accuracy"] for x in rounds]),
                "weakest_slice": _mean_sd([min(x["slices"].values()) for x in rounds]),
                "diversity": _mean_sd([x["diversity"] for x in rounds if x.get("diversity") is not None] or [0.0]),
                "answer_diversity": _mean_sd([x["answer_diversity"] for x in rounds if x.get("answer_diversity") is not None] or [0.0]),
                "teacher_requests": statistics.fmean(x["teacher_requests"] for x in rounds),
            })
        out[arm] = rows
    return out


#: The study's questions: (arm, against, measure), each at the arms' last round.
COMPARISONS = (
    ("verified", "unverified", "accuracy"),
    ("targeted", "uniform", "accuracy"),
    ("targeted", "uniform", "weakest_slice"),
    ("recursive-verified-real", "recursive-replace", "accuracy"),
    ("recursive-accumulate", "recursive-replace", "accuracy"),
    ("recursive-verified-real", "recursive-replace", "answer_diversity"),
)


def comparisons(result: dict[str, Any]) -> list[dict[str, Any]]:
    """Each question of :data:`COMPARISONS`: the difference of the means over seeds, its standard error, and a verdict.

    A difference is called ``"within the noise"`` unless it is more than twice its standard error
    (Welch's, from the seeds' spread), ``"higher"`` or ``"lower"`` otherwise.
    """
    summary = result.get("summary") or summarise(result)
    out = []
    for arm, against, key in COMPARISONS:
        if arm not in summary or against not in summary:
            continue
        a, b = summary[arm][-1][key], summary[against][-1][key]
        diff = a["mean"] - b["mean"]
        se = (a["sd"] ** 2 / max(a["n"], 1) + b["sd"] ** 2 / max(b["n"], 1)) ** 0.5
        verdict = "within the noise" if abs(diff) <= 2 * se else ("higher" if diff > 0 else "lower")
        out.append({"arm": arm, "against": against, "measure": key, "difference": diff, "se": se, "verdict": verdict})
    return out


def plot_study(result: dict[str, Any], path: str | Path) -> Path:
    """Plot accuracy over rounds (mean, with one standard deviation) per arm, and diversity for the recursive arms, to a PNG."""
    from synthkit._deps import require

    require("matplotlib", "plots")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    summary = result.get("summary") or summarise(result)
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.6))
    panels = [
        (axes[0], ("verified", "unverified", "targeted", "uniform"), "accuracy", "accuracy (held-out)"),
        (axes[1], ("recursive-replace", "recursive-accumulate", "recursive-verified-real"), "accuracy", "accuracy, recursive"),
        (axes[2], ("recursive-replace", "recursive-accumulate", "recursive-verified-real"), "answer_diversity", "distinct answers / real's"),
    ]
    for ax, arms, key, title in panels:
        for arm in arms:
            if arm not in summary:
                continue
            rows = summary[arm]
            xs = list(range(len(rows)))
            mean = [r[key]["mean"] for r in rows]
            sd = [r[key]["sd"] for r in rows]
            ax.errorbar(xs, mean, yerr=sd, marker="o", capsize=3, label=arm)
        ax.set_title(title)
        ax.set_xlabel("round")
        ax.set_xticks(range(max((len(summary[a]) for a in arms if a in summary), default=1)))
        ax.legend(fontsize=7)
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


def write_json(result: dict[str, Any], path: str | Path) -> Path:
    """Write the study's JSON to ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2, sort_keys=True))
    return path


def summary_table(result: dict[str, Any]) -> str:
    """Return a Markdown table: per arm and round, accuracy, the weakest slice's accuracy and both diversities (mean ± sd over seeds)."""
    summary = result.get("summary") or summarise(result)
    lines = [
        "| arm | round | teacher requests | accuracy | weakest slice | distinct answers / real | distinct-2 / real |",
        "|---|---|---|---|---|---|---|",
    ]
    for arm in sorted(summary, key=lambda a: ARMS.index(a) if a in ARMS else len(ARMS)):
        for r, row in enumerate(summary[arm]):
            cells = [f"{row[k]['mean']:.3f} ± {row[k]['sd']:.3f}" for k in ("accuracy", "weakest_slice", "answer_diversity", "diversity")]
            lines.append(f"| {arm} | {r} | {row['teacher_requests']:.0f} | " + " | ".join(cells) + " |")
    return "\n".join(lines)
