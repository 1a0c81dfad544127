"""Turning a provider's results into stored assets: each download checked to be what it claims
(an image that decodes, a video, a file) before it is written into the asset store.

A result is downloaded straight into a temporary file of the asset store (`AssetStore.incoming`,
hashed as it is written, in the download's worker thread), checked there, and renamed to its
content address (`AssetStore.commit`): it never crosses the event loop chunk by chunk, is never
joined in memory, and a download that fails leaves no file behind."""

from __future__ import annotations

import asyncio

from desktop.core import imaging
from desktop.core.assets import AssetStore, Incoming
from desktop.core.contract import (
    Provider,
    ProviderError,
    RemoteOutput,
    RemoteRef,
    RemoteState,
    RemoteStatus,
    ResultRefused,
)
from desktop.core.engine import outcomes
from desktop.core.engine.base import EngineBase
from desktop.core.engine.outcomes import FIX_FIRST, JobEnded, NeedsAttention
from desktop.core.humanize import human_duration
from desktop.core.limits import Limits
from desktop.core.model import (
    Asset,
    ErrorCode,
    EventKind,
    InvalidInput,
    Job,
    JobError,
    JobState,
    Output,
    OutputKind,
)
from desktop.core.video import check_video

_LIMITS = Limits()


def verify_and_store(assets: AssetStore, provider_title: str, position: int,
                     remote: RemoteOutput, data: bytes, *,
                     max_pixels: int = _LIMITS.result_max_pixels,
                     full_decode_max_pixels: int = _LIMITS.result_full_decode_max_pixels,
                     ) -> tuple[Asset, Output]:
    """Check one result held in memory and store it (blocking: run in a worker); see
    `verify_and_commit`, which the engine uses for a downloaded file."""
    with assets.incoming() as incoming:
        if data:
            incoming.write(data)
        return _verify(assets, provider_title, position, remote, incoming, data,
                       max_pixels=max_pixels, full_decode_max_pixels=full_decode_max_pixels)


def verify_and_commit(assets: AssetStore, provider_title: str, position: int,
                      remote: RemoteOutput, incoming: Incoming, *,
                      max_pixels: int = _LIMITS.result_max_pixels,
                      full_decode_max_pixels: int = _LIMITS.result_full_decode_max_pixels,
                      ) -> tuple[Asset, Output]:
    """Check one downloaded result and store it (blocking: run in a worker). Raises
    ProviderError(RESULT_UNAVAILABLE) for an empty, undecodable or too large result.

    The file is read back once, never decoded at full size: an image is proved complete by
    `imaging.verify_result` (`max_pixels` is limits.result_max_megapixels and
    `full_decode_max_pixels` limits.result_full_decode_max_megapixels; EnginePolicy carries
    both from the settings). The hash was taken while the file was written; the stored file is
    that file, renamed."""
    # Not bound to a name here: `_verify` drops its only reference before the commit.
    return _verify(assets, provider_title, position, remote, incoming,
                   incoming.read() if incoming.size else b"",
                   max_pixels=max_pixels, full_decode_max_pixels=full_decode_max_pixels)


def _verify(assets: AssetStore, provider_title: str, position: int, remote: RemoteOutput,
            incoming: Incoming, data: bytes, *, max_pixels: int, full_decode_max_pixels: int,
            ) -> tuple[Asset, Output]:
    name = f"result {position + 1} from {provider_title}"
    if not data:
        raise ProviderError(ErrorCode.RESULT_UNAVAILABLE, f"The {name} was empty.")
    kind = remote.kind
    if kind == OutputKind.VIDEO and (imaging.sniff_mime(data) or "").startswith("image/"):
        kind = OutputKind.IMAGE  # a "video" tool that sent a still: shown as the image it is
    if kind == OutputKind.IMAGE:
        try:
            info = imaging.verify_result(data, f"The {name}", max_pixels=max_pixels,
                                         full_decode_max_pixels=full_decode_max_pixels)
        except imaging.ResultTooLarge as exc:
            # Not the provider's fault and not worth re-running: the sentence names the setting.
            raise ResultRefused(ErrorCode.RESULT_UNAVAILABLE, str(exc)) from None
        except InvalidInput as exc:
            # No "run it again" here: the job is paid for; the engine downloads it again.
            raise ProviderError(ErrorCode.RESULT_UNAVAILABLE, str(exc)) from None
        del data  # the checked bytes are not needed to store the file: let them go first
        asset = assets.commit(incoming, info.mime, width=info.width, height=info.height)
    elif kind == OutputKind.VIDEO:
        try:  # a whole MP4 or WebM, not an error page or a file cut short
            mime = check_video(data, f"The {name}")
        except InvalidInput as exc:
            raise ProviderError(ErrorCode.RESULT_UNAVAILABLE, str(exc)) from None
        del data
        asset = assets.commit(incoming, mime)
    else:
        mime = imaging.sniff_mime(data) or remote.mime or "application/octet-stream"
        del data
        asset = assets.commit(incoming, mime)
    output = Output(position=position, sha256=asset.sha256, mime=asset.mime,
                    size=asset.size, width=asset.width, height=asset.height,
                    kind=kind, label=remote.label)
    return asset, output


