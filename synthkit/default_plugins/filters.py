"""Built-in filters, registered through the same hooks third-party plugins use."""

from __future__ import annotations

from synthkit.hookspecs import hookimpl


def _exact_dedup(**options):
    from synthkit.dedup import ExactDedup

    return ExactDedup(**options)


@hookimpl
def register_filters(register):
    """Register the built-in filters."""
    register(
        "exact-dedup",
        _exact_dedup,
        summary="Drop records whose normalised text (case, whitespace, punctuation) was seen before.",
    )
