"""Light, dark or the system's look for the whole application.

"system" hands everything back to the platform: the colour scheme request is withdrawn and the
style and palette the application started with come back. "light" and "dark" use Fusion (it
draws the same on every platform, and every platform style does not honour a dark palette), ask
the platform for that colour scheme (Qt 6.8+ `QStyleHints.setColorScheme`, which also themes
native title bars and dialogs where the platform supports it) and set an explicit palette, so
the result does not depend on whether the platform honoured the request.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication

from desktop.general_settings import THEMES

log = logging.getLogger(__name__)

#: Property on the application holding the style name it started with.
_ORIGINAL_STYLE = "restyleOriginalStyle"


def _palette(colors: dict[QPalette.ColorRole, str], disabled: dict[QPalette.ColorRole, str]
             ) -> QPalette:
    palette = QPalette()
    for role, value in colors.items():
        palette.setColor(role, QColor(value))
    for role, value in disabled.items():
        palette.setColor(QPalette.ColorGroup.Disabled, role, QColor(value))
    return palette


R = QPalette.ColorRole


def dark_palette() -> QPalette:
    return _palette(
        {
            R.Window: "#2b2d30", R.WindowText: "#e6e6e6", R.Base: "#1f2023",
            R.AlternateBase: "#292b2e", R.ToolTipBase: "#3a3d41", R.ToolTipText: "#f0f0f0",
            R.PlaceholderText: "#8c8f94", R.Text: "#e6e6e6", R.Button: "#35373b",
            R.ButtonText: "#e6e6e6", R.BrightText: "#ff6b6b", R.Light: "#4a4d52",
            R.Midlight: "#3e4145", R.Mid: "#2f3134", R.Dark: "#1a1b1e", R.Shadow: "#0d0d0f",
            R.Highlight: "#3d7bd9", R.HighlightedText: "#ffffff", R.Link: "#6ea8ff",
            R.LinkVisited: "#b58cff", R.Accent: "#3d7bd9",
        },
        {R.WindowText: "#7c7f84", R.Text: "#7c7f84", R.ButtonText: "#7c7f84",
         R.Highlight: "#4a4d52", R.HighlightedText: "#a0a3a8"},
    )


def light_palette() -> QPalette:
    return _palette(
        {
            R.Window: "#efefef", R.WindowText: "#1d1d1f", R.Base: "#ffffff",
            R.AlternateBase: "#f5f5f5", R.ToolTipBase: "#ffffdc", R.ToolTipText: "#1d1d1f",
            R.PlaceholderText: "#7a7a7a", R.Text: "#1d1d1f", R.Button: "#efefef",
            R.ButtonText: "#1d1d1f", R.BrightText: "#d01010", R.Light: "#ffffff",
            R.Midlight: "#e3e3e3", R.Mid: "#b8b8b8", R.Dark: "#9f9f9f", R.Shadow: "#767676",
            R.Highlight: "#2f6fd0", R.HighlightedText: "#ffffff", R.Link: "#1a5fc4",
            R.LinkVisited: "#7a3fc4", R.Accent: "#2f6fd0",
        },
        {R.WindowText: "#8e8e8e", R.Text: "#8e8e8e", R.ButtonText: "#8e8e8e",
         R.Highlight: "#c8c8c8", R.HighlightedText: "#6e6e6e"},
    )


def apply_theme(app: QApplication, theme: str) -> None:
    """Apply "system", "light" or "dark" to the whole application (unknown values: system)."""
    if theme not in THEMES:
        log.warning("Unknown theme %r; following the system.", theme)
        theme = "system"
    original = app.property(_ORIGINAL_STYLE)
    if not original:
        original = app.style().name()
        app.setProperty(_ORIGINAL_STYLE, original)
    hints = QGuiApplication.styleHints()
    if theme == "system":
        if hasattr(hints, "unsetColorScheme"):
            hints.unsetColorScheme()
        if app.style().name().lower() != str(original).lower():
            app.setStyle(str(original))
        app.setPalette(QPalette())  # nothing set: the platform's palette resolves through
        return
    if hasattr(hints, "setColorScheme"):
        hints.setColorScheme(Qt.ColorScheme.Dark if theme == "dark" else Qt.ColorScheme.Light)
    if app.style().name().lower() != "fusion":
        app.setStyle("Fusion")
    app.setPalette(dark_palette() if theme == "dark" else light_palette())
