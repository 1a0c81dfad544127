"""Importing a job bundle into this history (the format and the rules: see
desktop.core.exports.bundle)."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from desktop.core import imaging, jsonsafe
from desktop.core.assets import AssetStore, sha256_hex
from desktop.core.exports import bundle_format as fmt
from desktop.core.exports.safe_zip import SafeZip, ZipCaps, ZipRefused
from desktop.core.limits import Limits
from desktop.core.model import (
    Asset,
    ErrorCode,
    InvalidInput,
    Job,
    JobError,
    JobSpec,
    JobState,
    Output,
    OutputKind,
)
from desktop.core.reviews import Review, Vote
from desktop.core.sources import shown
from desktop.core.store import History
from desktop.core.store.imports import AlreadyThere, add_imported, existing_votes
from desktop.core.store.reviews import ReviewStore

#: The largest JSON member read (a job, the reviews, the manifest).
MAX_JSON_BYTES = 32 * 1024 * 1024
_TODO = "Ask for the bundle again, made with Restyle's Export bundle."
_CHOOSE = ("Choose a Restyle bundle: a .zip made with Export bundle or `restyle-cli export "
           "--bundle`.")


@dataclass
class ImportResult:
    """What an import did: ids as stored here (`renamed`: bundle id -> new id, for an id that
    another job here already had)."""

    path: Path
    imported: list[str] = field(default_factory=list)
    already_present: list[str] = field(default_factory=list)
    renamed: dict[str, str] = field(default_factory=dict)
    #: Jobs that were not finished in the bundle: imported as failed (see `_unfinished`).
    unfinished: list[str] = field(default_factory=list)
    reviews: int = 0
    votes: int = 0
    #: Votes left out: the other job is neither in the bundle nor in this history.
    votes_skipped: int = 0
    assets_added: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {"file": str(self.path), "imported": list(self.imported),
                "already_present": list(self.already_present), "renamed": dict(self.renamed),
                "unfinished": list(self.unfinished), "reviews": self.reviews,
                "votes": self.votes, "votes_skipped": self.votes_skipped,
                "assets_added": self.assets_added}


@dataclass(frozen=True)
class _Checked:
    """One member, read, hashed and proven to be what the job says it is."""

    member: str
    asset: Asset


def import_bundle(path: Path, history: History, assets: AssetStore, reviews: ReviewStore,
                  limits: Limits | None = None, *, caps: ZipCaps | None = None
                  ) -> ImportResult:
    """Add the bundle's jobs to this history (see the module's docstring). Every refusal is
    an InvalidInput sentence naming the file, what is wrong with it and what to do; a refused
    bundle changes nothing."""
    del reviews  # the same history's: reviews and votes are written with the jobs
    limits = limits or Limits()
    label = shown(path.name, 80)
    try:
        with SafeZip(path, caps) as zf:
            return _import(zf, path, history, assets, limits)
    except ZipRefused as exc:
        todo = _CHOOSE if exc.not_a_bundle else _TODO
        raise InvalidInput(f"{label} cannot be imported: {str(exc).rstrip('.')}. {todo}"
                           ) from None
    except _Refused as exc:
        raise InvalidInput(f"{label} cannot be imported: {exc}") from None


class _Refused(Exception):
    """A complete sentence (after "<file> cannot be imported: ")."""


def _problem(reason: str, todo: str = _TODO) -> _Refused:
    return _Refused(f"{reason.rstrip('.')}. {todo}")


def _import(zf: SafeZip, path: Path, history: History, assets: AssetStore,
            limits: Limits) -> ImportResult:
    manifest = _read_json(zf, fmt.MANIFEST, verify=None)
    hashes = _manifest_members(manifest, zf)
    job_members = _manifest_jobs(manifest, hashes)
    bundled = []
    for member in job_members:
        try:
            bundled.append(fmt.parse_job(_read_json(zf, member, verify=hashes), member,
                                         set(hashes)))
        except fmt.BundleProblem as exc:
            raise _problem(str(exc)) from None
    if len({b.id for b in bundled}) != len(bundled):
        raise _problem("it holds the same job twice")
    if fmt.REVIEWS in hashes:
        try:
            review_list, vote_list = fmt.parse_reviews(
                _read_json(zf, fmt.REVIEWS, verify=hashes), fmt.REVIEWS)
        except fmt.BundleProblem as exc:
            raise _problem(str(exc)) from None
    else:
        review_list, vote_list = [], []

    result = ImportResult(path=path)
    new_jobs = []
    for b in bundled:
        here = history.get(b.id)
        if here is None:
            new_jobs.append((b, b.id))
        elif (here.provider, here.task, here.created_at) == (b.provider, b.task,
                                                           b.times["created_at"]):
            result.already_present.append(b.id)
        else:  # another job took this id here: the bundled one gets a new id
            new_id = uuid.uuid4().hex
            result.renamed[b.id] = new_id
            new_jobs.append((b, new_id))
    if not new_jobs:
        if len(bundled) == 1:
            b = bundled[0]
            raise _Refused(f"its job {b.id} ({b.provider}/{b.task}) is already in your "
                           "history; nothing was changed.")
        raise _Refused(f"all {len(bundled)} of its jobs are already in your history; nothing "
                       "was changed.")

    checked = _check_files(zf, hashes, [b for b, _ in new_jobs], limits)
    ids = {b.id: new_id for b, new_id in new_jobs}
    jobs = [_job(b, ids[b.id], checked, assets) for b, _ in new_jobs]
    outputs = {ids[b.id]: {r.position for r in b.outputs} for b, _ in new_jobs}
    kept_reviews = _reviews(review_list, ids, outputs, {b.id for b in bundled})
    kept_votes, skipped = _votes(vote_list, ids, outputs, history)

    used = list({c.asset.sha256: c.asset for c in checked.values()}.values())
    added = _store_files(zf, checked, assets, history)
    try:
        add_imported(history, jobs, used, kept_reviews, kept_votes)
    except AlreadyThere as exc:
        _remove_unused(added, assets, history)
        raise _Refused(f"job {exc.job_id} was added to your history while the bundle was "
                       "being checked; import it again.") from None
    except BaseException:
        _remove_unused(added, assets, history)
        raise
    result.imported = [j.id for j in jobs]
    result.unfinished = [ids[b.id] for b, _ in new_jobs if not b.state.terminal]
    result.reviews = len(kept_reviews)
    result.votes = len(kept_votes)
    result.votes_skipped = skipped
    result.assets_added = len(added)
    return result


def _read_json(zf: SafeZip, member: str, verify: dict[str, str] | None) -> Any:
    if member not in zf.names:
        if member == fmt.MANIFEST:
            raise _problem("it has no manifest.json, so it is not a Restyle bundle", _CHOOSE)
        raise _problem(f"it has no member {shown(member, 80)}")
    data = zf.read(member, MAX_JSON_BYTES)
    if verify is not None:
        _verify(member, data, verify)
    try:
        return jsonsafe.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise _problem(f"{shown(member, 80)} is not UTF-8 text") from None
    except jsonsafe.JsonProblem as exc:
        raise _problem(f"{shown(member, 80)} {exc}") from None


def _verify(member: str, data: bytes, hashes: dict[str, str]) -> None:
    if sha256_hex(data) != hashes[member]:
        raise _problem(f"the content of {shown(member, 80)} does not match the SHA-256 in "
                       "its manifest (the bundle was changed or damaged after it was made)")


def _manifest_members(manifest: Any, zf: SafeZip) -> dict[str, str]:
    """Member name -> SHA-256, after checking the manifest lists exactly the zip's files."""
    if not isinstance(manifest, dict) or manifest.get("format") != fmt.FORMAT:
        raise _problem("its manifest.json does not describe a Restyle bundle", _CHOOSE)
    version = manifest.get("version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise _problem("its manifest.json has no format version")
    if version > fmt.VERSION:
        raise _problem(f"it was made by a newer Restyle (bundle format {version}; this "
                       f"version reads format {fmt.VERSION})", "Update Restyle, then import it.")
    members = manifest.get("members")
    if not isinstance(members, dict):
        raise _problem("its manifest.json lists no members")
    hashes: dict[str, str] = {}
    for name, entry in members.items():
        sha = entry.get("sha256") if isinstance(entry, dict) else None
        if not fmt.is_sha256(sha):
            raise _problem(f"its manifest.json gives no valid SHA-256 for {shown(name, 80)}")
        hashes[name] = sha
    files = set(zf.names) - {fmt.MANIFEST}
    unlisted = sorted(files - set(hashes))
    if unlisted:
        raise _problem(f"it holds {shown(unlisted[0], 80)}, which its manifest does not list")
    missing = sorted(set(hashes) - files)
    if missing:
        raise _problem(f"its manifest lists {shown(missing[0], 80)}, which is not in the zip")
    return hashes


def _manifest_jobs(manifest: dict[str, Any], hashes: dict[str, str]) -> list[str]:
    jobs = manifest.get("jobs")
    if not isinstance(jobs, list) or not jobs:
        raise _problem("its manifest.json lists no jobs")
    found: list[str] = []
    for entry in jobs:
        member = entry.get("job") if isinstance(entry, dict) else None
        if not isinstance(member, str) or member not in hashes:
            raise _problem("its manifest.json names a job file that is not in the bundle")
        found.append(member)
    return found


def _check_files(zf: SafeZip, hashes: dict[str, str], bundled: list[fmt.BundledJob],
                 limits: Limits) -> dict[str, _Checked]:
    """Read every file the new jobs use, match it with the manifest and prove it decodes as
    an input or a result must; nothing is stored yet."""
    checked: dict[str, _Checked] = {}
    wanted: list[tuple[str, str, OutputKind | None]] = []
    for b in bundled:
        wanted.extend((r.member, f"the {r.role} input {r.name}", None) for r in b.inputs)
        wanted.extend((r.member, f"result {r.position + 1}", r.kind) for r in b.outputs)
    for member, what, kind in wanted:
        if member in checked:
            continue
        is_input = kind is None
        data = zf.read(member, limits.input_max_bytes if is_input else limits.result_max_bytes)
        _verify(member, data, hashes)
        checked[member] = _Checked(member, _asset_of(data, member, what, kind, limits))
    return checked


def _asset_of(data: bytes, member: str, what: str, kind: OutputKind | None,
              limits: Limits) -> Asset:
    name = shown(member, 80)
    sha = sha256_hex(data)
    try:
        if kind is None:  # an input: decoded whole, within the input limits
            info = imaging.probe(data, name, max_pixels=limits.input_max_pixels)
        elif kind == OutputKind.IMAGE:  # a result: as a download from a provider is checked
            info = imaging.verify_result(
                data, name, max_pixels=limits.result_max_pixels,
                full_decode_max_pixels=limits.result_full_decode_max_pixels)
        else:
            mime = imaging.sniff_mime(data)
            if kind == OutputKind.VIDEO and not (mime or "").startswith("video/"):
                raise _problem(f"{name} ({what}) is said to be a video but is not one")
            return Asset(sha, mime or "application/octet-stream", len(data))
    except InvalidInput as exc:
        reason = str(exc).rstrip(".")
        if not isinstance(exc, imaging.ResultTooLarge):  # its advice names the setting
            reason = reason.split("; ")[0]  # the fact, without advice meant for a photo
        raise _problem(f"{what} is not an image Restyle accepts: {reason}") from None
    return Asset(sha, info.mime, len(data), info.width, info.height)


def _job(b: fmt.BundledJob, job_id: str, checked: dict[str, _Checked],
         assets: AssetStore) -> Job:
    inputs: dict[str, list[str]] = {}
    sources: dict[str, list[str]] = {}
    for ref in b.inputs:
        asset = checked[ref.member].asset
        inputs.setdefault(ref.role, []).append(asset.sha256)
        # Where the image is on this machine: re-run and reuse read it from here, and jobs
        # made from the same image are recognised as such (the arena compares sources).
        source = ref.source if ref.source.startswith(("http://", "https://")) else str(
            assets.path_for(asset.sha256, asset.mime))
        sources.setdefault(ref.role, []).append(source)
    outputs = tuple(Output(position=r.position, sha256=checked[r.member].asset.sha256,
                           mime=checked[r.member].asset.mime, size=checked[r.member].asset.size,
                           width=checked[r.member].asset.width,
                           height=checked[r.member].asset.height, kind=r.kind, label=r.label)
                    for r in b.outputs)
    t = b.times
    job = Job(id=job_id, spec=JobSpec(b.provider, b.task, sources, b.params, b.deadline_s),
              state=b.state, created_at=t["created_at"] or 0.0,
              updated_at=t["updated_at"] or 0.0, remote_id=b.remote_id,
              remote_data=b.remote_data, attempts=b.attempts, started_at=t["started_at"],
              finished_at=t["finished_at"], deadline_at=t["deadline_at"],
              cost_credits=b.cost_credits, error=b.error, progress=b.progress, inputs=inputs,
              outputs=outputs, favorite=b.favorite, note=b.note,
              submitted_at=t["submitted_at"])
    return job if b.state.terminal else _unfinished(job)


def _unfinished(job: Job) -> Job:
    """A job the bundle caught before it ended. It cannot be followed from this machine (the
    provider is polled by the one that sent it), and sending it again could be paid twice:
    it is stored as failed, saying so, with whatever results it already had."""
    was = job.state.title.lower()
    return job.evolve(
        state=JobState.FAILED, remote_data={}, progress=None, deadline_at=None,
        error=JobError(ErrorCode.RESULT_UNAVAILABLE,
                       f"Imported from a bundle while it was still {was} on the machine that "
                       "sent it; it cannot be followed from here and is never sent again. "
                       "Collect it there and export it once it has ended."))


def _reviews(reviews: list[Review], ids: dict[str, str], outputs: dict[str, set[int]],
             bundled: set[str]) -> list[Review]:
    """The reviews of the new jobs' outputs, under the ids the jobs get here."""
    kept: list[Review] = []
    for r in reviews:
        if r.job_id not in bundled:
            raise _problem(f"reviews.json reviews job {shown(r.job_id, 40)}, which is not in "
                           "the bundle")
        if r.job_id not in ids:
            continue  # a job already in this history keeps what it has
        job_id = ids[r.job_id]
        if r.position not in outputs[job_id]:
            raise _problem(f"reviews.json reviews output {r.position + 1} of job {r.job_id}, "
                           "which has no such output")
        kept.append(Review(job_id, r.position, r.reviewer, r.verdict, r.stars, r.tags,
                           r.note, r.created_at, r.updated_at))
    seen = {(r.job_id, r.position, r.reviewer) for r in kept}
    if len(seen) != len(kept):
        raise _problem("reviews.json holds two reviews of one output by the same reviewer")
    return kept


def _votes(votes: list[Vote], ids: dict[str, str], outputs: dict[str, set[int]],
           history: History) -> tuple[list[Vote], int]:
    """Votes about a new job whose other side is new too or already here; the others are
    counted as skipped. A vote already stored (same id) is neither."""
    kept: list[Vote] = []
    skipped = 0
    stored = existing_votes(history, [v.id for v in votes])
    for v in votes:
        if v.id in stored or not (v.left_job in ids or v.right_job in ids):
            continue
        sides = []
        for job_id, position in ((v.left_job, v.left_position),
                                 (v.right_job, v.right_position)):
            if job_id in ids:
                here = ids[job_id]
                sides.append(here if position in outputs[here] else None)
            else:
                other = history.get(job_id)
                sides.append(job_id if other is not None and any(
                    o.position == position for o in other.outputs) else None)
        if None in sides:
            skipped += 1
            continue
        kept.append(Vote(v.id, sides[0] or "", v.left_position, sides[1] or "",
                         v.right_position, v.outcome, v.reviewer, v.created_at))
    return kept, skipped


def _store_files(zf: SafeZip, checked: dict[str, _Checked], assets: AssetStore,
                 history: History) -> list[Asset]:
    """Write the checked files into the asset store; returns those that were not there. A
    file whose bytes changed since they were checked undoes the writes and refuses."""
    added: list[Asset] = []
    done: set[str] = set()
    try:
        for item in checked.values():
            asset = item.asset
            if asset.sha256 in done:
                continue
            done.add(asset.sha256)
            if assets.exists(asset):
                continue
            data = zf.read(item.member, asset.size)
            if hashlib.sha256(data).hexdigest() != asset.sha256:
                raise _problem(f"{shown(item.member, 80)} changed while it was being imported")
            assets.put(data, asset.mime, width=asset.width, height=asset.height)
            added.append(asset)
    except OSError as exc:
        _remove_unused(added, assets, history)
        raise _problem(f"its files cannot be written into the asset store "
                       f"({exc.strerror or exc})", "Free some disk space, then try again."
                       ) from None
    except BaseException:
        _remove_unused(added, assets, history)
        raise
    return added


def _remove_unused(added: list[Asset], assets: AssetStore, history: History) -> None:
    """Undo `_store_files`: remove the files it added that no job here uses (another process
    may have stored the same image for a job of its own meanwhile)."""
    assets.remove([a for a in added if history.asset(a.sha256) is None])
