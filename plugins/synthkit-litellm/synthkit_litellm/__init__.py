"""synthkit-litellm: the ``litellm`` teacher (any litellm provider) for synthkit.

Tools (``tools``, ``tool_choice`` in the parameters) are passed to ``litellm.acompletion`` as
they are, and the tool calls of the reply come back in ``Completion.tool_calls``.

litellm is imported lazily, on the first request, after
``LITELLM_LOCAL_MODEL_COST_MAP=True`` is set so it never fetches a price map; its own
retries are off (``num_retries=0``, ``max_retries=0``) so synthkit's rate limiter and
retry policy are the only ones in charge.
"""

from __future__ import annotations

from synthkit import hookimpl
from synthkit.plugins import lazy, lazy_exports

__all__ = ["LiteLLMTeacher", "register_teachers", "import_litellm", "mask_key", "NO_KEY"]

#: Where each name lives: imported on first use (the teacher's module imports synthkit's
#: remote-teacher machinery), so that loading the plugin, as every command does, stays light.
_PARTS = dict.fromkeys(["LiteLLMTeacher", "import_litellm", "mask_key", "NO_KEY"], "teacher")


@hookimpl
def register_teachers(register):
    """Register the ``litellm`` teacher."""
    register("litellm", lazy("synthkit_litellm.teacher", "LiteLLMTeacher"), summary="any litellm provider (lazy import; synthkit's retries and limits)")


__getattr__, __dir__ = lazy_exports(__name__, _PARTS, globals())
