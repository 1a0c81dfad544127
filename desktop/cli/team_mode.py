"""What the team commands (`worker`, `batch --remote`) need: team mode, said plainly when it
is off."""

from __future__ import annotations

from desktop.cli.errors import EXIT_SETUP, CliError
from desktop.config import ASSETS_DIR_ENV, DATABASE_URL_ENV
from desktop.core.store.postgres import is_postgres_url
from desktop.services import Services


def team_database(services: Services, what: str) -> str:
    """The team database's URL; CliError (exit 3) with what to set when team mode is off."""
    url = services.settings.database_url
    if not url or not is_postgres_url(url):
        raise CliError(
            f"{what} needs team mode: set {DATABASE_URL_ENV} to the team's PostgreSQL database "
            f"(postgresql://user@host/restyle) and {ASSETS_DIR_ENV} to the folder every machine "
            "of the team shares, or database_url and assets_dir in settings.json's \"general\" "
            "section.", EXIT_SETUP)
    if services.settings.shared_assets_dir is None:
        raise CliError(
            f"{what} needs the team's shared assets folder: set {ASSETS_DIR_ENV} (or assets_dir "
            "in settings.json's \"general\" section) to a folder every machine of the team "
            "mounts, so workers can read the inputs and everyone sees the results.", EXIT_SETUP)
    return url
