"""Teachers: the remote base with rate limits, retries, cost and budget; the ``openai`` client; the response cache.

* :mod:`~synthkit.teachers.cache`: A resumable response cache: SQLite in WAL mode, content-addressed per sample.
* :mod:`~synthkit.teachers.cost`: Token counts and dollars: prices from litellm's local price map, a budget, a meter.
* :mod:`~synthkit.teachers.local`: Local servers: a loopback endpoint costs nothing, and a 500 that is a validation error is the request's fault.
* :mod:`~synthkit.teachers.openai_client`: The ``openai`` teacher: synthkit's own async client for OpenAI-compatible chat completions.
* :mod:`~synthkit.teachers.ratelimit`: Rate control for remote teachers: RPM and TPM token buckets, adaptive concurrency, pauses.
* :mod:`~synthkit.teachers.reasoning`: Reasoning traces: a model's reasoning, kept apart from its answer.
* :mod:`~synthkit.teachers.remote`: The base of teachers that call a paid remote API: limits, retries, cost, budget, counters.
* :mod:`~synthkit.teachers.retry`: synthkit's one retry wrapper, over tenacity.
"""

from __future__ import annotations

from synthkit._lazy import exports

__all__ = [
    "API_KEY_ENV",
    "AdaptiveConcurrency",
    "CachedTeacher",
    "CostMeter",
    "DEFAULT_BASE_URL",
    "LOCAL_PRICE",
    "OpenAITeacher",
    "Price",
    "RateLimited",
    "REASONING_FIELDS",
    "RateLimiter",
    "RemoteTeacher",
    "Reply",
    "ResponseCache",
    "RetryableError",
    "Slot",
    "TeacherStats",
    "TokenBucket",
    "cache_identity",
    "cache_key",
    "call_with_retries",
    "estimate_tokens",
    "is_local_url",
    "is_request_error",
    "is_testing",
    "parse_duration",
    "price_map",
    "price_of",
    "set_testing",
    "split_reasoning",
    "split_usage",
]

__getattr__, __dir__ = exports(
    __name__,
    {
        "API_KEY_ENV": "openai_client",
        "AdaptiveConcurrency": "ratelimit",
        "CachedTeacher": "cache",
        "CostMeter": "cost",
        "DEFAULT_BASE_URL": "openai_client",
        "LOCAL_PRICE": "local",
        "OpenAITeacher": "openai_client",
        "Price": "cost",
        "RateLimited": "retry",
        "REASONING_FIELDS": "reasoning",
        "RateLimiter": "ratelimit",
        "RemoteTeacher": "remote",
        "Reply": "remote",
        "ResponseCache": "cache",
        "RetryableError": "retry",
        "Slot": "ratelimit",
        "TeacherStats": "remote",
        "TokenBucket": "ratelimit",
        "cache_identity": "cache",
        "cache_key": "cache",
        "call_with_retries": "retry",
        "estimate_tokens": "cost",
        "is_local_url": "local",
        "is_request_error": "local",
        "is_testing": "retry",
        "parse_duration": "ratelimit",
        "price_map": "cost",
        "price_of": "cost",
        "set_testing": "retry",
        "split_reasoning": "reasoning",
        "split_usage": "remote",
    },
    globals(),
)
