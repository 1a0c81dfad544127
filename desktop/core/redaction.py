"""Keep API keys out of logs, exceptions, the database and exports.

Two defences work together: every key the secrets module hands out is registered here and
masked wherever it appears in text, and header or field names that look like credentials have
their values masked whatever they hold.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping
from typing import Any

MASK = "[REDACTED]"

#: Header and body field names whose values are secrets.
SENSITIVE_NAME = re.compile(
    r"(^authorization$|api[-_]?key|apikey|secret|token|password|passwd|^cookie$|^set-cookie$)",
    re.IGNORECASE,
)

# "Authorization: Bearer abc", "X-API-KEY: abc", "api_key=abc", '"apiKey": "abc"'
_INLINE = re.compile(
    r"(?P<name>authorization|x-api-key|api[-_]?key|apikey|token|secret|password)"
    r"(?P<sep>[\"']?\s*[:=]\s*[\"']?)"
    r"(?P<scheme>(?:bearer|basic|api-key|token)\s+)?"
    r"(?P<value>[^\s\"'&,;}]+)",
    re.IGNORECASE,
)

_lock = threading.Lock()
_secrets: set[str] = set()


def register_secret(value: str | None) -> None:
    """Remember a secret so `redact_text` masks it wherever it appears."""
    if value and len(value) >= 4:
        with _lock:
            _secrets.add(value)


def forget_secret(value: str | None) -> None:
    if value:
        with _lock:
            _secrets.discard(value)


def is_sensitive_name(name: str) -> bool:
    return bool(SENSITIVE_NAME.search(name))


def redact_text(text: str) -> str:
    """Mask registered secrets and credential-looking `name: value` pairs in free text."""
    if not text:
        return text
    with _lock:
        secrets = sorted(_secrets, key=len, reverse=True)
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, MASK)
    return _INLINE.sub(
        lambda m: f"{m['name']}{m['sep']}{m['scheme'] or ''}{MASK}"
        if m["value"] != MASK
        else m[0],
        text,
    )


def redact_mapping(data: Any) -> Any:
    """Return a copy of a JSON-like structure with credential fields masked (recursively)."""
    if isinstance(data, Mapping):
        return {
            k: (MASK if isinstance(k, str) and is_sensitive_name(k) else redact_mapping(v))
            for k, v in data.items()
        }
    if isinstance(data, list):
        return [redact_mapping(v) for v in data]
    if isinstance(data, tuple):
        return tuple(redact_mapping(v) for v in data)
    if isinstance(data, str):
        return redact_text(data)
    return data


def redact_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """Copy of HTTP headers with credential headers masked."""
    return {k: (MASK if is_sensitive_name(k) else redact_text(v)) for k, v in headers.items()}
