"""Services: the settings' limits reach every reader (input files, URL downloads, API
answers) of the CLI and the window."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from PIL import Image

from desktop import cli
from desktop.providers.registry import PROVIDER_CLASSES
from desktop.providers.remote import RemoteProvider
from desktop.services import Services

LIMITS = {"api_body_max_bytes": 4321, "url_input_max_bytes": 999, "url_input_timeout_s": 7,
          "input_max_bytes": 100, "input_read_timeout_s": 9}


def write_settings(home: Path) -> None:
    (home / "config").mkdir(parents=True)
    (home / "config" / "settings.json").write_text(json.dumps({"limits": LIMITS}))


def test_settings_limits_reach_the_clients_and_the_loader(home: Path) -> None:
    write_settings(home)
    services = Services.open(home)
    try:
        remote = [pid for pid, cls in PROVIDER_CLASSES.items()
                  if issubclass(cls, RemoteProvider)]
        assert len(remote) == 5
        for pid in remote:
            provider = services.create_provider(pid)
            assert isinstance(provider, RemoteProvider)
            assert provider.client.max_body_bytes == 4321, pid
        loader = services.url_loader()
        assert loader.max_bytes == 999 and loader.limits.url_input_timeout_s == 7
        assert services.settings.limits.input_read_timeout_s == 9
    finally:
        services.close()


def test_the_engine_reads_inputs_within_the_settings_limit(
        home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_settings(home)
    photo = tmp_path / "photo.png"
    Image.new("RGB", (120, 90), (200, 30, 30)).save(photo)
    assert photo.stat().st_size > 100
    code = cli.main(["run", "--provider", "local", "--task", "upscale", "--image", str(photo)],
                    stdin=io.StringIO(""))
    err = capsys.readouterr().err
    assert code == 2
    assert "photo.png is" in err and "larger than the 100 bytes Restyle accepts" in err
