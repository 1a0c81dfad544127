"""Where Restyle keeps its files, and the settings file.

`RESTYLE_HOME` puts config, database, assets and logs in one folder (tests and portable
installs); otherwise platformdirs picks the platform's usual places.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import platformdirs

from desktop.core.engine import EnginePolicy
from desktop.core.engine.policy import JOB_SETTINGS
from desktop.core.files import atomic_write
from desktop.core.limits import Limits
from desktop.core.permissions import FILE_MODE, private_dir, tighten
from desktop.core.reviews import ReviewSettings

log = logging.getLogger(__name__)

APP_NAME = "Restyle"
APP_ID = "restyle"
HOME_ENV = "RESTYLE_HOME"
#: Team mode (README "Team mode"): the history in a PostgreSQL database, and the assets in a
#: folder every machine of the team mounts. Each beats the setting of the same name in
#: settings.json's "general" section.
DATABASE_URL_ENV = "RESTYLE_DATABASE_URL"
ASSETS_DIR_ENV = "RESTYLE_ASSETS_DIR"

DEFAULT_GLOBAL_CONCURRENCY = 4
DEFAULT_PROVIDER_CONCURRENCY = 2
DEFAULT_DEADLINE_S = 15 * 60.0


@dataclass(frozen=True)
class Paths:
    """Every place Restyle reads or writes."""

    config_dir: Path
    data_dir: Path
    log_dir: Path
    cache_dir: Path

    @property
    def settings_file(self) -> Path:
        return self.config_dir / "settings.json"

    @property
    def database(self) -> Path:
        return self.data_dir / "history.sqlite3"

    @property
    def assets_dir(self) -> Path:
        return self.data_dir / "assets"

    @property
    def log_file(self) -> Path:
        return self.log_dir / "restyle.log"

    def own_dirs(self) -> tuple[Path, ...]:
        """Restyle's own folders (not their parents, not a RESTYLE_HOME folder itself)."""
        return (self.config_dir, self.data_dir, self.log_dir, self.cache_dir, self.assets_dir)

    def own_files(self) -> list[Path]:
        """Restyle's own files that exist now: settings, window state, history, logs."""
        names = [self.settings_file, self.settings_file.with_suffix(".damaged.json"),
                 self.config_dir / "window.ini", self.database,
                 self.database.with_name(self.database.name + "-wal"),
                 self.database.with_name(self.database.name + "-shm")]
        logs = sorted(self.log_dir.glob(self.log_file.name + "*")) if self.log_dir.is_dir() else []
        return [p for p in (*names, *logs) if p.is_file()]

    def ensure(self) -> None:
        """Create the folders private to the user (0700) and tighten Restyle's own files that
        an older version or another tool left group- or world-readable (see
        desktop.core.permissions). Files written later are created 0600 where they are made:
        settings by atomic_write, the history by History, logs by the log handler."""
        for d in self.own_dirs():
            private_dir(d)
        for f in self.own_files():
            tighten(f, FILE_MODE)


def resolve_paths(home: str | os.PathLike[str] | None = None) -> Paths:
    """`home` argument, else RESTYLE_HOME, else the platform's directories."""
    chosen = home if home is not None else os.environ.get(HOME_ENV) or None
    if chosen is not None:
        root = Path(chosen).expanduser().resolve()
        return Paths(
            config_dir=root / "config",
            data_dir=root / "data",
            log_dir=root / "logs",
            cache_dir=root / "cache",
        )
    return Paths(
        config_dir=Path(platformdirs.user_config_dir(APP_ID, appauthor=False)),
        data_dir=Path(platformdirs.user_data_dir(APP_ID, appauthor=False)),
        log_dir=Path(platformdirs.user_log_dir(APP_ID, appauthor=False)),
        cache_dir=Path(platformdirs.user_cache_dir(APP_ID, appauthor=False)),
    )


def env_name(provider_id: str, suffix: str) -> str:
    """RESTYLE_<PROVIDER>_<SUFFIX>, the provider id upper-cased."""
    return f"RESTYLE_{provider_id.upper()}_{suffix}"


@dataclass(frozen=True)
class ProviderSettings:
    """Per-provider settings. None means "the provider's own default"."""

    base_url: str | None = None
    concurrency: int = DEFAULT_PROVIDER_CONCURRENCY
    poll_interval: float | None = None
    deadline_s: float = DEFAULT_DEADLINE_S
    extra: dict[str, Any] = field(default_factory=dict)
    #: What one credit costs in money (the batch plan shows money where this is set).
    price_per_credit: float | None = None

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ProviderSettings:
        defaults = cls()
        return cls(
            base_url=data.get("base_url") or None,
            concurrency=_positive_int(data.get("concurrency"), defaults.concurrency),
            poll_interval=_positive_float(data.get("poll_interval"), None),
            deadline_s=_positive_float(data.get("deadline_s"), defaults.deadline_s)
            or defaults.deadline_s,
            extra=dict(data.get("extra") or {}),
            price_per_credit=_positive_float(data.get("price_per_credit"), None),
        )


