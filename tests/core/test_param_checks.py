"""Every parameter is checked before a job row is written (Provider.check, called by the
engine's Preparer): a bad combination leaves no job in history and sends nothing.

The per-kind rules live with each adapter and are tested in tests/providers/test_<id>.py; here
are the hook's contract (what it is given, that it runs before anything is stored) and one bad
parameter per provider through the command line against the emulators."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from desktop import cli
from desktop.core.assets import AssetStore
from desktop.core.engine import EnginePolicy, JobEngine
from desktop.core.model import InvalidInput, JobSpec, JobState, TaskSpec
from desktop.core.store import History
from desktop.providers.base import PreparedInput
from tests.emulators.fitinview import FitInViewEmulator
from tests.emulators.kit import Emulator, serve
from tests.emulators.virtualstaging import VirtualStagingEmulator
from tests.emulators.vistoure import VistoureEmulator
from tests.emulators.vtryon import VtryonEmulator
from tests.fakes import FakeBackend, FakeProvider, png_bytes
from tests.refusals import refused_before_storing
from tests.support import run


class CheckingProvider(FakeProvider):
    """A fake service whose `check` refuses strength above 0.9 for images narrower than 100
    pixels (a rule that needs both the params and the prepared inputs), and records calls."""

    calls: list[tuple[str, dict[str, Any], dict[str, list[PreparedInput]]]]

    def __init__(self, backend: FakeBackend | None = None) -> None:
        super().__init__(backend)
        self.calls = []

    async def check(self, task: TaskSpec, params: dict[str, Any],
                    inputs: dict[str, list[PreparedInput]]) -> None:
        self.calls.append((task.id, params, inputs))
        width = inputs["image"][0].width
        if params["strength"] > 0.9 and width < 100:
            raise InvalidInput(f"Parameter 'strength' must be at most 0.9 for an image "
                               f"{width} pixels wide.")


def engine_for(tmp_path: Path, provider: FakeProvider) -> tuple[JobEngine, History]:
    history = History(tmp_path / "history.sqlite3")
    engine = JobEngine(history, AssetStore(tmp_path / "assets"), lambda _pid: provider,
                       policy=EnginePolicy(jitter=0.0))
    return engine, history


def image_spec(tmp_path: Path, **params: Any) -> JobSpec:
    path = tmp_path / "in.png"
    path.write_bytes(png_bytes((0, 0, 255), size=(64, 48)))
    return JobSpec(provider="fake", task="echo", inputs={"image": [str(path)]}, params=params)


def test_check_gets_coerced_params_and_prepared_inputs(tmp_path: Path) -> None:
    provider = CheckingProvider(FakeBackend())
    engine, _history = engine_for(tmp_path, provider)

    async def main() -> None:
        try:
            await engine.prepare(image_spec(tmp_path, strength="0.25"))
        finally:
            await engine.aclose()

    run(main())
    [(task_id, params, inputs)] = provider.calls
    assert task_id == "echo" and params == {"strength": 0.25}  # coerced from the text
    [item] = inputs["image"]
    assert (item.width, item.height, item.mime) == (64, 48, "image/png")


def test_a_refused_check_stores_nothing_and_submits_nothing(tmp_path: Path) -> None:
    backend = FakeBackend()
    provider = CheckingProvider(backend)
    sentence = refused_before_storing(tmp_path, provider, image_spec(tmp_path, strength=0.95))
    assert sentence == "Parameter 'strength' must be at most 0.9 for an image 64 pixels wide."
    assert backend.submits == [] and not list((tmp_path / "refusal-assets").rglob("*.png"))


def test_a_passing_check_lets_the_job_run(tmp_path: Path) -> None:
    backend = FakeBackend()
    provider = CheckingProvider(backend)
    engine, history = engine_for(tmp_path, provider)

    async def main() -> JobState:
        try:
            return (await engine.run(image_spec(tmp_path, strength=0.5))).state
        finally:
            await engine.aclose()

    assert run(main()) == JobState.SUCCEEDED
    assert len(provider.calls) == 1 and len(backend.submits) == 1 and history.count() == 1


# -- one bad parameter per provider, through the command line ----------------------------------
def _files(tmp_path: Path) -> dict[str, str]:
    """Image files for the command lines below, by the placeholder that stands for them."""
    person, garment = tmp_path / "person.png", tmp_path / "garment.png"
    person.write_bytes(png_bytes((200, 180, 160), size=(96, 128)))
    garment.write_bytes(png_bytes((20, 40, 200), size=(96, 96)))
    return {"PERSON_FILE": str(person), "GARMENT_FILE": str(garment)}


CASES: list[tuple[str, type[Emulator] | None, list[str], str]] = [
    ("fitinview", FitInViewEmulator,
     ["--task", "tryon", "--person", "PERSON_FILE", "--garment", "GARMENT_FILE",
      "--param", 'metadata={"restyle_job_id": "mine"}'],
     "must not use the key 'restyle_job_id'"),
    ("vtryon", VtryonEmulator,
     ["--task", "recolor", "--param", "pose_image_generation_id=936",
      "--param", "models_image_generation_task_id=901",
      "--param", 'color_changes=[{"target": "blouse", "color": "rgb(0, 0, 255)"}]'],
     "takes a hex colour such as #1f4e9c or a colour name"),
    ("virtualstaging", VirtualStagingEmulator,
     ["--task", "staging", "--room", "PERSON_FILE", "--param", "sky=golden"],
     "Parameter 'sky' applies only to type day-to-dusk"),
    ("vistoure", VistoureEmulator,
     ["--task", "workflow", "--param", "workflow=My Custom Model Workflow",
      "--person", "PERSON_FILE"],
     "needs: Vton_Node.garment_image"),
    ("local", None,
     ["--task", "recolor", "--image", "PERSON_FILE", "--param", "color=red",
      "--param", "seed=500,10"],
     "outside the 96x128 image"),
]


@pytest.mark.parametrize(("provider_id", "emulator", "args", "needle"), CASES,
                         ids=[c[0] for c in CASES])
def test_cli_refuses_a_bad_parameter_before_any_job_is_stored(
        home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch, provider_id: str, emulator: type[Emulator] | None,
        args: list[str], needle: str) -> None:
    files = _files(tmp_path)
    argv = ["run", "--provider", provider_id, *[files.get(a, a) for a in args], "--json"]
    if emulator is None:
        code = cli.main(argv, stdin=io.StringIO(""))
        posts: list[Any] = []
    else:
        emu = emulator(job_delay=0.0)
        with serve(emu) as base:
            monkeypatch.setenv(f"RESTYLE_{provider_id.upper()}_BASE_URL", base)
            monkeypatch.setenv(f"RESTYLE_{provider_id.upper()}_API_KEY", emu.api_key)
            code = cli.main(argv, stdin=io.StringIO(""))
        posts = [r for r in emu.requests if r.method == "POST"]
    out, err = capsys.readouterr()
    assert code == cli.EXIT_USAGE, (out, err)
    assert out == "" and needle in err, err
    assert "Traceback" not in err and err.startswith("restyle-cli: ")
    assert posts == []
    assert History(home / "data" / "history.sqlite3").count() == 0
    assert cli.main(["jobs", "--json"], stdin=io.StringIO("")) == 0
    assert json.loads(capsys.readouterr().out) == []
