"""General settings (export folder, format and the rest of the Export page, theme) kept in
`Settings.general`.

The settings file holds whatever a person or an older version wrote, so every read goes
through `general_setting`, which returns a valid value or the default. No Qt here: the CLI and
exporters read the same values.
"""

from __future__ import annotations

import math
from typing import Any

import platformdirs

from desktop.config import Settings
from desktop.core.exports.composites import (
    CORNERS,
    DEFAULT_CORNER,
    DEFAULT_LABEL,
    DEFAULT_LABEL_SIZE,
    MAX_LABEL_CHARS,
    MAX_LABEL_SIZE,
    MIN_LABEL_SIZE,
)
from desktop.core.exports.naming import DEFAULT_TEMPLATE, Template
from desktop.core.model import InvalidInput

EXPORT_DIR = "export_dir"
EXPORT_FORMAT = "export_format"
EXPORT_QUALITY = "export_quality"
THEME = "theme"
#: The Export page: the file name template the export dialog starts with (the last one used),
#: the listing label's text, corner and size (percent of the photo's shorter side), the address
#: where originals are published (a pattern: see export_setup.original_url), whether a listing
#: label carries a QR code, whether exports write a JSON sidecar, and the C2PA certificate chain
#: and private key: paths to the user's own PEM files, never their contents.
EXPORT_TEMPLATE = "export_template"
LISTING_LABEL = "listing_label"
LISTING_CORNER = "listing_corner"
LISTING_SIZE = "listing_label_size"
LISTING_URL = "listing_original_url"
LISTING_QR = "listing_qr"
EXPORT_SIDECAR = "export_sidecar"
C2PA_CERT = "c2pa_cert_chain"
C2PA_KEY = "c2pa_private_key"

EXPORT_FORMATS: tuple[str, ...] = ("png", "jpeg", "webp")
EXPORT_FORMAT_LABELS: dict[str, str] = {"png": "PNG", "jpeg": "JPEG", "webp": "WebP"}
#: Formats whose quality setting means something (PNG is lossless).
LOSSY_FORMATS: frozenset[str] = frozenset({"jpeg", "webp"})
THEMES: tuple[str, ...] = ("system", "light", "dark")
THEME_LABELS: dict[str, str] = {"system": "Follow the system", "light": "Light", "dark": "Dark"}

DEFAULT_EXPORT_FORMAT = "png"
DEFAULT_EXPORT_QUALITY = 92
MIN_EXPORT_QUALITY = 1
MAX_EXPORT_QUALITY = 100
DEFAULT_THEME = "system"
CORNER_LABELS: dict[str, str] = {"top-left": "Top left", "top-right": "Top right",
                                 "bottom-left": "Bottom left", "bottom-right": "Bottom right"}
MAX_URL_PATTERN = 500
_TEXTS = (LISTING_URL, C2PA_CERT, C2PA_KEY)
_FLAGS = (LISTING_QR, EXPORT_SIDECAR)


def default_export_dir() -> str:
    """The user's Pictures folder (platformdirs knows it on every platform)."""
    return platformdirs.user_pictures_dir()


def default_general(name: str) -> Any:
    defaults: dict[str, Any] = {
        EXPORT_FORMAT: DEFAULT_EXPORT_FORMAT,
        EXPORT_QUALITY: DEFAULT_EXPORT_QUALITY,
        THEME: DEFAULT_THEME,
        EXPORT_TEMPLATE: DEFAULT_TEMPLATE,
        LISTING_LABEL: DEFAULT_LABEL,
        LISTING_CORNER: DEFAULT_CORNER,
        LISTING_SIZE: round(DEFAULT_LABEL_SIZE * 100, 1),
        LISTING_URL: "",
        LISTING_QR: False,
        EXPORT_SIDECAR: False,
        C2PA_CERT: "",
        C2PA_KEY: "",
    }
    if name == EXPORT_DIR:
        return default_export_dir()
    if name not in defaults:
        raise KeyError(f"There is no general setting '{name}'.")
    return defaults[name]


def general_setting(settings: Settings, name: str) -> Any:
    """The value of general setting `name`, or its default when missing or invalid."""
    value = settings.general.get(name)
    if name == EXPORT_DIR:
        return value if isinstance(value, str) and value.strip() else default_export_dir()
    if name == EXPORT_FORMAT:
        text = str(value).lower() if isinstance(value, str) else ""
        text = "jpeg" if text == "jpg" else text
        return text if text in EXPORT_FORMATS else DEFAULT_EXPORT_FORMAT
    if name == EXPORT_QUALITY:
        if isinstance(value, int) and not isinstance(value, bool) and (
                MIN_EXPORT_QUALITY <= value <= MAX_EXPORT_QUALITY):
            return value
        return DEFAULT_EXPORT_QUALITY
    if name == THEME:
        return value if value in THEMES else DEFAULT_THEME
    if name == EXPORT_TEMPLATE:
        return value if isinstance(value, str) and _template_ok(value) else DEFAULT_TEMPLATE
    if name == LISTING_LABEL:
        text = " ".join(value.split()) if isinstance(value, str) else ""
        return text if text and len(text) <= MAX_LABEL_CHARS else DEFAULT_LABEL
    if name == LISTING_CORNER:
        return value if value in CORNERS else DEFAULT_CORNER
    if name == LISTING_SIZE:
        if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(
                value) and MIN_LABEL_SIZE * 100 <= value <= MAX_LABEL_SIZE * 100:
            return float(value)
        return default_general(name)
    if name in _TEXTS:
        return value.strip() if isinstance(value, str) and len(value) <= 4096 else ""
    if name in _FLAGS:
        return value if isinstance(value, bool) else False
    return default_general(name)  # raises KeyError for unknown names


def _template_ok(text: str) -> bool:
    try:
        Template.parse(text)
    except InvalidInput:
        return False
    return True
