"""What a job bundle holds, written and read back: `job.json`, `reviews.json` and
`manifest.json` (format version 1).

Written: the job as stored, without what belongs to the machine that ran it or could be a
secret: no owner or lease, no cancel request, input sources reduced to a file name (a URL
with its credentials masked), `remote_data` and texts with credentials masked
(desktop.core.redaction). Read: every field checked for its type and range, every file the
job names checked to be a plain name of a member the manifest lists; anything else is a
`BundleProblem` whose message says what is wrong, as a clause.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from desktop.core import jsonsafe
from desktop.core.model import ErrorCode, InvalidInput, Job, JobError, JobState, OutputKind
from desktop.core.redaction import redact_mapping, redact_text, redact_url
from desktop.core.reviews import Review, Verdict, Vote, VoteOutcome
from desktop.core.sources import is_http_url, shown

FORMAT = "restyle-bundle"
VERSION = 1
MANIFEST = "manifest.json"
REVIEWS = "reviews.json"
JOB = "job.json"

#: Longest texts accepted from a bundle (a note, a label, an error message).
MAX_TEXT = 20_000
MAX_NAME = 255
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,127}")
_ROLE = re.compile(r"[a-z][a-z0-9_]{0,39}")
_SHA = re.compile(r"[0-9a-f]{64}")
#: Characters no file system takes in a name (Windows is the strictest), and controls.
_UNSAFE = re.compile(r'[<>:"/\\|?*\x00-\x1f\x7f]')
_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)),
             *(f"LPT{i}" for i in range(1, 10))}


class BundleProblem(InvalidInput):
    """Something in the bundle's JSON is wrong; the message says what, as a clause."""


# -- writing -----------------------------------------------------------------------------------
def source_label(source: str) -> str:
    """What a bundle keeps of an input's source: a URL with its credentials masked, or the
    file's name without the folders of the machine it was on."""
    if is_http_url(source):
        return redact_url(source)
    return re.split(r"[\\/]", source.rstrip("\\/"))[-1] or "input"


def safe_file_name(name: str, fallback: str = "file") -> str:
    """`name` as a file name every system accepts: unsafe characters replaced, no leading
    dots, no reserved Windows device name, at most 100 characters (the extension kept)."""
    cleaned = _UNSAFE.sub("_", name).strip().lstrip(".").rstrip(". ")
    if not cleaned:
        cleaned = fallback
    stem, dot, ext = cleaned.rpartition(".")
    if not dot:
        stem, ext = cleaned, ""
    if stem.upper() in _RESERVED:
        stem = "_" + stem
    ext = ext[:10]
    stem = stem[: 100 - len(ext) - 1] if ext else stem[:100]
    return f"{stem}.{ext}" if ext else stem


def job_dict(job: Job, inputs: Mapping[str, list[dict[str, Any]]],
             outputs: list[dict[str, Any]]) -> dict[str, Any]:
    """`job.json`: the job as stored minus the machine's and the secrets' parts; `inputs`
    and `outputs` are the member entries the writer made."""
    return {
        "id": job.id,
        "provider": job.provider,
        "task": job.task,
        "state": str(job.state),
        "params": redact_mapping(job.spec.params),
        "deadline_s": job.spec.deadline_s,
        "created_at": job.created_at,
        "updated_at": job.updated_at,
        "started_at": job.started_at,
        "submitted_at": job.submitted_at,
        "finished_at": job.finished_at,
        "deadline_at": job.deadline_at,
        "remote_id": redact_text(job.remote_id) if job.remote_id else None,
        "remote_data": redact_mapping(job.remote_data),
        "attempts": job.attempts,
        "cost_credits": job.cost_credits,
        "progress": job.progress,
        "favorite": job.favorite,
        "note": redact_text(job.note),
        "error": ({"code": str(job.error.code), "message": redact_text(job.error.message),
                   "provider_code": job.error.provider_code} if job.error else None),
        "inputs": {role: list(items) for role, items in inputs.items()},
        "outputs": list(outputs),
    }


