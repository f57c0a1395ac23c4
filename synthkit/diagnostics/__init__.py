"""Collapse diagnostics: metrics against real text, the HTML report, and the collapse study.

* :mod:`~synthkit.diagnostics.collapse`: The collapse study: model collapse and its remedies, reproduced with synthkit's own mixers.
* :mod:`~synthkit.diagnostics.metrics`: Collapse diagnostics: how a synthetic set compares with real text of the same size.
* :mod:`~synthkit.diagnostics.report`: The collapse report: one self-contained HTML page with a plain-language verdict per metric.
"""

from __future__ import annotations

from synthkit._lazy import exports

__all__ = [
    "BigramLM",
    "Diagnosis",
    "Metric",
    "STRATEGIES",
    "StudyResult",
    "THRESHOLDS",
    "Threshold",
    "accumulate_log_sd",
    "compression_ratio",
    "diagnose",
    "digamma",
    "distinct_n",
    "entropy_bits",
    "equal_token_sample",
    "expected_log_variance",
    "format_value",
    "gaussian_study",
    "jensen_shannon",
    "knn_coverage",
    "lm_study",
    "mix_log_sd",
    "near_duplicate_share",
    "plot_study",
    "pydoc_sentences",
    "render_report",
    "run_study",
    "sd_log_variance",
    "trigamma",
    "write_report",
]

__getattr__, __dir__ = exports(
    __name__,
    {
        "BigramLM": "collapse",
        "Diagnosis": "metrics",
        "Metric": "metrics",
        "STRATEGIES": "collapse",
        "StudyResult": "collapse",
        "THRESHOLDS": "metrics",
        "Threshold": "metrics",
        "accumulate_log_sd": "collapse",
        "compression_ratio": "metrics",
        "diagnose": "metrics",
        "digamma": "collapse",
        "distinct_n": "metrics",
        "entropy_bits": "metrics",
        "equal_token_sample": "metrics",
        "expected_log_variance": "collapse",
        "format_value": "metrics",
        "gaussian_study": "collapse",
        "jensen_shannon": "metrics",
        "knn_coverage": "metrics",
        "lm_study": "collapse",
        "mix_log_sd": "collapse",
        "near_duplicate_share": "metrics",
        "plot_study": "collapse",
        "pydoc_sentences": "collapse",
        "render_report": "report",
        "run_study": "collapse",
        "sd_log_variance": "collapse",
        "trigamma": "collapse",
        "write_report": "report",
    },
    globals(),
)
