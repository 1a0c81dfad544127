"""Numbers written for people: durations and sizes in messages."""

from __future__ import annotations


def human_duration(seconds: float) -> str:
    """'40 ms', '7.5 s', '45 s', '2 min 5 s', '1 h 30 min'."""
    seconds = max(0.0, float(seconds))
    if seconds < 1:
        return f"{round(seconds * 1000)} ms"
    if seconds < 10:
        return f"{seconds:.1f} s".replace(".0 s", " s")
    if seconds < 60:
        return f"{round(seconds)} s"
    minutes, secs = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} min" + (f" {secs} s" if secs else "")
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h" + (f" {minutes} min" if minutes else "")


def human_bytes(size: float) -> str:
    """'512 bytes', '1.5 KB', '12.3 MB' (decimal units, as file managers show)."""
    if size < 1000:
        return f"{int(size)} bytes"
    for unit in ("KB", "MB", "GB", "TB"):
        size /= 1000.0
        if size < 1000 or unit == "TB":
            return f"{size:.1f} {unit}"
    raise AssertionError("unreachable")