def review_dict(review: Review) -> dict[str, Any]:
    return {"job_id": review.job_id, "position": review.position, "reviewer": review.reviewer,
            "verdict": str(review.verdict) if review.verdict else None, "stars": review.stars,
            "tags": list(review.tags), "note": review.note, "created_at": review.created_at,
            "updated_at": review.updated_at}


def vote_dict(vote: Vote) -> dict[str, Any]:
    return {"id": vote.id, "left_job": vote.left_job, "left_position": vote.left_position,
            "right_job": vote.right_job, "right_position": vote.right_position,
            "outcome": str(vote.outcome), "reviewer": vote.reviewer,
            "created_at": vote.created_at}


# -- reading -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class InputRef:
    role: str
    member: str
    name: str
    source: str


@dataclass(frozen=True)
class OutputRef:
    position: int
    member: str
    kind: OutputKind
    label: str


@dataclass(frozen=True)
class BundledJob:
    """A job as `job.json` describes it; its assets are checked and stored by the importer,
    which then builds the Job."""

    id: str
    provider: str
    task: str
    state: JobState
    params: dict[str, Any]
    deadline_s: float | None
    times: dict[str, float | None]
    remote_id: str | None
    remote_data: dict[str, Any]
    attempts: int
    cost_credits: float | None
    progress: float | None
    favorite: bool
    note: str
    error: JobError | None
    inputs: tuple[InputRef, ...]
    outputs: tuple[OutputRef, ...]


_TIMES = ("created_at", "updated_at", "started_at", "submitted_at", "finished_at",
          "deadline_at")


def parse_job(data: Any, where: str, members: set[str]) -> BundledJob:
    """Check `job.json` (`where` names it in messages) against the members the manifest
    lists."""
    obj = _object(data, where)
    job_id = _text(obj, "id", where)
    if not _ID.fullmatch(job_id):
        raise BundleProblem(f"{where} gives the job id {shown(job_id, 60)}, which is not an "
                            "id Restyle makes")
    times = {name: _number(obj, name, where, required=name in ("created_at", "updated_at"))
             for name in _TIMES}
    try:
        state = JobState(_text(obj, "state", where))
    except ValueError:
        raise BundleProblem(f"{where} gives an unknown state {shown(str(obj['state']), 40)}"
                            ) from None
    params = obj.get("params", {})
    if not isinstance(params, dict):
        raise BundleProblem(f"{where}: 'params' must be an object")
    try:
        jsonsafe.check(params)
    except jsonsafe.JsonProblem as exc:
        raise BundleProblem(f"{where}: 'params' {exc}") from None
    remote_data = obj.get("remote_data") or {}
    if not isinstance(remote_data, dict):
        raise BundleProblem(f"{where}: 'remote_data' must be an object")
    attempts = obj.get("attempts", 0)
    if isinstance(attempts, bool) or not isinstance(attempts, int) or not 0 <= attempts < 10**6:
        raise BundleProblem(f"{where}: 'attempts' must be a whole number, 0 or more")
    cost = _number(obj, "cost_credits", where)
    if cost is not None and cost < 0:
        raise BundleProblem(f"{where}: 'cost_credits' must not be negative")
    progress = _number(obj, "progress", where)
    if progress is not None and not 0 <= progress <= 1:
        progress = None
    favorite = obj.get("favorite", False)
    if not isinstance(favorite, bool):
        raise BundleProblem(f"{where}: 'favorite' must be true or false")
    remote_id = obj.get("remote_id")
    if remote_id is not None and (not isinstance(remote_id, str) or len(remote_id) > 1000):
        raise BundleProblem(f"{where}: 'remote_id' must be a text of at most 1000 characters")
    return BundledJob(
        id=job_id,
        provider=_word(obj, "provider", where),
        task=_word(obj, "task", where),
        state=state,
        params=params,
        deadline_s=_number(obj, "deadline_s", where),
        times=times,
        remote_id=remote_id,
        remote_data=remote_data,
        attempts=attempts,
        cost_credits=cost,
        progress=progress,
        favorite=favorite,
        note=_text(obj, "note", where, required=False),
        error=_error(obj.get("error"), where),
        inputs=_inputs(obj.get("inputs", {}), where, members),
        outputs=_outputs(obj.get("outputs", []), where, members),
    )


