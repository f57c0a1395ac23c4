"""Every error synthkit raises derives from :class:`SynthkitError`.

Messages name the object, where it is, and the fix.
"""

from __future__ import annotations

__all__ = [
    "SynthkitError",
    "PluginError",
    "PluginLoadError",
    "DuplicateNameError",
    "UnknownNameError",
    "OptionError",
    "InputError",
    "TemplateError",
    "RecordError",
    "FatalError",
    "AuthError",
    "BudgetExceeded",
    "Interrupted",
    "EarlyStop",
    "MissingDependencyError",
    "RecipeError",
]


class SynthkitError(Exception):
    """Base class of every synthkit error."""


class PluginError(SynthkitError):
    """A plugin is broken or misused."""


class PluginLoadError(PluginError):
    """A plugin raised while it was imported or while it registered its parts."""


class DuplicateNameError(PluginError):
    """Two plugins registered the same name for the same kind of part."""


class UnknownNameError(PluginError, KeyError):
    """A name was asked for that no plugin registered."""

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0]) if self.args else ""


class OptionError(SynthkitError, TypeError, ValueError):
    """An option a part does not take, or a value it refuses; the message names the part, the option and the fix.

    It is a ``TypeError`` (as Python's own for an unknown keyword) and a ``ValueError`` (as a
    part's own check of a value), so code catching either keeps working.
    """


class InputError(SynthkitError):
    """Input data is malformed; the message names file and line."""


class TemplateError(SynthkitError):
    """A prompt template is invalid or cannot render a record."""


class RecordError(SynthkitError):
    """Processing one record failed; the record is counted as failed, the run goes on.

    Args:
        message: what went wrong.
        kind: a short machine-readable error kind, e.g. ``"http_500"`` or ``"timeout"``.
        attempts: how many attempts were made before giving up.
    """

    def __init__(self, message: str, *, kind: str = "error", attempts: int = 1) -> None:
        super().__init__(message)
        self.kind = kind
        self.attempts = attempts


class FatalError(SynthkitError):
    """The run cannot go on (for example a rejected API key); it stops, keeping what is done."""


class AuthError(FatalError):
    """The provider rejected the credentials (HTTP 401/403)."""


class BudgetExceeded(FatalError):
    """The next request would exceed the run's budget; the run stops cleanly."""


class Interrupted(FatalError):
    """The run was stopped by a signal (SIGINT, SIGTERM); what arrived is kept, and a re-run resumes.

    Attributes:
        signal: the signal's number.
        exit_code: the shell's code for death by that signal (130 for SIGINT, 143 for SIGTERM).
    """

    def __init__(self, sig: int) -> None:
        import signal

        self.signal = int(sig)
        self.exit_code = 128 + self.signal
        name = signal.Signals(self.signal).name
        super().__init__(f"interrupted by {name}: the requests in flight were let finish and everything that arrived is kept")


class EarlyStop(FatalError):
    """The first records all failed the same way; going on would fail the rest too."""


class MissingDependencyError(SynthkitError, ImportError):
    """An optional dependency is not installed; the message names the extra to install."""


class RecipeError(InputError):
    """A recipe file is malformed or names a part or option that does not exist; the message starts with ``file:line:column``."""
