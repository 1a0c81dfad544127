"""The memory settings are made on Linux (glibc) and nowhere else."""

from __future__ import annotations

import sys
from typing import Any

import pytest

from desktop.core import heap


class FakeLibc:
    def __init__(self, result: int = 1) -> None:
        self.calls: list[tuple[int, int]] = []
        self.result = result

    def mallopt(self, param: int, value: int) -> int:
        self.calls.append((param, value))
        return self.result


def test_the_settings_are_made_on_linux_and_the_answer_is_mallopts() -> None:
    libc = FakeLibc()
    assert heap.install(platform="linux", load=lambda: libc) is True  # type: ignore[arg-type, return-value]
    assert libc.calls == [(-8, 2)]  # M_ARENA_MAX
    refused = FakeLibc(result=0)
    assert heap.install(platform="linux", load=lambda: refused) is False  # type: ignore[arg-type, return-value]


@pytest.mark.parametrize("platform", ["darwin", "win32"])
def test_elsewhere_nothing_is_done(platform: str) -> None:
    def load() -> Any:
        raise AssertionError("the C library was loaded")

    assert heap.install(platform=platform, load=load) is False
    assert heap.trim(platform=platform) is False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc")
def test_glibc_accepts_the_settings() -> None:
    if heap._glibc() is None:
        pytest.skip("not glibc")
    assert heap.install() is True
    assert isinstance(heap.trim(), bool)