def parse_reviews(data: Any, where: str) -> tuple[list[Review], list[Vote]]:
    obj = _object(data, where)
    raw_reviews, raw_votes = obj.get("reviews", []), obj.get("votes", [])
    if not isinstance(raw_reviews, list) or not isinstance(raw_votes, list):
        raise BundleProblem(f"{where}: 'reviews' and 'votes' must be lists")
    reviews: list[Review] = []
    for n, item in enumerate(raw_reviews, 1):
        at = f"{where}, review {n}"
        r = _object(item, at)
        verdict = r.get("verdict")
        if verdict not in (None, *[str(v) for v in Verdict]):
            raise BundleProblem(f"{at}: 'verdict' must be pass, fail or null")
        stars = r.get("stars")
        if stars is not None and (isinstance(stars, bool) or not isinstance(stars, int)):
            raise BundleProblem(f"{at}: 'stars' must be a whole number from 1 to 5")
        tags = r.get("tags", [])
        if not isinstance(tags, list) or not all(isinstance(t, str) and len(t) <= 200
                                                 for t in tags) or len(tags) > 100:
            raise BundleProblem(f"{at}: 'tags' must be a list of short texts")
        try:
            reviews.append(Review(
                job_id=_text(r, "job_id", at), position=_position(r, "position", at),
                reviewer=_word(r, "reviewer", at),
                verdict=Verdict(verdict) if verdict else None, stars=stars,
                tags=tuple(tags), note=_text(r, "note", at, required=False),
                created_at=_number(r, "created_at", at, required=True) or 0.0,
                updated_at=_number(r, "updated_at", at, required=True) or 0.0))
        except BundleProblem:
            raise
        except InvalidInput as exc:
            raise BundleProblem(f"{at}: {str(exc).rstrip('.')}") from None
    votes: list[Vote] = []
    for n, item in enumerate(raw_votes, 1):
        at = f"{where}, vote {n}"
        v = _object(item, at)
        try:
            outcome = VoteOutcome(_text(v, "outcome", at))
        except ValueError:
            raise BundleProblem(f"{at}: 'outcome' must be left, right, tie or bad") from None
        vote_id = _text(v, "id", at)
        if not _ID.fullmatch(vote_id):
            raise BundleProblem(f"{at}: 'id' is not an id Restyle makes")
        votes.append(Vote(id=vote_id, left_job=_text(v, "left_job", at),
                          left_position=_position(v, "left_position", at),
                          right_job=_text(v, "right_job", at),
                          right_position=_position(v, "right_position", at),
                          outcome=outcome, reviewer=_word(v, "reviewer", at),
                          created_at=_number(v, "created_at", at, required=True) or 0.0))
    return reviews, votes


def check_plain_name(name: str, what: str) -> str:
    """`name` when it is a plain file name (no folders, no '..', no control characters)."""
    if (not name or name in (".", "..") or "/" in name or "\\" in name or "\x00" in name
            or len(name) > MAX_NAME or any(ord(c) < 0x20 or 0x7F <= ord(c) < 0xA0
                                           for c in name)):
        raise BundleProblem(f"{what} {shown(name, 80)} is not a plain file name")
    return name


