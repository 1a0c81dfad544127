"""Review reads and writes that fail on the team back-end come back as a sentence."""

from __future__ import annotations

import asyncio
from typing import Any

import psycopg
import pytest

from desktop.core.store.errors import HistoryError
from desktop.ui.review_io import ReviewIO, ReviewIOError


class FailingStore:
    def __init__(self, exc: BaseException) -> None:
        self.exc = exc

    def for_jobs(self, job_ids: Any) -> Any:
        raise self.exc

    def votes(self, job_ids: Any = None) -> Any:
        raise self.exc


@pytest.mark.parametrize("exc", [
    psycopg.errors.UndefinedTable("relation \"reviews\" does not exist"),
    HistoryError("The team history, PostgreSQL database t (127.0.0.1:5432), cannot be read."),
])
def test_a_team_database_failure_is_a_sentence(exc: BaseException) -> None:
    io = ReviewIO(FailingStore(exc))  # type: ignore[arg-type]
    with pytest.raises(ReviewIOError, match="The reviews could not be read"):
        asyncio.run(io.for_jobs(["a"]))
    with pytest.raises(ReviewIOError, match="The votes could not be read"):
        asyncio.run(io.votes())
