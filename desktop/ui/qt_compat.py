"""Work around a reference-count bug of PySide6 6.12.0 (abi3 wheel) on CPython 3.11.

On this build every Qt call that returns None (`painter.save()`, `setPen`, `setText`, ...) and
every `signal.emit(...)` (which returns True) hands back `None`/`True`/`False` without taking
a reference, as if they were immortal objects (they are from CPython 3.12 on, not on 3.11).
Each such call lowers the object's count by one; after some thousands of calls (a few seconds
of painting a list) the count reaches zero and the interpreter aborts with "Fatal Python error:
none_dealloc" or "bool_dealloc".

`install()` checks once whether the bug is present (a few probe calls, compensated) and, only
then, does what CPython 3.12 does: gives those three singletons a count so large that no
number of lost references can bring it to zero. They are static objects that are never freed,
so the large count changes nothing else. Importing this module installs it; installing twice
does nothing. Import it before any other Qt work (the composition root and the test conftest).
"""

from __future__ import annotations

import ctypes
import sys

from PySide6.QtCore import QObject, QSize, Signal

_PROBES = 8
#: 2**60 lost references would take centuries of calls; Py_ssize_t holds 2**63 - 1.
_HEADROOM = 1 << 60
_installed = False


class _Probe(QObject):
    ping = Signal()


def _add_references(obj: object, count: int) -> None:
    """Raise an object's reference count in place (ob_refcnt is the first field)."""
    if count > 0:
        ctypes.c_ssize_t.from_address(id(obj)).value += count


def probe_lost_references() -> tuple[int, int]:
    """How many references to None and to True a few void calls and emits lose (compensated).

    (0, 0) on a correct build; (_PROBES, _PROBES) on the broken one.
    """
    size = QSize()
    probe = _Probe()
    none_before = sys.getrefcount(None)
    for _ in range(_PROBES):
        size.setWidth(1)
    none_lost = none_before - sys.getrefcount(None)
    true_before = sys.getrefcount(True)
    for _ in range(_PROBES):
        probe.ping.emit()
    true_lost = true_before - sys.getrefcount(True)
    _add_references(None, none_lost)
    _add_references(True, true_lost)
    return max(0, none_lost), max(0, true_lost)


def install() -> bool:
    """Protect None/True/False if this PySide6 build loses references to them.

    Returns whether the protection is active.
    """
    global _installed
    if _installed:
        return True
    if sys.version_info >= (3, 12):
        return False  # immortal objects: nothing to protect
    none_lost, true_lost = probe_lost_references()
    if none_lost < _PROBES and true_lost < _PROBES:
        return False
    for singleton in (None, True, False):
        _add_references(singleton, _HEADROOM)
    _installed = True
    return True


install()
