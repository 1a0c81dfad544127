"""The provider contract's shared pieces."""

from __future__ import annotations

from desktop.core.contract import ProviderError
from desktop.core.model import ErrorCode


def test_rephrased_keeps_everything_but_the_sentence() -> None:
    raw = ProviderError(ErrorCode.RATE_LIMITED, "Too many requests.", provider_code="rate",
                        http_status=429, retry_after=7.5, unknown_outcome=True)
    told = raw.rephrased(ErrorCode.INSUFFICIENT_CREDITS, "Out of credits: buy more.")
    assert (told.code, told.message) == (ErrorCode.INSUFFICIENT_CREDITS,
                                         "Out of credits: buy more.")
    assert (told.provider_code, told.http_status, told.retry_after, told.unknown_outcome) == (
        "rate", 429, 7.5, True)
