"""Paths and settings."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from desktop.config import ProviderSettings, Settings, load_settings, resolve_paths, save_settings
from tests.conftest import MemoryKeyring


def test_restyle_home_puts_everything_in_one_folder(home: Path) -> None:
    paths = resolve_paths()
    for p in (paths.settings_file, paths.database, paths.assets_dir, paths.log_file):
        assert home.resolve() in p.parents


def test_platformdirs_without_restyle_home(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RESTYLE_HOME")
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "xdg-data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "xdg-config"))
    paths = resolve_paths()
    assert paths.data_dir == home / "xdg-data" / "restyle"
    assert paths.config_dir == home / "xdg-config" / "restyle"


def test_settings_round_trip_and_env_override(home: Path, monkeypatch: pytest.MonkeyPatch
                                              ) -> None:
    paths = resolve_paths()
    settings = Settings(global_concurrency=6).with_provider(
        "tryonapi", ProviderSettings(base_url="https://a.example", concurrency=3,
                                     poll_interval=4.0, deadline_s=120))
    save_settings(paths, settings)
    loaded = load_settings(paths)
    assert loaded == settings
    monkeypatch.setenv("RESTYLE_TRYONAPI_BASE_URL", "http://127.0.0.1:9999")
    assert loaded.provider("tryonapi").base_url == "http://127.0.0.1:9999"
    policy = loaded.engine_policy(["tryonapi", "local"])
    assert policy.global_limit == 6 and policy.provider_limit("tryonapi") == 3
    assert policy.deadline("tryonapi") == 120 and policy.poll_intervals == {"tryonapi": 4.0}


def test_damaged_settings_are_set_aside(home: Path) -> None:
    paths = resolve_paths()
    paths.ensure()
    paths.settings_file.write_text("{not json", encoding="utf-8")
    assert load_settings(paths) == Settings()
    assert paths.settings_file.with_suffix(".damaged.json").read_text() == "{not json"


def test_bad_values_fall_back_to_defaults() -> None:
    s = Settings.from_dict({"global_concurrency": -2,
                            "providers": {"x": {"concurrency": "many", "deadline_s": 0}}})
    assert s.global_concurrency == 4
    assert s.provider("x") == ProviderSettings()


def test_sample_inputs_ship_with_the_source() -> None:
    from PIL import Image

    from desktop.config import sample_inputs

    samples = sample_inputs()
    assert set(samples) == {"person", "garment", "room", "image"}
    assert len(samples["garment"]) == 2
    for paths in samples.values():
        for path in paths:
            with Image.open(path) as img:
                assert min(img.size) >= 512


def test_settings_never_hold_a_key(home: Path, memory_keyring: MemoryKeyring,
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """Keys live in the keyring or the environment; the settings round trip the window makes
    (read a provider's settings, change them, save) carries neither into settings.json."""
    from desktop.secrets import SecretStore
    from desktop.services import Services

    monkeypatch.setenv("RESTYLE_TRYONAPI_API_KEY", "tk-ENV-SECRET-31")
    services = Services.open(secrets=SecretStore())
    try:
        services.secrets.set("fitinview", "fk-KEYRING-SECRET-32")
        settings = services.settings
        for pid in services.provider_ids():
            current = settings.provider(pid)
            settings = settings.with_provider(pid, replace(current, concurrency=3))
        save_settings(services.paths, settings)
        assert load_settings(services.paths) == settings
    finally:
        services.close()
    # The key is where it belongs ...
    assert memory_keyring.passwords == {("restyle", "fitinview"): "fk-KEYRING-SECRET-32"}
    # ... and in no file Restyle wrote: settings, history, anything under RESTYLE_HOME.
    text = services.paths.settings_file.read_text(encoding="utf-8")
    assert '"concurrency": 3' in text
    for path in [p for p in home.rglob("*") if p.is_file()]:
        data = path.read_bytes()
        assert b"tk-ENV-SECRET-31" not in data and b"fk-KEYRING-SECRET-32" not in data, path


def test_prices_and_review_settings_round_trip() -> None:
    from desktop.config import Settings

    settings = Settings.from_dict({
        "providers": {"fitinview": {"price_per_credit": 0.05}, "tryonapi": {}},
        "review": {"reviewer": "Ana", "tags": {"tryon": ["sleeve wrong"]}}})
    assert settings.prices(["fitinview", "tryonapi"]) == {"fitinview": 0.05}
    assert settings.review.reviewer == "Ana"
    assert settings.review.tags_for("tryon") == ("sleeve wrong",)
    again = Settings.from_dict(settings.to_dict())
    assert again.prices(["fitinview"]) == {"fitinview": 0.05} and again.review == settings.review
