"""Who works on which job: leases with a heartbeat in the history.

Several Restyle processes can share one history (the window, a `restyle-cli run` in a
terminal, a `restyle-cli resume` in a cron job). Each engine has an owner id; a job it works on
carries that id and a lease time that a heartbeat keeps moving forward. Another process takes a
job over only when its owner is gone: the lease ran out, or (same machine) the owner's process
no longer exists. Taking over is a compare-and-swap on the owner column, and every later write
of the old owner is fenced off by `History.save_job(owner=...)`, so a paused process that wakes
up cannot overwrite what the new owner did.

The owner id is plain text, "host|pid|nonce|label", so it can be shown to a user ("restyle-cli
run, process 4242 on studio-mac") and compared in SQL on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import os
import socket
import sys
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from desktop.core.model import Job
from desktop.core.store import History


@dataclass(frozen=True)
class Owner:
    host: str
    pid: int
    nonce: str
    label: str

    def encode(self) -> str:
        return f"{self.host}|{self.pid}|{self.nonce}|{self.label}"

    @classmethod
    def parse(cls, text: str | None) -> Owner | None:
        if not text:
            return None
        parts = text.split("|", 3)
        if len(parts) != 4 or not parts[1].isdigit():
            return None
        return cls(parts[0], int(parts[1]), parts[2], parts[3])

    def describe(self) -> str:
        """For people: "restyle-cli run (process 4242 on studio-mac)"."""
        return f"{self.label or 'another Restyle'} (process {self.pid} on {self.host})"

    @classmethod
    def new(cls, label: str) -> Owner:
        return cls(_host(), os.getpid(), uuid.uuid4().hex[:12], _clean(label))


def describe_owner(text: str | None) -> str:
    owner = Owner.parse(text)
    return owner.describe() if owner else "another Restyle"


def process_exists(pid: int) -> bool | None:
    """True or False where the answer is known, None where it cannot be (Windows: os.kill
    would end the process there). A zombie (killed, not yet reaped) counts as gone."""
    if os.name == "nt":
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process
    except OSError:
        return None
    if sys.platform.startswith("linux"):
        try:
            with open(f"/proc/{pid}/stat", "rb") as f:
                # "pid (comm) S ...": the state follows the last ')'.
                state = f.read().rsplit(b")", 1)[1].split()[0]
        except (OSError, IndexError):
            return True
        return state not in (b"Z", b"X")
    return True


def owner_gone(owner: str | None, lease_until: float | None, now: float,
               *, exists: Callable[[int], bool | None] = process_exists) -> bool:
    """Whether a job's owner can be taken over: none, a lapsed lease, or (on this machine) a
    process that no longer exists."""
    if owner is None or lease_until is None or lease_until < now:
        return True
    parsed = Owner.parse(owner)
    if parsed is None or parsed.host != _host():
        return False
    return exists(parsed.pid) is False


@dataclass(frozen=True)
class Claim:
    """The answer to "may I work on this job?": `job` as stored now (None if deleted);
    `holder` describes the live owner that keeps it when `ok` is False."""

    ok: bool
    job: Job | None
    holder: str | None = None


class Ledger:
    """One engine's side of the leases. Methods block (they query the history): the engine
    runs them on its database thread."""

    def __init__(self, history: History, *, label: str, lease_s: float,
                 clock: Callable[[], float]) -> None:
        self.history = history
        self.lease_s = lease_s
        self._clock = clock
        self.identity = Owner.new(label)
        self.owner = self.identity.encode()

    def lease_until(self) -> float:
        return self._clock() + self.lease_s

    def claim(self, job_id: str) -> Claim:
        """Take the job for this engine unless a live owner holds it."""
        job = self.history.get(job_id)
        if job is None or job.state.terminal:
            return Claim(False, job)
        if job.owner == self.owner:
            self.history.renew(self.owner, self.lease_until())
            return Claim(True, job)
        if not owner_gone(job.owner, job.lease_until, self._clock()):
            return Claim(False, job, describe_owner(job.owner))
        if self.history.claim(job_id, self.owner, self.lease_until(), expected=job.owner):
            return Claim(True, self.history.get(job_id))
        fresh = self.history.get(job_id)
        holder = describe_owner(fresh.owner) if fresh is not None else None
        return Claim(False, fresh, holder)

    def renew(self) -> int:
        return self.history.renew(self.owner, self.lease_until())

    def release(self, job_id: str | None = None) -> None:
        self.history.release(self.owner, job_id)


def _host() -> str:
    try:
        return _clean(socket.gethostname()) or "localhost"
    except OSError:
        return "localhost"


def _clean(text: str) -> str:
    return text.replace("|", "/").strip()[:80]
