"""Turning a provider's results into stored assets: each download checked to be what it claims
(an image that decodes, a video, a file) before it is written into the asset store."""

from __future__ import annotations

from desktop.core import imaging
from desktop.core.assets import AssetStore
from desktop.core.contract import ProviderError, RemoteOutput
from desktop.core.model import Asset, ErrorCode, InvalidInput, Output, OutputKind


def verify_and_store(assets: AssetStore, provider_title: str, position: int,
                     remote: RemoteOutput, data: bytes) -> tuple[Asset, Output]:
    """Check one downloaded result and store it (blocking: run in a worker). Raises
    ProviderError(RESULT_UNAVAILABLE) for an empty or undecodable result."""
    name = f"result {position + 1} from {provider_title}"
    if not data:
        raise ProviderError(ErrorCode.RESULT_UNAVAILABLE, f"The {name} was empty.")
    if remote.kind == OutputKind.IMAGE:
        try:
            info = imaging.probe(data, name)
        except InvalidInput as exc:
            raise ProviderError(
                ErrorCode.RESULT_UNAVAILABLE,
                f"The {name} could not be read as an image: {exc} Run the job again or "
                "contact the provider.",
            ) from None
        asset = assets.put(data, info.mime, width=info.width, height=info.height)
    else:
        mime = imaging.sniff_mime(data) or remote.mime or "application/octet-stream"
        asset = assets.put(data, mime)
    output = Output(position=position, sha256=asset.sha256, mime=asset.mime,
                    size=asset.size, width=asset.width, height=asset.height,
                    kind=remote.kind, label=remote.label)
    return asset, output
