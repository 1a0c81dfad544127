"""The provider contract's shared pieces."""

from __future__ import annotations

import pytest

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


def test_base64_text_is_one_encoding_made_in_pieces(monkeypatch: pytest.MonkeyPatch) -> None:
    """Big inputs are encoded a piece at a time (one C call holds the GIL, stalling the
    window's thread), and the pieces join into exactly what one call gives."""
    import base64

    from desktop.core import contract

    lengths: list[int] = []
    real = base64.b64encode

    def recording(data: bytes | memoryview) -> bytes:
        lengths.append(len(data))
        return real(data)

    monkeypatch.setattr(contract.base64, "b64encode", recording)
    for size in (0, 1, 2, 3, 5, 6, 7, 299, 300, 301, 1000):
        data = bytes((i * 37) % 256 for i in range(size))
        lengths.clear()
        assert contract.base64_text(data, piece=30) == real(data).decode("ascii")
        assert max(lengths) <= 30
    big = bytes(range(256)) * 4000  # 1 MB
    lengths.clear()
    item = contract.PreparedInput("person", big, "image/png", 1, 1, "0" * 64)
    assert item.base64() == real(big).decode("ascii")
    assert len(lengths) > 1 and max(lengths) <= contract.BASE64_PIECE
    assert contract.BASE64_PIECE % 3 == 0
