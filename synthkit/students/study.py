"""The student study: what verification, steering and real data do for a student that learns.

At an equal budget of teacher requests, with the ``procedural`` teacher erring on a known
share of problems (``error_rate``), for each seed:

* (a) ``verified`` against ``unverified``: one round; the unverified student trains on as many
  records as the verified one kept (the same volume), so only their correctness differs;
* (b) ``targeted`` (steered to the weakest slices) against ``uniform`` generation, over rounds;
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

__all__ = ["ARMS", "DEFAULT_FAMILIES", "DEFAULT_STUDENT_OPTIONS", "student_study", "summarise", "summary_table", "plot_study", "write_json"]

ARMS = (
    "verified",
    "unverified",
    "targeted",
    "uniform",
    "recursive-replace",
    "recursive-accumulate",
    "recursive-verified-real",
)

DEFAULT_FAMILIES = ("arithmetic", "linear-equations", "modular", "bases", "lists")

#: The study's student size: small enough for 45 training runs in well under 10 minutes on 2 cores.
DEFAULT_STUDENT_OPTIONS = {"d_model": 48, "layers": 2, "heads": 4, "max_prompt": 96}


def student_study(
    folder: str | Path,
    *,
    seeds: int = 3,
    student: str = "tiny-transformer",
    student_options: dict[str, Any] | None = None,
    families: Sequence[str] = DEFAULT_FAMILIES,
    error_rate: float = 0.5,
    requests: int = 400,
    budget: int = 150,
    rounds: int = 3,
    heldout: int = 200,
    real: int = 400,
    arms: Sequence[str] = ARMS,
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
        },
        "arms": {a: {"seeds": []} for a in arms},
    }
    for seed in range(seeds):
        base = procedural_loop(
            families=families, error_rate=error_rate, heldout=heldout, real=real, seed=seed,
            student=resolve("student", student, **(student_options or {})), requests=requests, budget=budget, on_collapse="warn",
        )

        def loop(arm: str, **kw: Any) -> list[dict[str, Any]]:
            result = attrs.evolve(base, **kw).run(folder / arm / f"seed-{seed}")  # noqa: B023 - run at once, in this iteration
            return [dict(r) for r in result.rounds]

        runs: dict[str, list[dict[str, Any]]] = {}
        if "verified" in arms or "unverified" in arms:
            runs["verified"] = loop("verified", rounds=1, verify=True, real_fraction=0.0)
            volume = runs["verified"][0]["kept"]
            runs["unverified"] = loop("unverified", rounds=1, verify=False, real_fraction=0.0, max_train=volume)
        if "targeted" in arms:
            runs["targeted"] = loop("targeted", rounds=rounds, steer=1.0, real_fraction=0.2)
        if "uniform" in arms:
            runs["uniform"] = loop("uniform", rounds=rounds, steer=0.0, real_fraction=0.2)
        recursive = {
            "recursive-replace": {"verify": False, "real_fraction": 0.0, "data": "replace"},
            "recursive-accumulate": {"verify": False, "real_fraction": 0.0, "data": "accumulate"},
            "recursive-verified-real": {"verify": True, "real_fraction": 0.5, "data": "replace"},
        }
        for arm, kw in recursive.items():
            if arm in arms:
                runs[arm] = loop(arm, rounds=rounds, steer=0.0, recursive=True, **kw)
        for arm in arms:
            out["arms"][arm]["seeds"].append({"seed": seed, "rounds": runs[arm]})
    out["seconds"] = round(time.monotonic() - started, 1)
    out["summary"] = summarise(out)
    return out


def _mean_sd(values: Sequence[float]) -> dict[str, float]:
    return {"mean": statistics.fmean(values), "sd": statistics.stdev(values) if len(values) > 1 else 0.0, "n": len(values)}


def summarise(result: dict[str, Any]) -> dict[str, Any]:
    """Per arm and round: the mean and standard deviation over seeds of accuracy, of the weakest slice's accuracy, and of diversity."""
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
                "teacher_requests": statistics.fmean(x["teacher_requests"] for x in rounds),
            })
        out[arm] = rows
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
        (axes[2], ("recursive-replace", "recursive-accumulate", "recursive-verified-real"), "diversity", "distinct-2 / real's"),
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
    """Return a Markdown table: per arm and round, accuracy, the weakest slice's accuracy and diversity (mean ± sd over seeds)."""
    summary = result.get("summary") or summarise(result)
    lines = [
        "| arm | round | teacher requests | accuracy | weakest slice | diversity (distinct-2 / real) |",
        "|---|---|---|---|---|---|",
    ]
    for arm in sorted(summary, key=lambda a: ARMS.index(a) if a in ARMS else len(ARMS)):
        for r, row in enumerate(summary[arm]):
            cells = [f"{row[k]['mean']:.3f} ± {row[k]['sd']:.3f}" for k in ("accuracy", "weakest_slice", "diversity")]
            lines.append(f"| {arm} | {r} | {row['teacher_requests']:.0f} | " + " | ".join(cells) + " |")
    return "\n".join(lines)
