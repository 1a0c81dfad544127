"""Qt's messages pass through unchanged, except the broken-X11 warning, which is noted (the app
then closes without a display) and logged once instead of printed on every loop pass."""

from __future__ import annotations

import pytest
from PySide6.QtCore import qWarning

from desktop.ui.lost_display import QtMessages


def test_the_x11_warning_is_noted_once_and_others_still_print(
        capfd: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture) -> None:
    messages = QtMessages()
    messages.install()
    try:
        qWarning("an ordinary Qt warning")
        assert not messages.display_lost
        for _ in range(3):
            qWarning("The X11 connection broke (error 1). Did the X11 server die?")
    finally:
        messages.uninstall()
    err = capfd.readouterr().err
    assert "an ordinary Qt warning" in err
    assert "X11 connection broke" not in err
    assert messages.display_lost
    assert caplog.text.count("The display went away") == 1
