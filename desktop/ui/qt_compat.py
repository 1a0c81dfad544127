"""Work around a PySide6 6.12 reference-count bug in `SignalInstance.emit`.

On this PySide6 build every `signal.emit(...)` made from Python returns `True` without taking a
reference to it. On Python 3.11 `True` is an ordinary refcounted object, so after a few hundred
emits its count reaches zero and the interpreter aborts ("Fatal Python error: bool_dealloc").
A window that repaints rows through `dataChanged.emit` dozens of times per second would crash
within a minute.

`install()` checks once whether the bug is present (a few probe emits, compensated) and, only
then, wraps `SignalInstance.emit` to add the missing reference. Importing this module installs
it; installing twice does nothing.
"""

from __future__ import annotations

import ctypes
import sys
from typing import Any

from PySide6.QtCore import QObject, Signal, SignalInstance

_PROBES = 8
_installed = False


class _Probe(QObject):
    ping = Signal()


def _incref(obj: object) -> None:
    ctypes.pythonapi.Py_IncRef(ctypes.py_object(obj))


def emit_drops_reference() -> bool:
    """True when `emit()` loses a reference to its result (the PySide6 6.12 bug)."""
    probe = _Probe()
    before = sys.getrefcount(True)
    results = [probe.ping.emit() for _ in range(_PROBES)]
    del results
    lost = before - sys.getrefcount(True)
    for _ in range(max(0, lost)):
        _incref(True)
    return lost >= _PROBES


def install() -> bool:
    """Patch `SignalInstance.emit` if needed; returns whether the patch is active."""
    global _installed
    if _installed:
        return True
    if not emit_drops_reference():
        return False
    original = SignalInstance.emit

    def emit(self: SignalInstance, *args: Any) -> Any:
        result = original(self, *args)
        if result is True:
            _incref(result)
        return result

    SignalInstance.emit = emit  # type: ignore[method-assign]
    _installed = True
    return True


install()
