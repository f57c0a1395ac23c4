"""Teachers: the remote base with rate limits, retries, cost and budget; the ``openai`` client; the response cache.

* :mod:`~synthkit.teachers.batch`: Batch mode: requests go through a provider's batch API at half the price, kept in the SQLite cache.
* :mod:`~synthkit.teachers.batch_apis`: The providers' batch APIs in their wire formats: OpenAI's Files and Batches, Anthropic's Message Batches.
* :mod:`~synthkit.teachers.cache`: A resumable response cache: SQLite in WAL mode, content-addressed per sample.
* :mod:`~synthkit.teachers.cost`: Token counts and dollars: prices from litellm's local price map, a budget, a meter.
* :mod:`~synthkit.teachers.failover`: Teacher failover: an ordered chain that moves a request on when a teacher is out, and back when it recovers.
* :mod:`~synthkit.teachers.openai_client`: The ``openai`` teacher: synthkit's own async client for OpenAI-compatible chat completions.
* :mod:`~synthkit.teachers.ratelimit`: Rate control for remote teachers: RPM and TPM token buckets, adaptive concurrency, pauses.
* :mod:`~synthkit.teachers.remote`: The base of teachers that call a paid remote API: limits, retries, cost, budget, counters.
* :mod:`~synthkit.teachers.retry`: synthkit's one retry wrapper, over tenacity.
"""

from __future__ import annotations

from synthkit._lazy import exports

__all__ = [
    "API_KEY_ENV",
    "AdaptiveConcurrency",
    "BatchLimits",
    "BatchTeacher",
    "CachedTeacher",
    "CircuitBreaker",
    "CostMeter",
    "DEFAULT_BASE_URL",
    "FailoverTeacher",
    "OpenAITeacher",
    "Price",
    "RateLimited",
    "RateLimiter",
    "RemoteTeacher",
    "Reply",
    "ResponseCache",
    "RetryableError",
    "Slot",
    "TeacherDown",
    "TeacherStats",
    "TokenBucket",
    "batch_price_of",
    "cache_identity",
    "cache_key",
    "call_with_retries",
    "estimate_tokens",
    "is_testing",
    "parse_duration",
    "price_map",
    "price_of",
    "set_testing",
    "split_usage",
]

__getattr__, __dir__ = exports(
    __name__,
    {
        "API_KEY_ENV": "openai_client",
        "AdaptiveConcurrency": "ratelimit",
        "BatchLimits": "batch_apis",
        "BatchTeacher": "batch",
        "CachedTeacher": "cache",
        "CircuitBreaker": "failover",
        "CostMeter": "cost",
        "DEFAULT_BASE_URL": "openai_client",
        "FailoverTeacher": "failover",
        "OpenAITeacher": "openai_client",
        "Price": "cost",
        "RateLimited": "retry",
        "RateLimiter": "ratelimit",
        "RemoteTeacher": "remote",
        "Reply": "remote",
        "ResponseCache": "cache",
        "RetryableError": "retry",
        "Slot": "ratelimit",
        "TeacherDown": "remote",
        "TeacherStats": "remote",
        "TokenBucket": "ratelimit",
        "batch_price_of": "cost",
        "cache_identity": "cache",
        "cache_key": "cache",
        "call_with_retries": "retry",
        "estimate_tokens": "cost",
        "is_testing": "retry",
        "parse_duration": "ratelimit",
        "price_map": "cost",
        "price_of": "cost",
        "set_testing": "retry",
        "split_usage": "remote",
    },
    globals(),
)