@dataclass(frozen=True)
class Settings:
    """The settings file's content. Unknown keys are kept so newer versions lose nothing."""

    global_concurrency: int = DEFAULT_GLOBAL_CONCURRENCY
    providers: dict[str, ProviderSettings] = field(default_factory=dict)
    general: dict[str, Any] = field(default_factory=dict)
    limits: Limits = field(default_factory=Limits)
    #: How jobs are followed when something goes wrong (settings.json "jobs"): names and
    #: defaults are EnginePolicy's JOB_SETTINGS; values that are not positive numbers are
    #: ignored.
    jobs: dict[str, Any] = field(default_factory=dict)
    #: Who reviews, and the defect tags offered per task family (settings.json "review").
    review: ReviewSettings = field(default_factory=ReviewSettings)

    def prices(self, provider_ids: list[str]) -> dict[str, float]:
        """Money per credit, for the providers whose settings give one."""
        return {p: price for p in provider_ids
                if (price := self.provider(p).price_per_credit) is not None}

    def provider(self, provider_id: str) -> ProviderSettings:
        """The provider's settings with RESTYLE_<ID>_BASE_URL applied."""
        current = self.providers.get(provider_id, ProviderSettings())
        env_url = os.environ.get(env_name(provider_id, "BASE_URL"))
        if env_url:
            current = replace(current, base_url=env_url)
        return current

    @property
    def database_url(self) -> str | None:
        """The team database (`postgresql://...`), or None: the desk's own SQLite file."""
        chosen = os.environ.get(DATABASE_URL_ENV) or self.general.get("database_url") or None
        return str(chosen).strip() or None if chosen else None

    @property
    def shared_assets_dir(self) -> Path | None:
        """The team's shared assets folder, or None: the data folder's own `assets`."""
        chosen = os.environ.get(ASSETS_DIR_ENV) or self.general.get("assets_dir") or None
        return Path(str(chosen)).expanduser() if chosen else None

    def with_provider(self, provider_id: str, settings: ProviderSettings) -> Settings:
        providers = dict(self.providers)
        providers[provider_id] = settings
        return replace(self, providers=providers)

    def engine_policy(self, provider_ids: list[str]) -> EnginePolicy:
        return EnginePolicy(
            global_limit=self.global_concurrency,
            provider_limits={p: self.provider(p).concurrency for p in provider_ids},
            deadlines={p: self.provider(p).deadline_s for p in provider_ids},
            poll_intervals={
                p: interval
                for p in provider_ids
                if (interval := self.provider(p).poll_interval) is not None
            },
            result_max_pixels=self.limits.result_max_pixels,
            result_full_decode_max_pixels=self.limits.result_full_decode_max_pixels,
            **_job_settings(self.jobs),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "global_concurrency": self.global_concurrency,
            "providers": {k: asdict(v) for k, v in sorted(self.providers.items())},
            "general": self.general,
            "limits": self.limits.to_dict(),
            "jobs": self.jobs,
            "review": self.review.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Settings:
        providers = {
            str(k): ProviderSettings.from_dict(v)
            for k, v in (data.get("providers") or {}).items()
            if isinstance(v, dict)
        }
        return cls(
            global_concurrency=_positive_int(
                data.get("global_concurrency"), DEFAULT_GLOBAL_CONCURRENCY
            ),
            providers=providers,
            general=dict(data.get("general") or {}),
            limits=Limits.from_dict(data.get("limits")),
            jobs=dict(data.get("jobs") or {}) if isinstance(data.get("jobs"), dict) else {},
            review=ReviewSettings.from_dict(data.get("review")),
        )


def load_settings(paths: Paths) -> Settings:
    """Read the settings file; a missing file gives defaults, a damaged one is set aside."""
    path = paths.settings_file
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return Settings()
    try:
        data = json.loads(raw)
        if not isinstance(data, dict):
            raise ValueError("not a JSON object")
        return Settings.from_dict(data)
    except ValueError as exc:
        backup = path.with_suffix(".damaged.json")
        os.replace(path, backup)
        log.warning("Settings file %s was damaged (%s); moved to %s, using defaults.",
                    path, exc, backup)
        return Settings()


def save_settings(paths: Paths, settings: Settings) -> None:
    data = json.dumps(settings.to_dict(), indent=2, sort_keys=True).encode("utf-8")
    atomic_write(paths.settings_file, data)


def _job_settings(raw: dict[str, Any]) -> dict[str, Any]:
    """The "jobs" settings that are known and sensible, typed as EnginePolicy wants them."""
    chosen: dict[str, Any] = {}
    for name, kind in JOB_SETTINGS.items():
        value = _positive_float(raw.get(name), None)
        if value is not None and value < 1e9:
            chosen[name] = max(1, int(value)) if kind is int else value
    return chosen


def _positive_int(value: Any, default: int) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return default
    return number if number > 0 else default


def _positive_float(value: Any, default: float | None) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return default
    return number if number > 0 else default


def resources_dir() -> Path:
    """The shipped resources (icons, sample inputs): beside the package in a source checkout
    or an editable install, or in PyInstaller's bundle directory."""
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        return Path(bundle) / "resources"
    return Path(__file__).resolve().parent.parent / "resources"


def sample_inputs() -> dict[str, list[Path]]:
    """The "Try with samples" inputs by role; roles whose files are missing are left out."""
    samples = resources_dir() / "samples"
    found = {
        "person": [samples / "person.png"],
        "garment": [samples / "garment-tshirt.png", samples / "garment-jacket.png"],
        "room": [samples / "room.jpg"],
        "image": [samples / "person.png"],
    }
    return {role: [p for p in paths if p.is_file()] for role, paths in found.items()
            if any(p.is_file() for p in paths)}
