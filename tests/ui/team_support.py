"""Windows on "several desks" for the team-mode tests and screenshots: each desk is a
RESTYLE_HOME of its own (its settings, its reviewer name), all on one PostgreSQL database and
one shared assets folder, as a team sets Restyle up."""

from __future__ import annotations

import os
import time
from dataclasses import replace
from pathlib import Path

from desktop.app import RestyleWindow, create_main_window
from desktop.config import ASSETS_DIR_ENV, DATABASE_URL_ENV, HOME_ENV, save_settings
from desktop.core.reviews import ReviewSettings
from desktop.services import Services


def team_env(pg_url: str, shared: Path) -> dict[str, str]:
    """The variables every desk of the team sets."""
    return {DATABASE_URL_ENV: pg_url, ASSETS_DIR_ENV: str(shared)}


def open_desk(home: Path, reviewer: str) -> Services:
    """Services of one desk (the team variables are in the environment), its reviewer set."""
    services = Services.open(home)
    save_settings(services.paths, replace(services.settings,
                                          review=ReviewSettings(reviewer)))
    services.close()
    return Services.open(home)


def desk_window(home: Path, reviewer: str) -> RestyleWindow:
    """A window of one desk, built (not started): RESTYLE_HOME is set only while it is made."""
    open_desk(home, reviewer).close()
    before = os.environ.get(HOME_ENV)
    os.environ[HOME_ENV] = str(home)
    try:
        return create_main_window(home)
    finally:
        if before is None:
            os.environ.pop(HOME_ENV, None)
        else:
            os.environ[HOME_ENV] = before


def median(values: list[float]) -> float:
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def now() -> float:
    return time.monotonic()
