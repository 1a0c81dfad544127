"""General settings (export folder and format, theme) kept in `Settings.general`.

The settings file holds whatever a person or an older version wrote, so every read goes
through `general_setting`, which returns a valid value or the default. No Qt here: the CLI and
exporters read the same values.
"""

from __future__ import annotations

from typing import Any

import platformdirs

from desktop.config import Settings

EXPORT_DIR = "export_dir"
EXPORT_FORMAT = "export_format"
EXPORT_QUALITY = "export_quality"
THEME = "theme"

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


def default_export_dir() -> str:
    """The user's Pictures folder (platformdirs knows it on every platform)."""
    return platformdirs.user_pictures_dir()


def default_general(name: str) -> Any:
    defaults: dict[str, Any] = {
        EXPORT_FORMAT: DEFAULT_EXPORT_FORMAT,
        EXPORT_QUALITY: DEFAULT_EXPORT_QUALITY,
        THEME: DEFAULT_THEME,
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
    return default_general(name)  # raises KeyError for unknown names
