"""The review store for the window: every call in a worker thread, writes one after another.

Review mode saves on every key press; two quick presses (P, then 4) must reach the database
in the order they were made, so writes go through one lock. Failures come back as
`ReviewIOError` with a sentence for the user.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

from desktop.core.reviews import Review, Vote, VoteOutcome
from desktop.core.store.errors import store_errors
from desktop.core.store.reviews import ReviewStore

log = logging.getLogger(__name__)


class ReviewIOError(Exception):
    """A review or vote could not be read or written; str() is the sentence to show."""


class ReviewIO:
    def __init__(self, store: ReviewStore) -> None:
        self.store = store
        self._write = asyncio.Lock()

    async def save(self, review: Review) -> Review:
        """Store this reviewer's review (an empty one removes it)."""
        async with self._write:
            try:
                return await asyncio.to_thread(self.store.save, review)
            except (*store_errors(), OSError) as exc:
                log.exception("Saving a review failed")
                raise ReviewIOError(f"The review could not be saved ({exc}). It is still on "
                                    "screen: change it again to retry.") from exc

    async def for_jobs(self, job_ids: Sequence[str]) -> list[Review]:
        try:
            return await asyncio.to_thread(self.store.for_jobs, list(job_ids))
        except (*store_errors(), OSError) as exc:
            log.exception("Reading reviews failed")
            raise ReviewIOError(f"The reviews could not be read ({exc}). Close other programs "
                                "using the history and try again.") from exc

    async def vote(self, left: tuple[str, int], right: tuple[str, int],
                   outcome: VoteOutcome, reviewer: str) -> Vote:
        async with self._write:
            try:
                return await asyncio.to_thread(self.store.vote, left, right, outcome, reviewer)
            except (*store_errors(), OSError) as exc:
                log.exception("Saving a vote failed")
                raise ReviewIOError(f"The vote could not be saved ({exc}). Vote on this pair "
                                    "again.") from exc

    async def delete_vote(self, vote_id: str) -> None:
        async with self._write:
            try:
                await asyncio.to_thread(self.store.delete_vote, vote_id)
            except (*store_errors(), OSError) as exc:
                log.exception("Removing a vote failed")
                raise ReviewIOError(f"The vote could not be taken back ({exc}).") from exc

    async def votes(self, job_ids: Sequence[str] | None = None) -> list[Vote]:
        try:
            return await asyncio.to_thread(
                lambda: self.store.votes(job_ids=job_ids))
        except (*store_errors(), OSError) as exc:
            log.exception("Reading votes failed")
            raise ReviewIOError(f"The votes could not be read ({exc}).") from exc
