"""Every size and time limit Restyle applies to what it reads, in one named place.

Each field is a setting (`limits` in settings.json); the defaults follow what the providers
can legitimately send (their largest documented outputs, with headroom) and what a desktop
can hold. A limit that refuses something names the setting in its sentence, so a user with a
legitimate larger file knows what to change.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

MB = 1000 * 1000
MIB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    #: An input image file read from disk.
    input_max_bytes: int = 200 * MB
    #: Total time for reading one input file (a stalled network drive must not hang a job).
    input_read_timeout_s: float = 60.0
    #: Pixels of an input image (decompression-bomb guard); inputs are downscaled anyway.
    input_max_megapixels: float = 64.0
    #: An input image downloaded from an http(s) URL the user gave.
    url_input_max_bytes: int = 60 * MIB
    #: Total time for downloading one input URL, however slowly the server sends.
    url_input_timeout_s: float = 60.0
    #: One result file downloaded from a provider.
    result_max_bytes: int = 200 * MIB
    #: Pixels of a result image: a 4x upscale of a 4096 px image is 16384 px a side (268 MP).
    result_max_megapixels: float = 270.0
    #: Pixels of a result that can only be checked by decoding it whole (WebP, AVIF, GIF, TIFF,
    #: BMP, HEIF: 4 bytes a pixel in memory). PNG and JPEG results are checked without a
    #: full-size decode, so only `result_max_megapixels` applies to them.
    result_full_decode_max_megapixels: float = 100.0
    #: One API answer (JSON; some carry a result inline as base64).
    api_body_max_bytes: int = 300 * MIB

    @property
    def input_max_pixels(self) -> int:
        return int(self.input_max_megapixels * 1_000_000)

    @property
    def result_max_pixels(self) -> int:
        return int(self.result_max_megapixels * 1_000_000)

    @property
    def result_full_decode_max_pixels(self) -> int:
        return int(self.result_full_decode_max_megapixels * 1_000_000)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Any) -> Limits:
        """Known fields with positive values; anything else keeps its default."""
        if not isinstance(data, dict):
            return cls()
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = data.get(f.name)
            kind = int if f.type in ("int", int) else float
            try:
                value = kind(raw)
            except (TypeError, ValueError, OverflowError):
                continue
            if value > 0 and value == value and value != float("inf"):
                values[f.name] = value
        return cls(**values)


#: The name a limit has in settings.json, for sentences that tell users what to change.
def setting_name(field_name: str) -> str:
    return f"limits.{field_name}"
