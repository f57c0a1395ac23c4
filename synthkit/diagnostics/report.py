"""The collapse report: one self-contained HTML page with a plain-language verdict per metric.

Plots are drawn by matplotlib (Agg backend) and embedded as base64 PNG; the page has
no scripts and loads nothing from outside, so it opens anywhere, offline, and can be
attached to a CI run as is.
"""

from __future__ import annotations

import base64
import html
import io
from pathlib import Path
from typing import Any

from synthkit._deps import require
from synthkit.diagnostics.metrics import THRESHOLDS, Diagnosis, Metric, format_value

__all__ = ["render_report", "write_report"]

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;margin:2rem auto;max-width:70rem;
padding:0 1rem;color:#1d232a;line-height:1.45}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #d8dde3}
.sub{color:#5b6672;margin-top:0}
.banner{padding:.9rem 1.1rem;border-radius:.4rem;font-size:1.1rem;margin:1.2rem 0}
.banner.ok{background:#e6f4ea;border:1px solid #8cc79c}.banner.skipped{background:#f1f3f5;border:1px solid #c9ced4}.banner.warn{background:#fdecea;border:1px solid #e59a92}
table{border-collapse:collapse;width:100%;font-size:.95rem}th,td{text-align:left;padding:.45rem .5rem;
border-bottom:1px solid #e3e7ec;vertical-align:top}th{background:#f4f6f8}
td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.badge{display:inline-block;min-width:3.6rem;text-align:center;border-radius:.3rem;padding:.1rem .4rem;font-weight:600;
font-size:.8rem}.badge.ok{background:#d3eedb;color:#14532d}.badge.warn{background:#f9d0cb;color:#7f1d1d}
.badge.skipped{background:#e5e7eb;color:#374151}
figure{margin:1rem 0}figure img{max-width:100%;height:auto;border:1px solid #e3e7ec}
figcaption{color:#5b6672;font-size:.9rem}
details{margin:.3rem 0}summary{cursor:pointer}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(30rem,1fr));gap:1rem}
.wide{grid-column:1/-1}
"""


_WIDE = ' class="wide"'


def _png(fig: Any) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    import matplotlib.pyplot as plt

    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _figures(diag: Diagnosis) -> list[tuple[str, str, str]]:
    """Return (title, caption, base64 PNG) for each plot."""
    matplotlib = require("matplotlib", "plots")
    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    real_c, syn_c = "#3b6ea8", "#d9822b"
    figs: list[tuple[str, str, str]] = []
    judged = [m for m in diag.metrics if m.status != "skipped" and m.real is not None]
    if judged:
        cols = min(4, len(judged))
        rows = (len(judged) + cols - 1) // cols
        fig, axes = plt.subplots(rows, cols, figsize=(3.2 * cols, 2.6 * rows), squeeze=False)
        for ax, m in zip(axes.flat, judged):
            colour = "#c0392b" if m.status == "warn" else syn_c
            ax.bar(["real", "synthetic"], [m.real, m.synthetic], color=[real_c, colour])
            ax.set_title(m.title, fontsize=10)
            ax.tick_params(labelsize=9)
        for ax in list(axes.flat)[len(judged) :]:
            ax.axis("off")
        fig.tight_layout()
        figs.append(("Synthetic against real, metric by metric", "Each panel: the real baseline sample (blue) and the synthetic sample (orange, red when the metric warns), both of the same size.", _png(fig)))
    rf = diag.plots.get("rank_frequency")
    if rf and rf["real"] and rf["synthetic"]:
        fig, ax = plt.subplots(figsize=(6, 4))
        ax.loglog(range(1, len(rf["real"]) + 1), rf["real"], color=real_c, label=f"real ({len(rf['real'])} word types)")
        ax.loglog(range(1, len(rf["synthetic"]) + 1), rf["synthetic"], color=syn_c, label=f"synthetic ({len(rf['synthetic'])} word types)")
        ax.set_xlabel("word rank")
        ax.set_ylabel("count in the sample")
        ax.legend()
        ax.grid(alpha=0.3, which="both")
        figs.append(("Rank-frequency (Zipf) plot", "Equal-size samples. A synthetic curve that ends early has lost the rare words (the tail); a steeper head means the common words take over.", _png(fig)))
    dn = diag.plots.get("distinct")
    if dn:
        fig, ax = plt.subplots(figsize=(6, 4))
        ns = sorted(dn["real"])
        ax.plot(ns, [dn["real"][n] for n in ns], "o-", color=real_c, label="real")
        ax.plot(ns, [dn["synthetic"][n] for n in ns], "s-", color=syn_c, label="synthetic")
        ax.set_xlabel("n")
        ax.set_xticks(ns)
        ax.set_ylabel("distinct n-grams / all n-grams")
        ax.set_ylim(0, 1.05)
        ax.legend()
        ax.grid(alpha=0.3)
        figs.append(("Distinct-n", "Share of n-grams that are distinct, on equal-size samples. Repetitive text sits lower, most visibly for n = 2 to 4.", _png(fig)))
    lens = diag.plots.get("lengths")
    if lens and lens["real"] and lens["synthetic"]:
        import numpy as np

        fig, ax = plt.subplots(figsize=(6, 4))
        hi = int(max(np.percentile(lens["real"], 99), np.percentile(lens["synthetic"], 99), 1))
        step = max(1, (hi + 39) // 40)
        bins = np.arange(0, hi + step + 1, step) - 0.5  # whole numbers of words fall inside a bin
        ax.hist(lens["real"], bins=bins, density=True, alpha=0.55, color=real_c, label="real")
        ax.hist(lens["synthetic"], bins=bins, density=True, alpha=0.55, color=syn_c, label="synthetic")
        ax.set_xlabel("words per record")
        ax.set_ylabel("density")
        ax.legend()
        figs.append(("Length distribution", "Words per record (up to the 99th percentile). A narrow synthetic peak means the generator settled on one length.", _png(fig)))
    return figs


def _row(m: Metric) -> str:
    th = THRESHOLDS.get(m.key)
    why = f"<details><summary>{html.escape(m.threshold)}</summary>{html.escape(th.why)}</details>" if th else html.escape(m.threshold)
    label = {"ok": "ok", "warn": "warning", "skipped": "skipped"}[m.status]
    return (
        f'<tr id="metric-{html.escape(m.key)}" class="{m.status}"><td><span class="badge {m.status}">{label}</span></td>'
        f"<td><strong>{html.escape(m.title)}</strong></td><td>{html.escape(m.verdict)}</td>"
        f'<td class="num">{format_value(m.synthetic)}</td><td class="num">{format_value(m.real)}</td><td>{why}</td></tr>'
    )


def render_report(diag: Diagnosis, *, title: str = "Collapse report", synthetic_name: str = "synthetic set", reference_name: str = "reference") -> str:
    """Return the report page for ``diag`` as one self-contained HTML string."""
    warns = diag.warnings
    if warns:
        names = ", ".join(m.title for m in warns)
        banner = f'<div class="banner warn" id="overall"><strong>Collapse warnings: {len(warns)}.</strong> {html.escape(names)}.</div>'
    elif all(m.status == "skipped" for m in diag.metrics):
        banner = '<div class="banner skipped" id="overall"><strong>Nothing could be judged.</strong> There is too little text; see each metric for what it needs.</div>'
    else:
        banner = '<div class="banner ok" id="overall"><strong>No collapse warnings.</strong> The synthetic set is as diverse as real text of the same size on every metric measured.</div>'
    s = diag.sizes
    sizes = (
        f"{s['synthetic_records']:,} synthetic records ({s['synthetic_tokens']:,} words) against "
        f"{s['reference_records']:,} reference records ({s['reference_tokens']:,} words); metrics compare "
        f"equal-size samples of {s['sample_tokens']:,} words with a held-out half of the reference."
    )
    rows = "\n".join(_row(m) for m in diag.metrics)
    figures = "\n".join(
        f'<figure{_WIDE if i == 0 else ""}><img alt="{html.escape(t)}" src="data:image/png;base64,{b64}">'
        f"<figcaption><strong>{html.escape(t)}.</strong> {html.escape(c)}</figcaption></figure>"
        for i, (t, c, b64) in enumerate(_figures(diag))
    )
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)}</title>
<style>{_CSS}</style>
</head>
<body>
<h1>{html.escape(title)}</h1>
<p class="sub">{html.escape(synthetic_name)} compared with {html.escape(reference_name)}</p>
{banner}
<p>{html.escape(sizes)}</p>
<h2>Verdicts</h2>
<table>
<thead><tr><th>Status</th><th>Metric</th><th>Verdict</th><th>Synthetic</th><th>Real</th><th>Threshold (why)</th></tr></thead>
<tbody>
{rows}
</tbody>
</table>
<h2>Plots</h2>
<div class="grid">
{figures}
</div>
<h2>How to read this</h2>
<p>Training on model output loses the rare end of the distribution first, then repeats itself. Each metric
compares the synthetic set with real text of the same size, because diversity measures change with sample size.
To fix a warning, keep real data in the mix (<code>synthkit mix --real-fraction 0.2</code>, or the
<code>tail-preserving</code> strategy to favour rare material), accumulate generations instead of replacing them,
and deduplicate near-duplicates.</p>
<p class="sub">Generated by synthkit. This page is self-contained: no scripts, no external resources.</p>
</body>
</html>
"""


def write_report(diag: Diagnosis, path: str | Path, **options: Any) -> Path:
    """Write :func:`render_report` to ``path`` (its folder is created) and return the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_report(diag, **options), encoding="utf-8")
    return path
