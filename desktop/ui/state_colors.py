"""The colour of each job state, one table for every view that shows one (the job queue's dot,
the history's state word), so a job looks the same wherever it appears.

Each state has a darker shade for light themes and a lighter one for dark themes; both read on
the theme's base colour. "Needs attention" has a colour no other state uses: it is the one state
that waits for the user.
"""

from __future__ import annotations

from PySide6.QtGui import QColor, QPalette

from desktop.core.model import JobState

#: state -> (on a light base, on a dark base)
STATE_COLORS: dict[JobState, tuple[str, str]] = {
    JobState.QUEUED: ("#6b7280", "#9ca3af"),
    JobState.PREPARING: ("#1d6fd6", "#5aa9ff"),
    JobState.SUBMITTING: ("#1d6fd6", "#5aa9ff"),
    JobState.RUNNING: ("#1d6fd6", "#5aa9ff"),
    JobState.DOWNLOADING: ("#1d6fd6", "#5aa9ff"),
    JobState.NEEDS_ATTENTION: ("#7e22ce", "#c084fc"),
    JobState.SUCCEEDED: ("#1f7a45", "#4cc38a"),
    JobState.FAILED: ("#c62828", "#ff6b6b"),
    JobState.CANCELLED: ("#6b7280", "#9ca3af"),
    JobState.TIMED_OUT: ("#b45309", "#ffb347"),
}

#: A running job waiting to try the provider again (rate limited, outage): its countdown.
WAITING_COLORS = ("#a35200", "#f5b041")


def is_dark(palette: QPalette) -> bool:
    """Whether the palette's base (the list background) is dark."""
    return palette.color(QPalette.ColorRole.Base).lightness() < 128


def state_color(state: JobState, dark: bool) -> QColor:
    light_shade, dark_shade = STATE_COLORS[state]
    return QColor(dark_shade if dark else light_shade)


def waiting_color(dark: bool) -> QColor:
    return QColor(WAITING_COLORS[1] if dark else WAITING_COLORS[0])
