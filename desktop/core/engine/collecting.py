"""Turning a provider's results into stored assets: each download checked to be what it claims
(an image that decodes, a video, a file) before it is written into the asset store."""

from __future__ import annotations

from desktop.core import imaging
from desktop.core.assets import AssetStore
from desktop.core.contract import ProviderError, RemoteOutput
from desktop.core.limits import Limits
from desktop.core.model import Asset, ErrorCode, InvalidInput, Output, OutputKind

_LIMITS = Limits()


def verify_and_store(assets: AssetStore, provider_title: str, position: int,
                     remote: RemoteOutput, data: bytes, *,
                     max_pixels: int = _LIMITS.result_max_pixels,
                     full_decode_max_pixels: int = _LIMITS.result_full_decode_max_pixels,
                     ) -> tuple[Asset, Output]:
    """Check one downloaded result and store it (blocking: run in a worker). Raises
    ProviderError(RESULT_UNAVAILABLE) for an empty, undecodable or too large result.

    An image is proved complete without decoding a large one at full size
    (`imaging.verify_result`); `max_pixels` is limits.result_max_megapixels and
    `full_decode_max_pixels` limits.result_full_decode_max_megapixels (EnginePolicy carries
    both from the settings)."""
    name = f"result {position + 1} from {provider_title}"
    if not data:
        raise ProviderError(ErrorCode.RESULT_UNAVAILABLE, f"The {name} was empty.")
    if remote.kind == OutputKind.IMAGE:
        try:
            info = imaging.verify_result(data, f"The {name}", max_pixels=max_pixels,
                                         full_decode_max_pixels=full_decode_max_pixels)
        except imaging.ResultTooLarge as exc:
            # Not the provider's fault and not worth re-running: the sentence names the setting.
            raise ProviderError(ErrorCode.RESULT_UNAVAILABLE, str(exc)) from None
        except InvalidInput as exc:
            raise ProviderError(
                ErrorCode.RESULT_UNAVAILABLE,
                f"{exc} Run the job again or contact the provider.",
            ) from None
        asset = assets.put(data, info.mime, width=info.width, height=info.height)
    else:
        mime = imaging.sniff_mime(data) or remote.mime or "application/octet-stream"
        asset = assets.put(data, mime)
    output = Output(position=position, sha256=asset.sha256, mime=asset.mime,
                    size=asset.size, width=asset.width, height=asset.height,
                    kind=remote.kind, label=remote.label)
    return asset, output