def _inputs(raw: Any, where: str, members: set[str]) -> tuple[InputRef, ...]:
    if not isinstance(raw, dict):
        raise BundleProblem(f"{where}: 'inputs' must be an object of roles")
    refs: list[InputRef] = []
    for role, items in raw.items():
        if not isinstance(role, str) or not _ROLE.fullmatch(role):
            raise BundleProblem(f"{where} names an input role {shown(str(role), 40)} that is "
                                "not a plain word")
        if not isinstance(items, list) or len(items) > 100:
            raise BundleProblem(f"{where}: the '{role}' inputs must be a list")
        for item in items:
            at = f"{where}, input '{role}'"
            entry = _object(item, at)
            name = check_plain_name(_text(entry, "name", at), f"{at}: the name")
            refs.append(InputRef(role=role, member=_member(entry, at, members), name=name,
                                 source=_text(entry, "source", at, required=False) or name))
    return tuple(refs)


def _outputs(raw: Any, where: str, members: set[str]) -> tuple[OutputRef, ...]:
    if not isinstance(raw, list) or len(raw) > 1000:
        raise BundleProblem(f"{where}: 'outputs' must be a list")
    refs: list[OutputRef] = []
    for n, item in enumerate(raw, 1):
        at = f"{where}, output {n}"
        entry = _object(item, at)
        try:
            kind = OutputKind(entry.get("kind", "image"))
        except ValueError:
            raise BundleProblem(f"{at}: 'kind' must be image, video or file") from None
        refs.append(OutputRef(position=_position(entry, "position", at),
                              member=_member(entry, at, members), kind=kind,
                              label=_text(entry, "label", at, required=False)))
    if len({r.position for r in refs}) != len(refs):
        raise BundleProblem(f"{where} gives two outputs the same position")
    return tuple(sorted(refs, key=lambda r: r.position))


def _member(entry: dict[str, Any], where: str, members: set[str]) -> str:
    member = _text(entry, "member", where)
    if member not in members:
        raise BundleProblem(f"{where} names the file {shown(member, 80)}, which the bundle's "
                            "manifest does not list")
    return member


def _error(raw: Any, where: str) -> JobError | None:
    if raw is None:
        return None
    obj = _object(raw, f"{where}, error")
    try:
        code = ErrorCode(obj.get("code"))
    except ValueError:
        code = ErrorCode.INTERNAL  # a code from a newer Restyle: kept as a local problem
    provider_code = obj.get("provider_code")
    if provider_code is not None and not isinstance(provider_code, str):
        provider_code = str(provider_code)
    return JobError(code, _text(obj, "message", f"{where}, error", required=False),
                    provider_code[:200] if provider_code else None)


def _object(data: Any, where: str) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise BundleProblem(f"{where} must hold a JSON object")
    return data


def _text(obj: dict[str, Any], key: str, where: str, *, required: bool = True) -> str:
    value = obj.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value):
        raise BundleProblem(f"{where}: '{key}' must be a text")
    if len(value) > MAX_TEXT:
        raise BundleProblem(f"{where}: '{key}' is longer than {MAX_TEXT} characters")
    return value


def _word(obj: dict[str, Any], key: str, where: str) -> str:
    """A short text shown in lists (a provider, a task, a reviewer): no control characters."""
    value = _text(obj, key, where)
    if len(value) > 200 or any(ord(c) < 0x20 or 0x7F <= ord(c) < 0xA0 for c in value):
        raise BundleProblem(f"{where}: '{key}' must be a short text without control "
                            "characters")
    return value


def _number(obj: dict[str, Any], key: str, where: str, *, required: bool = False
            ) -> float | None:
    value = obj.get(key)
    if value is None and not required:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(
            value):
        raise BundleProblem(f"{where}: '{key}' must be a finite number")
    return float(value)


def _position(obj: dict[str, Any], key: str, where: str) -> int:
    value = obj.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 1000:
        raise BundleProblem(f"{where}: '{key}' must be a whole number from 0 to 999")
    return value


def is_sha256(text: Any) -> bool:
    return isinstance(text, str) and bool(_SHA.fullmatch(text))
