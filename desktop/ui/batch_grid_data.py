"""What the results grid shows, read from the history in a worker: per row the input's name
and its before image, per column "variant · provider", per cell its state in words (with the
reason on hover) or the file of its first result. No Qt: the grid widget only draws this."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from desktop.core.assets import AssetStore
from desktop.core.batches import Batch, BatchItem, ItemState
from desktop.core.model import Job, OutputKind
from desktop.core.sources import is_http_url
from desktop.core.store.batches import BatchStore
from desktop.ui.batch_words import CellKind, cell_words, source_name


@dataclass(frozen=True)
class CellImage:
    """A picture to show: its file and, where known, its full size (width, height)."""

    path: str
    size: tuple[int, int] | None = None


@dataclass(frozen=True)
class CellData:
    position: int
    kind: str
    words: str
    reason: str
    job_id: str | None = None
    image: CellImage | None = None
    #: How many images the job gave (a cell shows the first).
    outputs: int = 0


@dataclass(frozen=True)
class RowData:
    name: str
    source: str
    before: CellImage | None
    #: Why there is no before image to show (a URL nothing has fetched yet).
    note: str = ""


@dataclass(frozen=True)
class GridData:
    batch: Batch
    rows: tuple[RowData, ...]
    #: (variant title, provider title) per column after the before column.
    columns: tuple[tuple[str, str], ...]
    cells: tuple[tuple[CellData, ...], ...]

    def column_titles(self) -> list[str]:
        return [f"{variant} · {provider}" for variant, provider in self.columns]

    def cell(self, row: int, col: int) -> CellData | None:
        if 0 <= row < len(self.cells) and 0 <= col < len(self.cells[row]):
            return self.cells[row][col]
        return None


def load_grid(store: BatchStore, assets: AssetStore, batch_id: str,
              provider_titles: Mapping[str, str],
              live: Mapping[str, Job] | None = None) -> GridData | None:
    """The grid of one batch (blocking: call it in a worker). `live` holds jobs the engine
    runs now (fresher than the history)."""
    batch = store.get(batch_id)
    if batch is None:
        return None
    history = store.history
    items = store.items(batch_id)
    jobs: dict[str, Job] = {}
    for item in items:
        if item.job_id and item.state == ItemState.STARTED:
            job = (live or {}).get(item.job_id) or history.get(item.job_id)
            if job is not None:
                jobs[item.job_id] = job
    matrix = batch.matrix
    columns = tuple((variant.title, provider_titles.get(provider, provider))
                    for variant, provider in matrix.columns())
    grid: list[list[CellData | None]] = [[None] * len(columns) for _ in matrix.rows]
    for item in items:
        if 0 <= item.row < len(grid) and 0 <= item.col < len(columns):
            grid[item.row][item.col] = _cell(item, jobs.get(item.job_id or ""), batch, assets)
    rows = []
    for index, source in enumerate(matrix.rows):
        row_jobs = [jobs[i.job_id] for i in items
                    if i.row == index and i.job_id in jobs]
        rows.append(_row(source, matrix.role, row_jobs, history, assets))
    cells = tuple(tuple(c if c is not None else CellData(-1, CellKind.CANCELLED, "", "")
                        for c in row) for row in grid)
    return GridData(batch, tuple(rows), columns, cells)


def _cell(item: BatchItem, job: Job | None, batch: Batch, assets: AssetStore) -> CellData:
    kind, words, reason = cell_words(item, job, batch.state)
    image = None
    images = [o for o in job.outputs if o.kind == OutputKind.IMAGE] if job is not None else []
    if kind == CellKind.DONE:
        if images:
            out = images[0]
            size = (out.width, out.height) if out.width and out.height else None
            image = CellImage(str(assets.path_for(out.sha256, out.mime)), size)
        else:
            words, reason = "No image", "This job's result is not an image; open the job."
    return CellData(item.position, kind, words, reason, job.id if job is not None else None,
                    image, len(images))


def _row(source: str, role: str, jobs: list[Job], history: object,
         assets: AssetStore) -> RowData:
    name = source_name(source)
    for job in jobs:
        shas = job.inputs.get(role) or []
        if not shas:
            continue
        asset = history.asset(shas[0])  # type: ignore[attr-defined]
        if asset is not None:
            size = (asset.width, asset.height) if asset.width and asset.height else None
            return RowData(name, source, CellImage(str(assets.path_for(asset.sha256,
                                                                        asset.mime)), size))
    if is_http_url(source):
        return RowData(name, source, None, "Shown once a job has fetched this address.")
    if Path(source).is_file():
        return RowData(name, source, CellImage(source))
    return RowData(name, source, None, "This file is no longer there.")
