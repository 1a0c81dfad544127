"""Writing a job bundle (the format: see desktop.core.exports.bundle)."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import tempfile
import time
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from desktop import __version__
from desktop.core.assets import AssetStore, extension_for, sha256_hex
from desktop.core.exports import bundle_format as fmt
from desktop.core.model import Asset, InvalidInput, Job
from desktop.core.sources import shown
from desktop.core.store import History
from desktop.core.store.reviews import ReviewStore


@dataclass(frozen=True)
class BundleWritten:
    path: Path
    jobs: tuple[str, ...]
    members: int
    size: int


def write_bundle(jobs: Job | Sequence[Job], history: History, assets: AssetStore,
                 reviews: ReviewStore, path: Path) -> BundleWritten:
    """Write the jobs, their files, reviews and votes as one zip at `path` (atomically: a
    temporary file beside it, renamed into place; one file in memory at a time). An image
    that several jobs use is stored once, where the first job has it; the others' job.json
    names that member. InvalidInput when a file of a job is no longer in the asset store, or
    when `path` cannot be written."""
    chosen = [jobs] if isinstance(jobs, Job) else list(jobs)
    chosen = list({j.id: j for j in chosen}.values())
    if not chosen:
        raise InvalidInput("Choose at least one job to put in the bundle.")
    single = len(chosen) == 1
    ids = [j.id for j in chosen]
    with _ZipWriter(path) as zw:
        for job in chosen:
            prefix = "" if single else f"jobs/{job.id}/"
            inputs = _input_entries(job, history, assets, prefix, zw)
            outputs = _output_entries(job, assets, prefix, zw)
            zw.add(prefix + fmt.JOB, _json(fmt.job_dict(job, inputs, outputs)))
        zw.add(fmt.REVIEWS, _json({
            "reviews": [fmt.review_dict(r) for r in reviews.for_jobs(ids)],
            "votes": [fmt.vote_dict(v) for v in reviews.votes(job_ids=ids)]}))
        zw.add(fmt.MANIFEST, _json({
            "format": fmt.FORMAT, "version": fmt.VERSION, "restyle_version": __version__,
            "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "jobs": [{"id": j.id, "job": ("" if single else f"jobs/{j.id}/") + fmt.JOB}
                     for j in chosen],
            "members": dict(zw.listed)}), listed=False)
        count = len(zw.listed) + 1
    return BundleWritten(path=path, jobs=tuple(ids), members=count, size=path.stat().st_size)


def _input_entries(job: Job, history: History, assets: AssetStore, prefix: str,
                   zw: _ZipWriter) -> dict[str, list[dict[str, Any]]]:
    entries: dict[str, list[dict[str, Any]]] = {}
    for role, shas in job.inputs.items():
        sources = job.spec.inputs.get(role, [])
        used: set[str] = set()
        for i, sha in enumerate(shas):
            asset = history.asset(sha)
            source = fmt.source_label(sources[i]) if i < len(sources) else f"{role}-{i + 1}"
            if asset is None or not assets.exists(asset):
                raise InvalidInput(f"The {role} input of job {job.id} is no longer in the asset "
                                   "store, so the job cannot be bundled.")
            base = source.rsplit("/", 1)[-1].split("?", 1)[0] or f"{role}-{i + 1}"
            stem = fmt.safe_file_name(base.rsplit(".", 1)[0] if "." in base else base, role)
            name = f"{stem}.{extension_for(asset.mime)}"
            n = 2
            while name in used:
                name = f"{stem}-{n}.{extension_for(asset.mime)}"
                n += 1
            used.add(name)
            member = zw.add_asset(f"{prefix}inputs/{role}/{name}", asset, assets)
            entries.setdefault(role, []).append({
                "name": name, "source": source, "member": member, "sha256": asset.sha256,
                "mime": asset.mime, "width": asset.width, "height": asset.height})
    return entries


def _output_entries(job: Job, assets: AssetStore, prefix: str, zw: _ZipWriter
                    ) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = []
    for o in job.outputs:
        asset = Asset(o.sha256, o.mime, o.size, o.width, o.height)
        if not assets.exists(asset):
            raise InvalidInput(f"Result {o.position + 1} of job {job.id} is no longer in the "
                               "asset store, so the job cannot be bundled.")
        member = zw.add_asset(f"{prefix}outputs/{o.position + 1}.{extension_for(o.mime)}",
                              asset, assets)
        entries.append({"position": o.position, "member": member, "sha256": o.sha256,
                        "mime": o.mime, "kind": str(o.kind), "label": o.label,
                        "width": o.width, "height": o.height, "size": o.size})
    return entries


def _json(data: Any) -> bytes:
    return json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False).encode("utf-8")


class _ZipWriter:
    """A zip written to a temporary file beside `path`, renamed into place when the `with`
    block ends without an error (and removed when it does not)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        #: Member -> {"sha256", "size"}: what the manifest lists.
        self.listed: dict[str, dict[str, Any]] = {}
        self._by_sha: dict[str, str] = {}
        self._stamp = time.localtime()[:6]
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, self._tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp",
                                             dir=path.parent)
        except OSError as exc:
            raise self._problem(exc) from None
        self._file = os.fdopen(fd, "wb")
        self._zip = zipfile.ZipFile(self._file, "w")

    def _problem(self, exc: OSError) -> InvalidInput:
        return InvalidInput(f"Cannot write the bundle {shown(self.path.name)} in "
                            f"{shown(str(self.path.parent))} ({exc.strerror or exc}); choose "
                            "another folder.")

    def add(self, name: str, data: bytes, *, listed: bool = True) -> str:
        info = zipfile.ZipInfo(name, date_time=self._stamp)
        info.external_attr = 0o100644 << 16  # a regular file, rw-r--r--
        # Images are compressed already; JSON is not.
        info.compress_type = (zipfile.ZIP_DEFLATED if name.endswith(".json")
                              else zipfile.ZIP_STORED)
        try:
            self._zip.writestr(info, data)
        except OSError as exc:
            raise self._problem(exc) from None
        if listed:
            self.listed[name] = {"sha256": sha256_hex(data), "size": len(data)}
        return name

    def add_asset(self, name: str, asset: Asset, assets: AssetStore) -> str:
        """Store the asset's file under `name`, or name the member that already holds it."""
        if asset.sha256 in self._by_sha:
            return self._by_sha[asset.sha256]
        try:
            data = assets.read(asset)
        except OSError as exc:
            raise InvalidInput(f"The file {asset.sha256[:12]} cannot be read from the asset "
                               f"store ({exc.strerror or exc}), so the bundle was not made."
                               ) from None
        self._by_sha[asset.sha256] = self.add(name, data)
        return name

    def __enter__(self) -> _ZipWriter:
        return self

    def __exit__(self, kind: type[BaseException] | None, *exc: object) -> None:
        try:
            self._zip.close()
            self._file.close()
            if kind is None:
                os.replace(self._tmp, self.path)
        except OSError as error:
            with contextlib.suppress(OSError):
                os.unlink(self._tmp)
            if kind is None:
                raise self._problem(error) from None
        finally:
            if kind is not None:
                with contextlib.suppress(OSError):
                    os.unlink(self._tmp)
