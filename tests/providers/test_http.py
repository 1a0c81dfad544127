"""The shared HTTP policy: auth, retries, backoff, Retry-After, error mapping, downloads, URL
inputs and key redaction.

Most cases run over httpx.MockTransport and assert on what went over the wire; the cases that
depend on real sockets (refused connections, dropped connections, read timeouts, truncated
bodies) run against a small Starlette app served by uvicorn on 127.0.0.1. Sleeps are injected,
so no test waits for a backoff and none asserts a wall time.
"""

from __future__ import annotations

import asyncio
import logging
import random
import socket
import threading
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from desktop import __version__
from desktop.core.limits import Limits
from desktop.core.model import ErrorCode
from desktop.providers.base import ProviderError
from desktop.providers.http import (
    ApiClient,
    Auth,
    Timeouts,
    UrlSourceLoader,
    default_extract_error,
    new_idempotency_key,
    parse_retry_after,
)
from tests.emulators.kit import ServerThread
from tests.support import run

KEY = "sk-test-SECRET-123"
BASE = "https://api.example.test/v1"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64

Answer = Callable[[httpx.Request], httpx.Response]


# -- helpers ----------------------------------------------------------------------------------
class Sleeps:
    """An injected sleep that records the waits and returns at once."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


class NoJitter(random.Random):
    def random(self) -> float:
        return 0.0


class Script:
    """A MockTransport handler answering from a list (the last answer repeats)."""

    def __init__(self, *answers: Answer) -> None:
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers[min(len(self.requests), len(self.answers)) - 1]
        return answer(request)

    @property
    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self)


def status(code: int, body: Any = None, *, text: str | None = None,
           headers: dict[str, str] | None = None) -> Answer:
    def answer(request: httpx.Request) -> httpx.Response:
        if text is not None:
            return httpx.Response(code, text=text, headers=headers)
        return httpx.Response(code, json=body if body is not None else {}, headers=headers)
    return answer


def ok(body: Any = None) -> Answer:
    return status(200, body if body is not None else {"ok": True})


def raises(exc_type: type[httpx.TransportError], message: str = "boom") -> Answer:
    def answer(request: httpx.Request) -> httpx.Response:
        raise exc_type(message, request=request)
    return answer


def make_client(script: Script, *, base: str | None = BASE, auth: Auth | None = None,
                sleeps: Sleeps | None = None, **kw: Any) -> ApiClient:
    kw.setdefault("rng", NoJitter())
    return ApiClient(
        "vistoure", "VistoureAI", base,
        auth=auth if auth is not None else Auth(lambda: KEY, header="X-API-KEY", scheme=""),
        transport=script.transport, sleep=sleeps or Sleeps(), **kw,
    )


async def call(client: ApiClient, coro_factory: Callable[[ApiClient], Awaitable[Any]]) -> Any:
    async with client:
        return await coro_factory(client)


def expect_error(client: ApiClient, coro_factory: Callable[[ApiClient], Awaitable[Any]]
                 ) -> ProviderError:
    with pytest.raises(ProviderError) as info:
        run(call(client, coro_factory))
    return info.value


# -- auth and configuration -------------------------------------------------------------------
@pytest.mark.parametrize(
    ("header", "scheme"),
    [("Authorization", "Bearer "), ("X-API-KEY", ""), ("x-api-key", ""),
     ("Authorization", "Api-Key ")],
)
def test_auth_header_formats(header: str, scheme: str) -> None:
    script = Script(ok())
    client = make_client(script, auth=Auth(lambda: KEY, header=header, scheme=scheme))
    assert run(call(client, lambda c: c.get_json("/account"))) == {"ok": True}
    sent = script.requests[0]
    assert sent.headers[header] == f"{scheme}{KEY}"
    assert sent.headers["User-Agent"] == f"Restyle/{__version__}"
    assert str(sent.url) == "https://api.example.test/v1/account"


def test_key_is_read_at_request_time() -> None:
    keys = iter(["sk-first-1111", "sk-second-2222"])
    script = Script(ok())
    client = make_client(script, auth=Auth.bearer(lambda: next(keys)))

    async def twice(c: ApiClient) -> None:
        await c.get_json("jobs")
        await c.get_json("jobs")

    run(call(client, twice))
    assert [r.headers["Authorization"] for r in script.requests] == [
        "Bearer sk-first-1111", "Bearer sk-second-2222"]


def test_repr_never_holds_the_key() -> None:
    auth = Auth.api_key_header(lambda: KEY)
    client = make_client(Script(ok()), auth=auth)
    assert KEY not in repr(auth)
    assert KEY not in repr(client)
    assert "X-API-KEY" in repr(auth)


@pytest.mark.parametrize("missing", [None, "", "   "])
def test_missing_key_fails_before_any_request(missing: str | None) -> None:
    script = Script(ok())
    client = make_client(script, auth=Auth.bearer(lambda: missing))
    error = expect_error(client, lambda c: c.post_json("/jobs", {"a": 1}))
    assert error.code == ErrorCode.MISSING_KEY
    assert error.message == (
        "No API key for VistoureAI. Add one in Settings or with "
        "`restyle-cli keys set --provider vistoure`."
    )
    assert script.requests == []


@pytest.mark.parametrize("base", [None, "", "  "])
def test_missing_base_url_is_not_configured(base: str | None) -> None:
    script = Script(ok())
    client = make_client(script, base=base)
    error = expect_error(client, lambda c: c.get_json("/jobs"))
    assert error.code == ErrorCode.NOT_CONFIGURED
    assert "needs a base URL" in error.message
    assert "RESTYLE_VISTOURE_BASE_URL" in error.message
    assert script.requests == []


def test_base_url_without_scheme_is_not_configured() -> None:
    script = Script(ok())
    error = expect_error(make_client(script, base="api.example.test/v1"),
                         lambda c: c.get_json("/jobs"))
    assert error.code == ErrorCode.NOT_CONFIGURED
    assert "http://" in error.message
    assert script.requests == []


def test_paths_join_the_base_path_and_keep_query() -> None:
    script = Script(ok())
    client = make_client(script, base="https://api.example.test/v1/")
    run(call(client, lambda c: c.get_json("/jobs/42?x=1", params={"y": "2"})))
    url = script.requests[0].url
    assert url.path == "/v1/jobs/42"
    assert url.params["x"] == "1" and url.params["y"] == "2"


def test_timeouts_per_kind_are_sent() -> None:
    script = Script(ok())
    client = make_client(script, timeouts=Timeouts(connect=1, read=2, write=3, pool=4,
                                                   transfer_read=50, transfer_write=60))

    async def both(c: ApiClient) -> None:
        await c.get_json("/a")
        await c.request("POST", "/upload", files={"image": ("a.png", PNG, "image/png")},
                        kind="upload")

    run(call(client, both))
    api, upload = (r.extensions["timeout"] for r in script.requests)
    assert api == {"connect": 1, "read": 2, "write": 3, "pool": 4}
    assert upload == {"connect": 1, "read": 50, "write": 60, "pool": 4}


# -- retries ----------------------------------------------------------------------------------
@pytest.mark.parametrize("code", [408, 429, 500, 502, 503, 504])
def test_get_retries_transient_statuses(code: int) -> None:
    script = Script(status(code), status(code), ok({"done": 1}))
    sleeps = Sleeps()
    result = run(call(make_client(script, sleeps=sleeps), lambda c: c.get_json("/jobs/1")))
    assert result == {"done": 1}
    assert len(script.requests) == 3
    assert sleeps.calls == [0.5, 1.0]


def test_get_gives_up_after_max_retries_with_the_last_error() -> None:
    script = Script(status(503, {"message": "maintenance"}))
    sleeps = Sleeps()
    error = expect_error(make_client(script, sleeps=sleeps, max_retries=2),
                         lambda c: c.get_json("/jobs/1"))
    assert len(script.requests) == 3
    assert len(sleeps.calls) == 2
    assert error.code == ErrorCode.PROVIDER_UNAVAILABLE
    assert error.http_status == 503
    assert "maintenance" in error.message


def test_backoff_doubles_and_is_capped_at_8_seconds() -> None:
    script = Script(status(500))
    sleeps = Sleeps()
    expect_error(make_client(script, sleeps=sleeps, max_retries=7), lambda c: c.get_json("/x"))
    assert sleeps.calls == [0.5, 1.0, 2.0, 4.0, 8.0, 8.0, 8.0]
    assert len(script.requests) == 8


def test_backoff_jitter_stays_within_a_quarter_below_the_step() -> None:
    client = make_client(Script(ok()), rng=random.Random(7))
    for retry in range(10):
        step = min(8.0, 0.5 * 2**retry)
        waits = [client.backoff(retry) for _ in range(50)]
        assert all(0.75 * step <= w <= step for w in waits)
        assert len(set(waits)) > 1  # it is jittered


def test_get_retries_connection_failures_and_read_timeouts() -> None:
    script = Script(raises(httpx.ConnectError, "[Errno 111] Connection refused"),
                    raises(httpx.ReadTimeout), raises(httpx.RemoteProtocolError), ok())
    sleeps = Sleeps()
    assert run(call(make_client(script, sleeps=sleeps), lambda c: c.get_json("/x"))) == {
        "ok": True}
    assert len(script.requests) == 4


@pytest.mark.parametrize("code", [400, 401, 403, 404, 409, 422])
def test_client_errors_are_not_retried(code: int) -> None:
    script = Script(status(code))
    expect_error(make_client(script), lambda c: c.get_json("/x"))
    assert len(script.requests) == 1


# -- Retry-After ------------------------------------------------------------------------------
def test_retry_after_seconds_is_honoured() -> None:
    script = Script(status(429, headers={"Retry-After": "7"}), ok())
    sleeps = Sleeps()
    run(call(make_client(script, sleeps=sleeps), lambda c: c.get_json("/x")))
    assert sleeps.calls == [7.0]


def test_retry_after_http_date_is_honoured() -> None:
    now = 1_750_000_000.0
    when = format_datetime(datetime.fromtimestamp(now + 30, UTC), usegmt=True)
    script = Script(status(503, headers={"Retry-After": when}), ok())
    sleeps = Sleeps()
    run(call(make_client(script, sleeps=sleeps, clock=lambda: now), lambda c: c.get_json("/x")))
    assert sleeps.calls == [30.0]


def test_retry_after_ms_is_honoured() -> None:
    script = Script(status(429, headers={"retry-after-ms": "1500", "Retry-After": "9"}), ok())
    sleeps = Sleeps()
    run(call(make_client(script, sleeps=sleeps), lambda c: c.get_json("/x")))
    assert sleeps.calls == [1.5]


def test_retry_after_beyond_the_ceiling_fails_at_once() -> None:
    script = Script(status(429, headers={"Retry-After": "3600"}), ok())
    sleeps = Sleeps()
    error = expect_error(make_client(script, sleeps=sleeps, retry_after_ceiling=120),
                         lambda c: c.get_json("/x"))
    assert error.code == ErrorCode.RATE_LIMITED
    assert error.retry_after == 3600
    assert error.message == "VistoureAI asks to wait 1 h; try again later."
    assert sleeps.calls == []
    assert len(script.requests) == 1


def test_a_small_ceiling_does_not_cut_our_own_backoff() -> None:
    script = Script(status(500), status(500), status(500), ok())
    sleeps = Sleeps()
    run(call(make_client(script, sleeps=sleeps, retry_after_ceiling=1.0),
             lambda c: c.get_json("/x")))
    assert sleeps.calls == [0.5, 1.0, 2.0]


def test_rate_limited_after_retries_keeps_the_wait() -> None:
    script = Script(status(429, {"message": "slow down"}, headers={"Retry-After": "5"}))
    error = expect_error(make_client(script, max_retries=1), lambda c: c.get_json("/x"))
    assert error.code == ErrorCode.RATE_LIMITED
    assert error.retry_after == 5
    assert "slow down" in error.message and "5 s" in error.message


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"Retry-After": "12"}, 12.0),
        ({"retry-after": "0"}, 0.0),
        ({"Retry-After": "2.5"}, 2.5),
        ({"retry-after-ms": "250"}, 0.25),
        ({"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}, 60.0),
        ({"Retry-After": "Wed, 21 Oct 2015 07:26:00 GMT"}, 0.0),  # in the past
        ({"Retry-After": "-3"}, None),
        ({"Retry-After": "soon"}, None),
        ({"retry-after-ms": "nan"}, None),
        ({}, None),
    ],
)
def test_parse_retry_after(headers: dict[str, str], expected: float | None) -> None:
    now = datetime(2015, 10, 21, 7, 27, 0, tzinfo=UTC).timestamp()
    assert parse_retry_after(headers, now=now) == expected
    assert parse_retry_after(httpx.Headers(headers), now=now) == expected


# -- POST safety ------------------------------------------------------------------------------
def test_post_is_not_retried_on_500_without_idempotency_key() -> None:
    script = Script(status(500, {"message": "oops"}), ok())
    error = expect_error(make_client(script), lambda c: c.post_json("/jobs", {"a": 1}))
    assert len(script.requests) == 1
    assert error.code == ErrorCode.PROVIDER_UNAVAILABLE
    assert error.unknown_outcome  # a 500 does not prove nothing was created
    # Never "try again later": that invites a second paid job.
    assert "may have created the job" in error.message and "try again" not in error.message
    assert "HTTP 500" in error.message


def test_unreadable_2xx_to_a_post_is_an_unknown_outcome_but_not_to_a_get() -> None:
    def broken(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=b'{"id": ',
                              headers={"content-type": "application/json"})

    error = expect_error(make_client(Script(broken)), lambda c: c.post_json("/jobs", {"a": 1}))
    assert error.unknown_outcome and "may have created the job" in error.message
    error = expect_error(make_client(Script(broken, broken, broken, broken)),
                         lambda c: c.get_json("/jobs/1"))
    assert not error.unknown_outcome and "malformed" in error.message


@pytest.mark.parametrize("code", [429, 503])
def test_post_is_retried_when_the_answer_proves_it_was_rejected(code: int) -> None:
    script = Script(status(code), ok({"id": "j1"}))
    result = run(call(make_client(script), lambda c: c.post_json("/jobs", {"a": 1})))
    assert result == {"id": "j1"}
    assert len(script.requests) == 2


def test_post_with_idempotency_key_is_retried_with_the_same_key() -> None:
    script = Script(status(500), raises(httpx.ReadTimeout), status(502), ok({"id": "j1"}))
    key = new_idempotency_key()
    result = run(call(make_client(script),
                      lambda c: c.post_json("/jobs", {"a": 1}, idempotency_key=key)))
    assert result == {"id": "j1"}
    assert len(script.requests) == 4
    assert [r.headers["Idempotency-Key"] for r in script.requests] == [key] * 4
    assert all(r.content == b'{"a":1}' for r in script.requests)


def test_post_is_retried_when_the_connection_never_opened() -> None:
    script = Script(raises(httpx.ConnectError), raises(httpx.ConnectTimeout),
                    raises(httpx.PoolTimeout), ok({"id": "j1"}))
    result = run(call(make_client(script), lambda c: c.post_json("/jobs", {"a": 1})))
    assert result == {"id": "j1"}
    assert len(script.requests) == 4
    assert "Idempotency-Key" not in script.requests[0].headers


@pytest.mark.parametrize("exc_type", [httpx.ReadTimeout, httpx.WriteTimeout,
                                      httpx.RemoteProtocolError, httpx.ReadError])
def test_post_after_an_unknown_outcome_is_not_retried(
    exc_type: type[httpx.TransportError],
) -> None:
    script = Script(raises(exc_type), ok())
    error = expect_error(make_client(script), lambda c: c.post_json("/jobs", {"a": 1}))
    assert len(script.requests) == 1
    assert error.code == ErrorCode.NETWORK
    assert error.unknown_outcome
    assert "may or may not have been created" in error.message


def test_put_and_delete_are_retried_like_get() -> None:
    script = Script(raises(httpx.ReadTimeout), status(502), status(204, text=""))

    async def delete(c: ApiClient) -> Any:
        return await c.delete("/jobs/1")

    assert run(call(make_client(script), delete)) is None
    assert [r.method for r in script.requests] == ["DELETE"] * 3


# -- credits ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("code", "body", "provider_code"),
    [
        (402, {"error": {"code": "payment_required", "message": "Top up"}}, "payment_required"),
        (429, {"error": {"message": "Insufficient credits for this job"}}, None),
        (403, {"error": "InsufficientTokens", "message": "Not enough tokens"},
         "InsufficientTokens"),
        (429, {"detail": "Monthly QUOTA used up"}, None),
    ],
)
def test_out_of_credits_is_final(code: int, body: Any, provider_code: str | None) -> None:
    script = Script(status(code, body, headers={"Retry-After": "1"}), ok())
    sleeps = Sleeps()
    error = expect_error(make_client(script, sleeps=sleeps), lambda c: c.get_json("/x"))
    assert error.code == ErrorCode.INSUFFICIENT_CREDITS
    assert error.provider_code == provider_code
    assert len(script.requests) == 1
    assert sleeps.calls == []


def test_a_per_minute_quota_is_a_rate_limit_not_empty_credits() -> None:
    script = Script(status(429, {"message": "Quota: 60 requests per minute"}), ok())
    assert run(call(make_client(script), lambda c: c.get_json("/x"))) == {"ok": True}
    assert len(script.requests) == 2


def test_forbidden_without_credit_words_stays_forbidden() -> None:
    script = Script(status(403, {"code": "plan_restricted", "message": "Upgrade to Pro"}))
    error = expect_error(make_client(script), lambda c: c.get_json("/x"))
    assert error.code == ErrorCode.FORBIDDEN
    assert error.provider_code == "plan_restricted"
    assert "Upgrade to Pro" in error.message


# -- error mapping ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("code", "expected"),
    [
        (400, ErrorCode.INVALID_INPUT),
        (413, ErrorCode.INVALID_INPUT),
        (422, ErrorCode.INVALID_INPUT),
        (401, ErrorCode.AUTH_FAILED),
        (402, ErrorCode.INSUFFICIENT_CREDITS),
        (403, ErrorCode.FORBIDDEN),
        (404, ErrorCode.NOT_FOUND),
        (409, ErrorCode.CONFLICT),
        (408, ErrorCode.NETWORK),
        (429, ErrorCode.RATE_LIMITED),
        (500, ErrorCode.PROVIDER_UNAVAILABLE),
        (502, ErrorCode.PROVIDER_UNAVAILABLE),
        (504, ErrorCode.PROVIDER_UNAVAILABLE),
    ],
)
def test_status_mapping(code: int, expected: ErrorCode) -> None:
    script = Script(status(code, {"code": "E42", "message": "Something specific"}))
    error = expect_error(make_client(script, max_retries=0), lambda c: c.get_json("/x"))
    assert error.code == expected
    assert error.http_status == code
    assert error.provider_code == "E42"
    assert "Something specific" in error.message
    assert error.message.startswith("VistoureAI")


def test_401_keeps_the_provider_code_and_says_what_to_do() -> None:
    script = Script(status(401, {"error": {"code": "invalid_api_key", "message": "Bad key."}}))
    error = expect_error(make_client(script), lambda c: c.get_json("/x"))
    assert error.code == ErrorCode.AUTH_FAILED
    assert error.provider_code == "invalid_api_key"
    assert error.message == (
        "VistoureAI rejected the API key (HTTP 401: Bad key). Check the key in Settings.")
    assert len(script.requests) == 1


def test_html_error_page_gives_a_clear_message() -> None:
    page = "<!DOCTYPE html><html><head><title>502</title></head><body>" + "x" * 5000
    script = Script(status(502, text=page, headers={"content-type": "text/html"}))
    error = expect_error(make_client(script, max_retries=1), lambda c: c.get_json("/x"))
    assert error.code == ErrorCode.PROVIDER_UNAVAILABLE
    assert error.message == (
        "VistoureAI answered with an unexpected page (HTTP 502 Bad Gateway); the service may "
        "be down, try again later.")
    assert len(script.requests) == 2


def test_html_404_points_at_the_base_url() -> None:
    script = Script(status(404, text="<html><body>Not here</body></html>"))
    error = expect_error(make_client(script), lambda c: c.get_json("/x"))
    assert error.code == ErrorCode.NOT_FOUND
    assert "check the base URL (https://api.example.test/v1)" in error.message
    assert "<" not in error.message


def test_plain_text_error_is_kept_and_long_messages_are_capped() -> None:
    script = Script(status(400, {"message": "field 'image' " + "is wrong " * 500}),
                    status(400, text="upstream said no"))
    client = make_client(script)

    async def two(c: ApiClient) -> list[ProviderError]:
        errors = []
        for _ in range(2):
            try:
                await c.get_json("/x")
            except ProviderError as exc:
                errors.append(exc)
        return errors

    long, plain = run(call(client, two))
    assert len(long.message) < 300
    assert "field 'image'" in long.message
    assert "upstream said no" in plain.message


def test_malformed_json_success_is_provider_unavailable() -> None:
    script = Script(status(200, text='{"id": "j1",'))
    error = expect_error(make_client(script), lambda c: c.get_json("/x"))
    assert error.code == ErrorCode.PROVIDER_UNAVAILABLE
    assert "malformed answer" in error.message
    assert len(script.requests) == 1


def test_html_success_page_points_at_the_base_url() -> None:
    script = Script(status(200, text="<!doctype html><html>app</html>",
                           headers={"content-type": "text/html"}))
    error = expect_error(make_client(script), lambda c: c.get_json("/x"))
    assert error.code == ErrorCode.PROVIDER_UNAVAILABLE
    assert "HTML page" in error.message and "base URL" in error.message


def test_expect_json_false_returns_any_body() -> None:
    script = Script(status(200, text="plain"))
    response = run(call(make_client(script),
                        lambda c: c.request("GET", "/x", expect_json=False)))
    assert response.text == "plain"


def test_redirect_on_post_explains_the_base_url() -> None:
    def moved(request: httpx.Request) -> httpx.Response:
        return httpx.Response(301, headers={"Location": "https://api.example.test/v1/jobs"})
    script = Script(moved)
    error = expect_error(make_client(script, base="http://api.example.test/v1"),
                         lambda c: c.post_json("/jobs", {}))
    assert error.code == ErrorCode.NOT_CONFIGURED
    assert "redirect" in error.message and "base URL" in error.message


def test_custom_error_extractor_is_used() -> None:
    seen: list[tuple[int, Any, str]] = []

    def extract(code: int, body: Any, text: str) -> tuple[str | None, str | None]:
        seen.append((code, body, text))
        return body["status"]["reason"], body["status"]["explanation"]

    script = Script(status(422, {"status": {"reason": "BAD_ROOM", "explanation": "No room"}}))
    error = expect_error(make_client(script, extract_error=extract), lambda c: c.get_json("/x"))
    assert seen and seen[0][0] == 422
    assert error.provider_code == "BAD_ROOM"
    assert "No room" in error.message


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"code": "E1", "message": "m1"}, ("E1", "m1")),
        ({"errorCode": 17, "message": "m"}, ("17", "m")),
        ({"error_code": "x", "detail": "d"}, ("x", "d")),
        ({"error": {"code": "c", "message": "em"}}, ("c", "em")),
        ({"error": {"type": "invalid_request_error", "message": "em"}},
         ("invalid_request_error", "em")),
        ({"error": "InsufficientTokens"}, ("InsufficientTokens", "InsufficientTokens")),
        ({"error": "Something went wrong"}, (None, "Something went wrong")),
        ({"detail": [{"loc": ["body", "image"], "msg": "field required"}]},
         (None, "body.image: field required")),
        ({"errors": ["first", "second"]}, (None, "first")),
        ({"errors": [{"message": "first"}]}, (None, "first")),
        ({"type": "t"}, ("t", None)),
        ([1, 2], (None, None)),
        (None, (None, None)),
    ],
)
def test_default_extract_error(body: Any, expected: tuple[str | None, str | None]) -> None:
    assert default_extract_error(400, body, "") == expected


# -- downloads --------------------------------------------------------------------------------
@pytest.mark.parametrize("code", [403, 404, 410])
def test_download_of_an_expired_link_is_result_unavailable(code: int) -> None:
    script = Script(status(code, text="<Error>AccessDenied</Error>"))
    error = expect_error(make_client(script),
                         lambda c: c.download("https://cdn.example.test/r/1.png"))
    assert error.code == ErrorCode.RESULT_UNAVAILABLE
    assert error.message.startswith(
        f"The result link has expired or was removed (HTTP {code}")
    assert len(script.requests) == 1


def test_download_sends_the_key_only_to_the_api_host() -> None:
    def image(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=PNG, headers={"content-type": "image/png; q=1"})
    script = Script(image)

    async def both(c: ApiClient) -> list[tuple[bytes, str | None]]:
        return [await c.download("https://cdn.example.test/r/1.png"),
                await c.download("https://api.example.test/v1/files/1"),
                await c.download("/files/2"),
                await c.download("http://api.example.test/v1/files/3")]  # not the same origin

    results = run(call(make_client(script), both))
    assert results[0] == (PNG, "image/png")
    present = ["X-API-KEY" in r.headers for r in script.requests]
    assert present == [False, True, True, False]
    assert script.requests[1].headers["X-API-KEY"] == KEY


def test_download_redirect_to_another_host_drops_the_key() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.host == "api.example.test":
            return httpx.Response(302, headers={"Location": "https://cdn.example.test/x.png"})
        return httpx.Response(200, content=PNG, headers={"content-type": "image/png"})
    script = Script(answer)
    data, ctype = run(call(make_client(script), lambda c: c.download("/results/1")))
    assert ctype == "image/png"
    assert data == PNG
    assert [r.url.host for r in script.requests] == ["api.example.test", "cdn.example.test"]
    assert script.requests[0].headers["X-API-KEY"] == KEY
    assert "X-API-KEY" not in script.requests[1].headers


def test_download_retries_server_errors() -> None:
    script = Script(status(503), lambda r: httpx.Response(200, content=PNG))
    data, _ctype = run(call(make_client(script), lambda c: c.download("https://cdn.x/1")))
    assert data == PNG
    assert len(script.requests) == 2


def test_download_shorter_than_its_content_length_is_retried() -> None:
    def short(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=PNG[:10], headers={"content-length": str(len(PNG))})
    script = Script(short, short, lambda r: httpx.Response(200, content=PNG))
    sleeps = Sleeps()
    data, _ = run(call(make_client(script, sleeps=sleeps), lambda c: c.download("https://cdn.x/1")))
    assert data == PNG
    assert len(script.requests) == 3

    script = Script(short)
    error = expect_error(make_client(script, max_retries=1), lambda c: c.download("https://cdn.x/1"))
    assert error.code == ErrorCode.RESULT_UNAVAILABLE
    assert f"got 10 of {len(PNG)} bytes" in error.message
    assert len(script.requests) == 2


def test_download_larger_than_the_limit_is_refused() -> None:
    script = Script(lambda r: httpx.Response(200, content=b"x" * 2048))
    error = expect_error(make_client(script),
                         lambda c: c.download("https://cdn.x/1", max_bytes=1024))
    assert error.code == ErrorCode.RESULT_UNAVAILABLE
    assert "larger than" in error.message
    assert len(script.requests) == 1


def test_download_needs_no_base_url_for_an_absolute_link() -> None:
    script = Script(lambda r: httpx.Response(200, content=PNG))
    data, _ = run(call(make_client(script, base=None), lambda c: c.download("https://cdn.x/1")))
    assert data == PNG
    assert "X-API-KEY" not in script.requests[0].headers


# -- secrets never leak -----------------------------------------------------------------------
def test_the_key_never_reaches_messages_reprs_or_logs(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    script = Script(
        ok(),
        status(401, {"message": f"Invalid key {KEY}", "api_key": KEY}),
        status(500, text=f"crash while handling X-API-KEY: {KEY}"),
        raises(httpx.ConnectError, f"refused for {KEY}"),
    )
    client = make_client(script, max_retries=0)

    async def scenario(c: ApiClient) -> list[ProviderError]:
        await c.get_json("/ok")
        errors = []
        for path in ("/401", "/500", "/connect"):
            try:
                await c.get_json(path)
            except ProviderError as exc:
                errors.append(exc)
        return errors

    errors = run(call(client, scenario))
    assert [e.code for e in errors] == [ErrorCode.AUTH_FAILED, ErrorCode.PROVIDER_UNAVAILABLE,
                                         ErrorCode.NETWORK]
    for error in errors:
        assert KEY not in error.message and KEY not in str(error) and KEY not in repr(error)
    http_records = [r for r in caplog.records if r.name == "restyle.http"]
    assert any("GET" in r.getMessage() and "-> 200" in r.getMessage() for r in http_records)
    assert any("[REDACTED]" in r.getMessage() for r in http_records)
    for record in caplog.records:
        assert KEY not in record.getMessage()
    assert KEY not in caplog.text


# -- cancellation -----------------------------------------------------------------------------
def test_a_cancelled_backoff_sleep_propagates_cancellation() -> None:
    entered = asyncio.Event()

    async def forever(seconds: float) -> None:
        entered.set()
        await asyncio.Event().wait()

    script = Script(status(503))

    async def scenario() -> None:
        async with make_client(script) as client:
            client._sleep = forever  # the injected sleep, as a provider would pass it
            task = asyncio.create_task(client.get_json("/x"))
            await entered.wait()
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task

    run(scenario())
    assert len(script.requests) == 1


def test_the_default_sleep_is_cancellable() -> None:
    script = Script(status(429, headers={"Retry-After": "100"}))

    async def scenario() -> None:
        client = ApiClient("p", "P", BASE, transport=script.transport)
        async with client:
            task = asyncio.create_task(client.get_json("/x"))
            while not script.requests:
                await asyncio.sleep(0)
            for _ in range(5):
                await asyncio.sleep(0)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task

    run(scenario())
    assert len(script.requests) == 1


def test_new_idempotency_keys_are_unique_uuids() -> None:
    keys = {new_idempotency_key() for _ in range(100)}
    assert len(keys) == 100
    assert all(uuid.UUID(k).version == 4 for k in keys)


# -- URL inputs -------------------------------------------------------------------------------
def loader_with(script: Script, sleeps: Sleeps | None = None, **kw: Any) -> UrlSourceLoader:
    return UrlSourceLoader(transport=script.transport, sleep=sleeps or Sleeps(),
                           rng=NoJitter(), **kw)


async def load(loader: UrlSourceLoader, url: str) -> bytes:
    async with loader:
        return await loader(url)


def test_url_loader_downloads_without_auth_and_retries() -> None:
    script = Script(status(503), lambda r: httpx.Response(200, content=PNG,
                                                          headers={"content-type": "image/png"}))
    assert run(load(loader_with(script), "https://img.example.test/p.png?sig=abc")) == PNG
    assert len(script.requests) == 2
    assert not any(h.lower() in ("authorization", "x-api-key")
                   for r in script.requests for h in r.headers)


@pytest.mark.parametrize(
    ("answer", "code", "text"),
    [
        (status(404), ErrorCode.INVALID_INPUT,
         "Could not download https://img.example.test/p.png?…: HTTP 404 Not Found."),
        (status(200, text="<html></html>", headers={"content-type": "text/html"}),
         ErrorCode.INVALID_INPUT, "text/html document, not an image"),
        (lambda r: httpx.Response(200, content=b"x" * 300), ErrorCode.INVALID_INPUT,
         "larger than"),
        (status(500), ErrorCode.NETWORK, "HTTP 500 Internal Server Error; try again later."),
    ],
)
def test_url_loader_errors(answer: Answer, code: ErrorCode, text: str) -> None:
    script = Script(answer)
    with pytest.raises(ProviderError) as info:
        run(load(loader_with(script, max_bytes=256, max_retries=1),
                 "https://img.example.test/p.png?token=t0ps3cret"))
    assert info.value.code == code
    assert text in info.value.message
    assert "t0ps3cret" not in info.value.message


def test_url_loader_gives_up_at_once_on_a_long_retry_after() -> None:
    script = Script(status(503, headers={"Retry-After": "600"}), ok())
    sleeps = Sleeps()
    with pytest.raises(ProviderError) as info:
        run(load(loader_with(script, sleeps), "https://img.example.test/p.png"))
    assert info.value.code == ErrorCode.NETWORK
    assert info.value.message == ("Could not download https://img.example.test/p.png: the "
                                  "server asks to wait 10 min; try again later.")
    assert info.value.retry_after == 600
    assert sleeps.calls == []
    assert len(script.requests) == 1


def test_url_loader_rejects_non_http_addresses() -> None:
    script = Script(ok())
    with pytest.raises(ProviderError) as info:
        run(load(loader_with(script), "ftp://example.test/a.png"))
    assert info.value.code == ErrorCode.INVALID_INPUT
    assert script.requests == []


def test_url_loader_takes_its_limits_from_settings() -> None:
    loader = UrlSourceLoader(limits=Limits(url_input_max_bytes=123, url_input_timeout_s=5))
    assert loader.max_bytes == 123 and loader.limits.url_input_timeout_s == 5
    assert UrlSourceLoader().max_bytes == Limits().url_input_max_bytes


class SlowBody(httpx.AsyncByteStream):
    """A body that sends one byte every `every` seconds, for ever (a slow-drip server)."""

    def __init__(self, every: float) -> None:
        self.every = every

    async def __aiter__(self) -> AsyncIterator[bytes]:
        while True:
            await asyncio.sleep(self.every)
            yield b"\x89"


def test_url_loader_gives_up_after_its_total_time_limit() -> None:
    """Every byte arrives well within the read timeout, yet the download has a total limit."""
    script = Script(lambda r: httpx.Response(200, headers={"content-type": "image/png"},
                                             stream=SlowBody(0.05)))
    loader = loader_with(script, limits=Limits(url_input_timeout_s=0.3))
    started = time.monotonic()
    with pytest.raises(ProviderError) as info:
        run(load(loader, "https://img.example.test/drip.png?sig=SECRET"))
    assert time.monotonic() - started < 3
    assert info.value.code == ErrorCode.NETWORK
    assert info.value.message == (
        "Could not download https://img.example.test/drip.png?…: it took longer than 300 ms in "
        "all (limits.url_input_timeout_s in settings.json); try again later, or save the image "
        "and give the file.")


# -- API answer size ----------------------------------------------------------------------------
def huge(code: int = 200, size: int = 300, *, length: bool = True) -> Answer:
    def answer(request: httpx.Request) -> httpx.Response:
        body = b'{"x": "' + b"a" * size + b'"}'
        if length:
            return httpx.Response(code, content=body,
                                  headers={"content-type": "application/json"})
        return httpx.Response(code, headers={"content-type": "application/json"},
                              stream=httpx.ByteStream(body))  # no Content-Length
    return answer


@pytest.mark.parametrize(("answer", "size"), [
    (huge(), " (309 bytes)"),
    (huge(length=False), ""),
    (huge(500), " (309 bytes)"),  # error answers are read the same way
])
def test_api_answers_over_the_cap_are_refused(answer: Answer, size: str) -> None:
    script = Script(answer)
    with pytest.raises(ProviderError) as info:
        run(call(make_client(script, max_body_bytes=256), lambda c: c.get_json("/status")))
    assert info.value.code == ErrorCode.PROVIDER_UNAVAILABLE
    assert info.value.message == (
        f"VistoureAI sent an answer larger than 256 bytes{size}; Restyle does not read it "
        "(the limit is limits.api_body_max_bytes in settings.json).")
    assert len(script.requests) == 1  # not retried: the next answer would be as large


def test_api_answers_within_the_cap_are_read() -> None:
    script = Script(huge(size=200, length=False))
    body = run(call(make_client(script, max_body_bytes=256), lambda c: c.get_json("/status")))
    assert body == {"x": "a" * 200}


def test_api_answer_cut_short_is_a_network_failure() -> None:
    def short(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=b'{"a": 1', headers={"content-length": "50"})

    script = Script(short, ok({"a": 1}))
    assert run(call(make_client(script), lambda c: c.get_json("/status"))) == {"a": 1}
    assert len(script.requests) == 2  # a GET is retried


# -- real sockets -----------------------------------------------------------------------------
class ServerState:
    """What the test server saw, per token in the path."""

    def __init__(self) -> None:
        self.hits: Counter[str] = Counter()
        self._lock = threading.Lock()

    def hit(self, token: str) -> int:
        with self._lock:
            self.hits[token] += 1
            return self.hits[token]


def make_app(state: ServerState) -> Starlette:
    async def slow(request: Request) -> Response:
        state.hit(request.path_params["token"])
        await asyncio.sleep(float(request.query_params.get("delay", "0.5")))
        return JSONResponse({"ok": True})

    async def image(request: Request) -> Response:
        state.hit(request.path_params["token"])
        return Response(PNG, media_type="image/png")

    async def missing(request: Request) -> Response:
        state.hit(request.path_params["token"])
        return HTMLResponse("<html><body>Not Found</body></html>", status_code=404)

    class DropAfterRead:
        """Reads the whole request, promises a body, then closes the connection."""

        async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
            more = True
            while more:
                message = await receive()
                more = message.get("more_body", False)
            state.hit(scope["path_params"]["token"])
            await send({"type": "http.response.start", "status": 200,
                        "headers": [(b"content-length", b"100")]})

    class Truncated:
        """Declares 1000 bytes and sends 10 (fully, from the `good_after`-th request on)."""

        async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
            token = scope["path_params"]["token"]
            count = state.hit(token)
            good_after = int(dict(
                p.split("=") for p in scope["query_string"].decode().split("&") if p
            ).get("good_after", "0"))
            full = good_after and count >= good_after
            body = b"y" * 1000 if full else b"y" * 10
            await send({"type": "http.response.start", "status": 200,
                        "headers": [(b"content-length", b"1000"),
                                    (b"content-type", b"image/png")]})
            await send({"type": "http.response.body", "body": body, "more_body": not full})

    return Starlette(routes=[
        Route("/slow/{token}", slow, methods=["GET", "POST"]),
        Route("/image/{token}", image),
        Route("/missing/{token}", missing),
        Route("/drop/{token}", DropAfterRead(), methods=["POST"]),
        Route("/truncated/{token}", Truncated()),
    ])


class LiveServer:
    def __init__(self, state: ServerState, base: str) -> None:
        self.state = state
        self.base = base

    def token(self) -> str:
        return uuid.uuid4().hex


@pytest.fixture(scope="module")
def live() -> Iterator[LiveServer]:
    state = ServerState()
    server = ServerThread(make_app(state), http="h11")
    try:
        yield LiveServer(state, server.start())
    finally:
        server.stop()


def live_client(base: str, sleeps: Sleeps | None = None, **kw: Any) -> ApiClient:
    return ApiClient("vistoure", "VistoureAI", base, auth=Auth.bearer(lambda: KEY),
                     sleep=sleeps or Sleeps(), rng=NoJitter(), **kw)


def closed_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_connection_refused_names_the_host_and_is_retried() -> None:
    port = closed_port()
    sleeps = Sleeps()
    client = live_client(f"http://127.0.0.1:{port}", sleeps, max_retries=2)
    error = expect_error(client, lambda c: c.post_json("/jobs", {"a": 1}))
    assert error.code == ErrorCode.NETWORK
    assert error.message == (f"Could not connect to 127.0.0.1:{port}: connection refused. "
                             "Check the base URL and your network.")
    assert not error.unknown_outcome
    assert len(sleeps.calls) == 2  # a refused POST never left: it was retried


def test_dropped_connection_after_a_post_is_an_unknown_outcome(live: LiveServer) -> None:
    token = live.token()
    sleeps = Sleeps()
    error = expect_error(live_client(live.base, sleeps),
                         lambda c: c.post_json(f"/drop/{token}", {"a": 1}))
    assert error.code == ErrorCode.NETWORK
    assert error.unknown_outcome
    assert "may or may not have been created" in error.message
    assert live.state.hits[token] == 1
    assert sleeps.calls == []


def test_server_closing_without_any_answer_is_an_unknown_outcome() -> None:
    received: list[bytes] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        received.append(await reader.readuntil(b"\r\n\r\n"))
        writer.close()

    async def scenario() -> ProviderError:
        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        try:
            async with live_client(f"http://127.0.0.1:{port}") as client:
                with pytest.raises(ProviderError) as info:
                    await client.post_json("/jobs", {"a": 1})
                return info.value
        finally:
            server.close()
            await server.wait_closed()

    error = run(scenario())
    assert error.unknown_outcome
    assert "closed the connection before answering" in error.message
    assert len(received) == 1


def test_read_timeout_retries_a_get_but_not_a_post(live: LiveServer) -> None:
    timeouts = Timeouts(read=0.05)
    get_token, post_token = live.token(), live.token()
    sleeps = Sleeps()
    error = expect_error(live_client(live.base, sleeps, timeouts=timeouts, max_retries=1),
                         lambda c: c.get_json(f"/slow/{get_token}?delay=0.5"))
    assert error.code == ErrorCode.NETWORK
    assert "did not answer within" in error.message
    assert not error.unknown_outcome
    assert len(sleeps.calls) == 1

    error = expect_error(live_client(live.base, timeouts=timeouts, max_retries=1),
                         lambda c: c.post_json(f"/slow/{post_token}?delay=0.5", {"a": 1}))
    assert error.unknown_outcome
    assert "did not answer in time" in error.message
    # The server counts a request when it starts handling it; wait until both GETs arrived.
    for _ in range(500):
        if live.state.hits[get_token] >= 2:
            break
        time.sleep(0.01)
    assert live.state.hits[get_token] == 2
    assert live.state.hits[post_token] == 1


def test_truncated_download_is_retried_then_result_unavailable(live: LiveServer) -> None:
    token = live.token()
    sleeps = Sleeps()
    error = expect_error(live_client(live.base, sleeps, max_retries=2),
                         lambda c: c.download(f"{live.base}/truncated/{token}"))
    assert error.code == ErrorCode.RESULT_UNAVAILABLE
    assert "kept breaking off" in error.message
    assert live.state.hits[token] == 3
    assert len(sleeps.calls) == 2


def test_truncated_download_recovers_on_retry(live: LiveServer) -> None:
    token = live.token()
    data, ctype = run(call(live_client(live.base),
                           lambda c: c.download(f"{live.base}/truncated/{token}?good_after=2")))
    assert data == b"y" * 1000
    assert ctype == "image/png"
    assert live.state.hits[token] == 2


def test_url_loader_over_real_sockets(live: LiveServer) -> None:
    good, bad = live.token(), live.token()
    assert run(load(UrlSourceLoader(sleep=Sleeps()), f"{live.base}/image/{good}")) == PNG
    with pytest.raises(ProviderError) as info:
        run(load(UrlSourceLoader(sleep=Sleeps()), f"{live.base}/missing/{bad}"))
    assert info.value.code == ErrorCode.INVALID_INPUT
    assert info.value.message == (
        f"Could not download {live.base}/missing/{bad}: HTTP 404 Not Found.")
    assert live.state.hits[bad] == 1


def test_a_result_over_the_download_limit_is_refused_naming_the_setting() -> None:
    from desktop.providers.base import ResultRefused

    def big(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=b"x" * 5000, headers={"content-type": "image/png"})

    script = Script(big)
    client = make_client(script, max_download_bytes=4096)
    error = expect_error(client, lambda c: c.download(f"{BASE}/results/1"))
    assert isinstance(error, ResultRefused)
    assert "limits.result_max_bytes" in error.message
    assert len(script.requests) == 1  # not retried: another try cannot help
