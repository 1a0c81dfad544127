"""Keep API keys out of logs, exceptions, the database and exports.

Three defences work together: every key the secrets module hands out is registered here and
masked wherever it appears in text; header or field names that look like credentials have
their values masked whatever they hold; and URLs (a user's input given as a signed link, a
provider's result link) lose their user info and the values of query parameters that carry
credentials or signatures (`redact_url`), in free text too.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import unquote_plus

MASK = "[REDACTED]"
#: A mask whose closing bracket was taken for punctuation after a URL in text still counts.
_MASK_OPEN = MASK[:-1]

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

#: Query (and fragment) parameter names whose values are credentials or signatures, matched
#: against the whole name, case-insensitively, after percent-decoding. Short Azure SAS names
#: (sv, sp, se, sig, ...) are listed one by one: they describe a signed grant, and `sig` is the
#: grant itself.
_SENSITIVE_PARAM = re.compile(
    r"""(?x)
    .*(token|secret|signature|passw(or)?d|credential|session|api[-_.]?key|apikey|jwt).*
    | (.*[-_.])?auth(orization|[-_.].*)?          # auth, x-auth, authorization, auth_code
    | .*key                                       # key, access_key, sharedKey
    | (.*[-_.])?sig | pwd | hmac | code           # an OAuth code is worth a token
    | x-(amz|goog|ms|oss|cos)-.*                  # S3, GCS, Azure, Alibaba, Tencent signing
    | policy | key-pair-id | googleaccessid | awsaccesskeyid
    | sv | ss | srt | sp | se | st | spr | sip | sr | si | sdd  # an Azure SAS grant
    | skoid | sktid | skt | ske | sks | skv | saoid | suoid | scid
    """,
    re.IGNORECASE,
)

# RFC 3986, appendix B: scheme, authority, path, query, fragment.
_URL_PARTS = re.compile(
    r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*):(?://(?P<authority>[^/?#]*))"
    r"(?P<path>[^?#]*)(?:\?(?P<query>[^#]*))?(?:#(?P<fragment>.*))?$",
    re.DOTALL,
)

#: A URL inside free text: up to whitespace, a quote or an angle bracket.
_URL_IN_TEXT = re.compile(r"\b[A-Za-z][A-Za-z0-9+.-]*://[^\s\"'<>`]+")
#: Punctuation that ends a sentence rather than the URL it follows.
_TRAILING = ".,;:!?)]}"

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


def _mask_registered(text: str) -> str:
    with _lock:
        secrets = sorted(_secrets, key=len, reverse=True)
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, MASK)
    return text


def is_sensitive_param(name: str) -> bool:
    """True for a URL query parameter whose value is a credential or a signature."""
    return bool(_SENSITIVE_PARAM.fullmatch(unquote_plus(name).strip()))


def _redact_params(text: str) -> str:
    """`a=1&token=x;sig=y` with the sensitive values masked; everything else kept as given
    (separators, order, percent-encoding, parameters without a value)."""
    pieces = re.split(r"([&;])", text)
    for i in range(0, len(pieces), 2):
        name, eq, value = pieces[i].partition("=")
        if eq and value and not value.startswith(_MASK_OPEN) and is_sensitive_param(name):
            pieces[i] = f"{name}={MASK}"
    return "".join(pieces)


def redact_url(url: str) -> str:
    """The URL with its user info and its credential query values masked, still readable.

    `https://user:pw@host/a.jpg?w=512&X-Amz-Signature=abc#t=1` becomes
    `https://[REDACTED]@host/a.jpg?w=512&X-Amz-Signature=[REDACTED]#t=1`: the scheme, host (IPv6
    and port included), path, the other parameters and their encoding are kept as given, so a
    person can still tell which file it was. A fragment of `name=value` pairs (OAuth's
    `#access_token=...`) is treated like the query. Registered secrets are masked anywhere in
    it. Text that is not an absolute URL with a host (a local path, a `data:` URI) comes back
    with only registered secrets masked.
    """
    if not url:
        return url
    url = _mask_registered(url)
    parts = _URL_PARTS.match(url)
    if parts is None:
        return url
    authority = parts["authority"]
    userinfo, at, host = authority.rpartition("@")
    out = f"{parts['scheme']}://{MASK + at if userinfo else ''}{host}{parts['path']}"
    if parts["query"] is not None:
        out += "?" + _redact_params(parts["query"])
    if parts["fragment"] is not None:
        fragment = parts["fragment"]
        out += "#" + (_redact_params(fragment) if "=" in fragment else fragment)
    return out


def redact_inputs(inputs: Mapping[str, Sequence[str]]) -> dict[str, list[str]]:
    """A job's inputs (role -> sources) with every URL passed through `redact_url`; local
    paths come back unchanged, roles and order kept. For what is stored in the history and
    shown: the URL as given is needed only to download the input, before the job is stored."""
    return {role: [redact_url(src) for src in sources] for role, sources in inputs.items()}


def _redact_urls_in(text: str) -> str:
    def one(match: re.Match[str]) -> str:
        found = match[0]
        body = found.rstrip(_TRAILING)
        return redact_url(body) + found[len(body):]

    return _URL_IN_TEXT.sub(one, text)


def redact_text(text: str) -> str:
    """Mask registered secrets, URL credentials (see `redact_url`) and credential-looking
    `name: value` pairs in free text."""
    if not text:
        return text
    text = _mask_registered(text)
    if "://" in text:
        text = _redact_urls_in(text)
    return _INLINE.sub(
        lambda m: f"{m['name']}{m['sep']}{m['scheme'] or ''}{MASK}"
        if not m["value"].startswith(_MASK_OPEN)
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
