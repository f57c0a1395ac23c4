"""Teachers: the remote base with rate limits, retries, cost and budget; the ``openai`` client; the response cache.

* :mod:`~synthkit.teachers.batch`: Batch mode: requests go through a provider's batch API at half the price, kept in the SQLite cache.
* :mod:`~synthkit.teachers.batch_apis`: The providers' batch APIs in their wire formats: OpenAI's Files and Batches, Anthropic's Message Batches.
* :mod:`~synthkit.teachers.cache`: A resumable response cache: SQLite in WAL mode, content-addressed per sample.
* :mod:`~synthkit.teachers.cost`: Token counts and dollars: prices from litellm's local price map, a budget, a meter.
* :mod:`~synthkit.teachers.local`: Local servers: a loopback endpoint costs nothing, and a 500 that is a validation error is the request's fault.
* :mod:`~synthkit.teachers.failover`: Teacher failover: an ordered chain that moves a request on when a teacher is out, and back when it recovers.
* :mod:`~synthkit.teachers.openai_client`: The ``openai`` teacher: synthkit's own async client for OpenAI-compatible chat completions.
* :mod:`~synthkit.teachers.ratelimit`: Rate control for remote teachers: RPM and TPM token buckets, adaptive concurrency, pauses.
* :mod:`~synthkit.teachers.reasoning`: Reasoning traces: a model's reasoning, kept apart from its answer.
* :mod:`~synthkit.teachers.remote`: The base of teachers that call a paid remote API: limits, retries, cost, budget, counters.
* :mod:`~synthkit.teachers.retry`: synthkit's one retry wrapper, over tenacity.
"""

from __future__ import annotations

from synthkit._lazy import exports

__all__ = [
    "AdaptiveConcurrency",
    "API_KEY_ENV",
    "batch_price_of",
    "BatchLimits",
    "BatchTeacher",
    "cache_identity",
    "cache_key",
    "CachedTeacher",
    "call_with_retries",
    "CircuitBreaker",
    "CostMeter",
    "DEFAULT_BASE_URL",
    "estimate_tokens",
    "FailoverTeacher",
    "is_local_url",
    "is_request_error",
    "is_testing",
    "LOCAL_PRICE",
    "OpenAITeacher",
    "parse_duration",
    "Price",
    "price_map",
    "price_of",
    "RateLimited",
    "RateLimiter",
    "REASONING_FIELDS",
    "RemoteTeacher",
    "Reply",
    "ResponseCache",
    "RetryableError",
    "set_testing",
    "Slot",
    "split_reasoning",
    "split_usage",
    "TeacherDown",
    "TeacherStats",
    "TokenBucket",
]

__getattr__, __dir__ = exports(
    __name__,
    {
        "AdaptiveConcurrency": "ratelimit",
        "API_KEY_ENV": "openai_client",
        "batch_price_of": "cost",
        "BatchLimits": "batch_apis",
        "BatchTeacher": "batch",
        "cache_identity": "cache",
        "cache_key": "cache",
        "CachedTeacher": "cache",
        "call_with_retries": "retry",
        "CircuitBreaker": "failover",
        "CostMeter": "cost",
        "DEFAULT_BASE_URL": "openai_client",
        "estimate_tokens": "cost",
        "FailoverTeacher": "failover",
        "is_local_url": "local",
        "is_request_error": "local",
        "is_testing": "retry",
        "LOCAL_PRICE": "local",
        "OpenAITeacher": "openai_client",
        "parse_duration": "ratelimit",
        "Price": "cost",
        "price_map": "cost",
        "price_of": "cost",
        "RateLimited": "retry",
        "RateLimiter": "ratelimit",
        "REASONING_FIELDS": "reasoning",
        "RemoteTeacher": "remote",
        "Reply": "remote",
        "ResponseCache": "cache",
        "RetryableError": "retry",
        "set_testing": "retry",
        "Slot": "ratelimit",
        "split_reasoning": "reasoning",
        "split_usage": "remote",
        "TeacherDown": "remote",
        "TeacherStats": "remote",
        "TokenBucket": "ratelimit",
    },
    globals(),
)
