"""The engine's limits and schedules, built from settings by the app and passed in by tests."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from desktop.core.limits import Limits

_LIMITS = Limits()


@dataclass(frozen=True)
class EnginePolicy:
    """Limits and schedules; built from settings by the app, passed in by tests."""

    global_limit: int = 4
    provider_limits: Mapping[str, int] = field(default_factory=dict)
    default_provider_limit: int = 2
    deadlines: Mapping[str, float] = field(default_factory=dict)
    default_deadline_s: float = 15 * 60.0
    poll_intervals: Mapping[str, float] = field(default_factory=dict)
    #: Polls slow down as a job runs longer, up to this interval.
    max_poll_interval: float = 30.0
    #: After this many seconds of running, each poll interval grows by the elapsed minutes.
    slowdown_after_s: float = 30.0
    #: +-fraction of random jitter on every poll delay, so many clients do not poll in step.
    jitter: float = 0.2
    #: Backoff for transient poll failures: base * 2^n, capped.
    poll_backoff_base: float = 0.5
    poll_backoff_cap: float = 8.0
    #: Checking on an accepted job may fail this many times in a row (a 401, a 404 that may
    #: pass) before the job waits in "needs attention"; transient failures never count.
    poll_attention_after: int = 4
    #: A result is downloaded (and verified) up to this many times, with fresh links from the
    #: provider in between, before the job waits in "needs attention".
    download_attempts: int = 5
    download_backoff_base: float = 1.0
    download_backoff_cap: float = 30.0
    #: Pixels a result image may have (limits.result_max_megapixels).
    result_max_pixels: int = _LIMITS.result_max_pixels
    #: Pixels of a result that is checked by decoding it whole: WebP, AVIF, GIF, TIFF, BMP,
    #: HEIF (limits.result_full_decode_max_megapixels).
    result_full_decode_max_pixels: int = _LIMITS.result_full_decode_max_pixels
    #: When Restyle stops (Cancel, Ctrl+C, closing) while a submit is on its way, it waits this
    #: long for the provider's answer, so an accepted job is recorded rather than lost.
    submit_grace_s: float = 10.0
    #: A running job's lease in the history, and how often the owner renews it.
    lease_s: float = 30.0
    heartbeat_s: float = 10.0
    #: How long `cancel` waits for another process that owns a job to act on the request.
    cancel_wait_s: float = 10.0
    #: A provider may still be creating a job this long after its submit was sent: a search of
    #: its job list that finds nothing sooner is done again once this has passed, and only
    #: then taken as "nothing was created".
    reconcile_settle_s: float = 30.0

    def provider_limit(self, provider: str) -> int:
        return max(1, int(self.provider_limits.get(provider, self.default_provider_limit)))

    def deadline(self, provider: str) -> float:
        return float(self.deadlines.get(provider, self.default_deadline_s))


#: EnginePolicy fields a user may set in settings.json under "jobs", with their types.
JOB_SETTINGS: dict[str, type] = {
    "submit_grace_s": float,
    "poll_attention_after": int,
    "download_attempts": int,
    "lease_s": float,
    "heartbeat_s": float,
    "cancel_wait_s": float,
    "reconcile_settle_s": float,
}
