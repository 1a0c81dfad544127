"""Batches and their items in the history (tables `batches` and `batch_items`, step 3)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from typing import Any

from desktop.core.batches import Batch, BatchItem, BatchState, ItemState, Matrix
from desktop.core.model import JobSpec
from desktop.core.store.filters import prefix_match
from desktop.core.store.history import History


class BatchStore:
    """Blocking reads and writes of batches through a History's connection."""

    def __init__(self, history: History, clock: Callable[[], float] = time.time) -> None:
        self.history = history
        self._clock = clock

    def create(self, batch: Batch, items: Iterable[BatchItem]) -> None:
        with self.history.transaction() as conn:
            conn.execute(
                "INSERT INTO batches (id, name, task, state, matrix, budget_credits, created_at,"
                " updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (batch.id, batch.name, batch.task, str(batch.state),
                 json.dumps(batch.matrix.to_dict(), ensure_ascii=False, default=str),
                 batch.budget_credits, batch.created_at, batch.updated_at))
            conn.executemany(
                "INSERT INTO batch_items (batch_id, position, row_index, col_index, provider,"
                " spec, expected_credits, state, job_id, attempts, note)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [(batch.id, i.position, i.row, i.col, i.provider, _spec(i.spec),
                  i.expected_credits, str(i.state), i.job_id, i.attempts, i.note)
                 for i in items])

    def get(self, batch_id: str) -> Batch | None:
        with self.history.reading() as conn:
            row = conn.execute("SELECT * FROM batches WHERE id = ?", (batch_id,)).fetchone()
        return _batch(row) if row else None

    def find(self, id_or_prefix: str) -> Batch | None:
        """A batch by id or an unambiguous prefix of at least 4 characters."""
        found = self.get(id_or_prefix)
        if found is not None or len(id_or_prefix) < 4:
            return found
        match, args = prefix_match("id", id_or_prefix)
        with self.history.reading() as conn:
            rows = conn.execute(f"SELECT * FROM batches WHERE {match} LIMIT 2", args).fetchall()
        if len(rows) > 1:
            raise LookupError(f"More than one batch id starts with '{id_or_prefix}'.")
        return _batch(rows[0]) if rows else None

    def list(self, *, states: Iterable[BatchState] = (), limit: int = 100) -> list[Batch]:
        """Batches, newest first (only those in `states` when given)."""
        wanted = [str(s) for s in states]
        where = f"WHERE state IN ({','.join('?' * len(wanted))})" if wanted else ""
        with self.history.reading() as conn:
            rows = conn.execute(f"SELECT * FROM batches {where} ORDER BY created_at DESC, id"
                                " LIMIT ?", [*wanted, limit]).fetchall()
        return [_batch(r) for r in rows]

    def items(self, batch_id: str) -> list[BatchItem]:
        with self.history.reading() as conn:
            rows = conn.execute("SELECT * FROM batch_items WHERE batch_id = ? ORDER BY position",
                                (batch_id,)).fetchall()
        return [_item(r) for r in rows]

    def set_state(self, batch_id: str, state: BatchState) -> None:
        with self.history.transaction() as conn:
            conn.execute("UPDATE batches SET state = ?, updated_at = ? WHERE id = ?",
                         (str(state), self._clock(), batch_id))

    def update_item(self, batch_id: str, item: BatchItem) -> None:
        with self.history.transaction() as conn:
            conn.execute(
                "UPDATE batch_items SET expected_credits = ?, state = ?, job_id = ?,"
                " attempts = ?, note = ? WHERE batch_id = ? AND position = ?",
                (item.expected_credits, str(item.state), item.job_id, item.attempts, item.note,
                 batch_id, item.position))
            conn.execute("UPDATE batches SET updated_at = ? WHERE id = ?",
                         (self._clock(), batch_id))

    def claim_item(self, batch_id: str, position: int, job_id: str) -> bool:
        """Mark a pending item as started with the job id it is about to get: a
        compare-and-swap, so two processes feeding one batch never both send an item."""
        with self.history.transaction() as conn:
            cursor = conn.execute(
                "UPDATE batch_items SET state = ?, job_id = ?, attempts = attempts + 1,"
                " note = '' WHERE batch_id = ? AND position = ? AND state = ?",
                (str(ItemState.STARTED), job_id, batch_id, position, str(ItemState.PENDING)))
            return cursor.rowcount == 1

    def batch_of_job(self, job_id: str) -> tuple[str, int] | None:
        """(batch id, item position) of a job made by a batch."""
        with self.history.reading() as conn:
            row = conn.execute("SELECT batch_id, position FROM batch_items WHERE job_id = ?",
                               (job_id,)).fetchone()
        return (row[0], row[1]) if row else None

    def state_of_job_batch(self, job_id: str) -> BatchState | None:
        """The state of the batch that made this job; None for a job of no batch."""
        with self.history.reading() as conn:
            row = conn.execute("SELECT b.state FROM batch_items i JOIN batches b"
                               " ON b.id = i.batch_id WHERE i.job_id = ?", (job_id,)).fetchone()
        return BatchState(row[0]) if row else None

    def team_queue(self, batch_id: str) -> str | None:
        """The team task queue the batch's jobs went to (team mode), None when they ran on a
        desk or no job was made yet."""
        with self.history.reading() as conn:
            row = conn.execute(
                "SELECT j.queue FROM batch_items i JOIN jobs j ON j.id = i.job_id"
                " WHERE i.batch_id = ? AND j.queue IS NOT NULL ORDER BY i.position LIMIT 1",
                (batch_id,)).fetchone()
        return row[0] if row else None

    def delete(self, batch_id: str) -> None:
        """Forget the batch (its jobs stay in the history)."""
        with self.history.transaction() as conn:
            conn.execute("DELETE FROM batch_items WHERE batch_id = ?", (batch_id,))
            conn.execute("DELETE FROM batches WHERE id = ?", (batch_id,))


def _spec(spec: JobSpec) -> str:
    return json.dumps(spec.to_dict(), ensure_ascii=False, default=str)


def _batch(row: Any) -> Batch:
    matrix: dict[str, Any] = json.loads(row["matrix"] or "{}")
    return Batch(id=row["id"], name=row["name"], task=row["task"],
                 state=BatchState(row["state"]), matrix=Matrix.from_dict(matrix),
                 budget_credits=row["budget_credits"], created_at=row["created_at"],
                 updated_at=row["updated_at"])


def _item(row: Any) -> BatchItem:
    return BatchItem(position=row["position"], row=row["row_index"], col=row["col_index"],
                     provider=row["provider"], spec=JobSpec.from_dict(json.loads(row["spec"])),
                     expected_credits=row["expected_credits"], state=ItemState(row["state"]),
                     job_id=row["job_id"], attempts=row["attempts"], note=row["note"] or "")