class CollectingMixin(EngineBase):
    async def _collect(self, provider: Provider, job: Job, ref: RemoteRef,
                       status: RemoteStatus) -> None:
        """Act on the provider's verdict: end a failed or cancelled job, or download every
        result of a finished one. A download that fails is tried again with fresh links from
        the provider; one that keeps failing leaves the job waiting, never failed."""
        if status.state == RemoteState.CANCELLED:
            raise JobEnded(JobError(ErrorCode.CANCELLED,
                                    status.message or f"{provider.title} cancelled the job."),
                           JobState.CANCELLED)
        if status.state == RemoteState.FAILED:
            err = status.error
            raise JobEnded(JobError(
                err.code if err else ErrorCode.JOB_FAILED,
                err.message if err else (status.message or f"{provider.title} reported that "
                                         "the job failed, without a reason."),
                err.provider_code if err else None,
            ))
        cost = status.cost_credits if status.cost_credits is not None else job.cost_credits
        # The verdict's progress and message are stored here, with the state (polling does not
        # write them separately for a job that succeeded).
        job = await self._transition(job, JobState.DOWNLOADING, cost_credits=cost,
                                     error=None, progress=status.progress,
                                     note=status.message or job.note)
        if not status.outputs:
            raise JobEnded(JobError(ErrorCode.RESULT_UNAVAILABLE,
                                    f"{provider.title} finished the job but returned no result."))
        outputs: list[Output] = list(job.outputs)
        count = len(status.outputs)
        failures = 0
        position = 0
        last: list[Asset] = []
        while position < count:
            if any(o.position == position for o in outputs):
                position += 1  # already downloaded before a restart
                continue
            try:
                asset, output = await self._download(provider, position,
                                                     status.outputs[position])
            except ProviderError as exc:
                failures += 1
                if (exc.code in FIX_FIRST or isinstance(exc, ResultRefused)
                        or failures >= max(1, self.policy.download_attempts)):
                    raise NeedsAttention(
                        outcomes.download_problem(provider, position, count, exc)) from None
                wait = min(self.policy.download_backoff_cap,
                           self.policy.download_backoff_base * 2 ** (failures - 1))
                job = await self._save(
                    self._current[job.id], kind=EventKind.PROGRESS,
                    message=f"{exc.message} Downloading again in {human_duration(wait)}.",
                    retry_at=self._clock() + wait, error_code=exc.code,
                )
                await self._sleep(wait)
                status = await self._fresh_links(provider, ref, status)
                continue
            failures = 0
            outputs.append(output)
            position += 1
            if all(any(o.position == p for o in outputs) for p in range(position, count)):
                last = [asset]  # the last one: stored with the success below, in one write
                break
            # Each result is stored as soon as it lands: a paid result is never lost.
            job = await self._save(self._current[job.id].evolve(outputs=tuple(outputs)),
                                   assets=[asset], kind=EventKind.PROGRESS,
                                   message=f"Downloaded result {position} of {count}.")
        task = provider.task(job.task)
        # A progress line such as "still processing" must not outlive the job.
        note = status.message or (task.note if task else "")
        if job.remote_data.get("imported"):  # an import keeps saying so (provider_tools)
            note = " ".join(filter(None, (f"Imported from {provider.title}'s job list.",
                                          status.message)))
        await self._transition(self._current[job.id], JobState.SUCCEEDED,
                               finished_at=self._clock(), progress=1.0, error=None, note=note,
                               outputs=tuple(outputs), assets=last)

    async def _download(self, provider: Provider, position: int, remote: RemoteOutput
                        ) -> tuple[Asset, Output]:
        """Download one result into a part file of the asset store, check it and store it.
        The part file is removed whatever happens short of a successful commit (a failed or
        cancelled download, a result that does not check out)."""
        incoming = await asyncio.to_thread(self.assets.incoming)
        try:
            await provider.fetch_into(remote, incoming)
            return await self._cpu_run(
                verify_and_commit, self.assets, provider.title, position, remote, incoming,
                max_pixels=self.policy.result_max_pixels,
                full_decode_max_pixels=self.policy.result_full_decode_max_pixels)
        finally:
            # A blocking unlink, at most; on the loop so that it also runs when cancelled.
            incoming.discard()

    async def _fresh_links(self, provider: Provider, ref: RemoteRef, status: RemoteStatus
                           ) -> RemoteStatus:
        """Ask the provider again for the results: signed links that expired are re-signed
        (where the API does that). Keeps the old status when the answer is no better."""
        try:
            fresh = await provider.poll(ref)
        except ProviderError:
            return status
        if fresh.state == RemoteState.SUCCEEDED and len(fresh.outputs) == len(status.outputs):
            return fresh
        return status
