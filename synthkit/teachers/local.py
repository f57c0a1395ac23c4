"""Local servers: a loopback endpoint costs nothing, and a 500 that is a validation error is the request's fault.

A model served on this machine (llama.cpp, vLLM, Ollama, SGLang on loopback) that no
price map knows is priced at zero, so ``--budget`` works (it never stops the run); a
model the map does know keeps its price, and ``--price-in``/``--price-out`` override both. Some of them answer a request they cannot take with HTTP 500
and a validation error in the body (llama-cpp-python's server, for a ``response_format``
it does not know): that request fails the same way every time, so it is not retried.
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit

from synthkit.teachers.cost import Price

__all__ = ["LOCAL_PRICE", "is_local_url", "is_request_error"]

#: The price of a model served on this machine.
LOCAL_PRICE = Price(0.0, 0.0, source="local")

_REQUEST_ERROR = re.compile(
    r"\bvalidation errors? for\b|\bInput should be\b|\bField required\b|\bextra fields? not permitted\b"
    r"|\binvalid_request_error\b|\bunsupported (?:value|parameter)\b",
    re.IGNORECASE,
)


def is_local_url(url: str | None) -> bool:
    """Whether ``url`` points at this machine (``localhost``, ``127.0.0.0/8``, ``::1``)."""
    if not url:
        return False
    host = urlsplit(url if "//" in url else f"//{url}").hostname or ""
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def is_request_error(detail: str) -> bool:
    """Whether a server error's message says the request itself was invalid (it will fail again)."""
    return bool(_REQUEST_ERROR.search(detail))
