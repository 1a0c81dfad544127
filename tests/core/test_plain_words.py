"""Plain words for parameters and outputs: choice names, what applies, a job's settings in a
line, its own line without the task's description, and human names for its outputs."""

from __future__ import annotations

import pytest

from desktop.core.contract import ProviderConfig
from desktop.core.model import (
    InputRole,
    Job,
    JobSpec,
    JobState,
    Output,
    OutputKind,
    ParamSpec,
    ParamType,
    TaskSpec,
)
from desktop.core.plain_words import job_line, output_title, param_summary, readable
from desktop.providers.fitinview import TASKS as FITINVIEW_TASKS
from desktop.providers.local.provider import TASKS as LOCAL_TASKS
from desktop.providers.registry import PROVIDER_CLASSES, create_provider
from desktop.providers.virtualstaging import VirtualStagingProvider
from desktop.providers.vtryon import TASKS as VTRYON_TASKS

STAGING = VirtualStagingProvider().tasks[0]


def job(provider: str, task: str, params: dict[str, object] | None = None, *,
        labels: tuple[str, ...] = (), note: str = "") -> Job:
    outputs = tuple(Output(i, f"{i:064x}", "image/png", 10, label=label)
                    for i, label in enumerate(labels))
    return Job(id="j1", spec=JobSpec(provider, task, {}, dict(params or {})),
               state=JobState.SUCCEEDED, created_at=1.0, updated_at=2.0, outputs=outputs,
               note=note)


def test_choices_have_names_and_the_sent_value_stays_the_apis() -> None:
    room = STAGING.param("room_type")
    assert room is not None
    assert room.choice_title("living") == "Living room"
    assert room.choice_title("home_office") == "Home office"
    assert room.coerce("living") == "living"  # what is sent is unchanged
    style = STAGING.param("style")
    assert style is not None and style.choice_title("scandinavian") == "Scandinavian"
    sky = STAGING.param("sky")
    assert sky is not None and sky.choice_title("dusk") == "Dusk"


def test_room_types_added_in_settings_get_readable_names() -> None:
    provider = VirtualStagingProvider(room_types=("kids_room",))
    room = provider.tasks[0].param("room_type")
    assert room is not None and room.choice_title("kids_room") == "Kids room"


def test_the_sky_applies_only_to_day_to_dusk() -> None:
    sky = STAGING.param("sky")
    room = STAGING.param("room_type")
    assert sky is not None and room is not None
    defaults = STAGING.defaults()
    assert not sky.applies({}, defaults)  # the default render type is staging
    assert sky.applies({"type": "day-to-dusk"}, defaults)
    assert room.applies({}, defaults) and not room.applies({"type": "day-to-dusk"}, defaults)
    given = {"type": "staging", "sky": "golden", "room_type": "bed", "webhook_url": ""}
    assert STAGING.applicable(given) == {"type": "staging", "room_type": "bed",
                                         "webhook_url": ""}


def test_every_provider_parameter_has_a_label_and_one_line_of_help() -> None:
    for pid in PROVIDER_CLASSES:
        provider = create_provider(pid, ProviderConfig(base_url="https://example.invalid"))
        for task in provider.tasks:
            for spec in task.params:
                if pid == "vistoure" and task.id == "workflow":
                    continue  # built from the workflow's own manifest
                where = f"{pid}/{task.id}/{spec.name}"
                assert spec.title, where
                assert spec.help and "\n" not in spec.help, where
                assert len(spec.help) <= 140, f"{where}: {len(spec.help)} characters"
                assert not (spec.advanced and spec.required), where


@pytest.mark.parametrize(("name", "advanced"), [
    ("configs", True), ("config", True), ("result", True), ("webhook_url", True),
    ("type", False), ("room_type", False), ("variation_count", False)])
def test_rarely_needed_staging_parameters_are_advanced(name: str, advanced: bool) -> None:
    spec = STAGING.param(name)
    assert spec is not None and spec.advanced is advanced


def test_fitinview_seed_webhook_metadata_and_deprecated_hint_are_advanced() -> None:
    task = FITINVIEW_TASKS[0]
    assert {p.name for p in task.params if p.advanced} == {
        "style_hint", "seed", "metadata", "webhook_url"}


def test_a_jobs_settings_in_a_line() -> None:
    params = {"type": "staging", "room_type": "living", "style": "scandinavian",
              "remove_furniture": False, "sky": "dusk", "variation_count": 3, "result": "url"}
    assert param_summary(STAGING, params) == (
        "Furnish the room · Living room · Scandinavian · Variations 3")
    dusk = {"type": "day-to-dusk", "sky": "golden", "room_type": "living"}
    assert param_summary(STAGING, dusk) == "Day to dusk · Golden hour"
    assert param_summary(STAGING, {"type": "staging", "result": "optimized_url"}) == (
        "Furnish the room · Smaller web version")
    recolor = VTRYON_TASKS[0]
    assert param_summary(recolor, {"color_changes": [{"target": "blouse", "color": "teal"}],
                                   "image_quality": "4k"}) == (
        "Colour changes: blouse: teal · 4K")
    local = next(t for t in LOCAL_TASKS if t.id == "tryon")
    assert param_summary(local, {"scale": 1.0, "shadow": True}) == (
        "Garment scale 1 · Drop shadow")
    assert param_summary(None, {"a": 1}) == "a=1"  # no description: as stored


def test_the_tasks_description_is_never_a_jobs_line() -> None:
    local = next(t for t in LOCAL_TASKS if t.id == "tryon")
    assert job_line(job("local", "tryon", note=local.note), local) == ""
    assert job_line(job("virtualstaging", "staging", note=STAGING.note), STAGING) == ""
    said = "2 of 3 variations did not finish (no credits); the other 1 were downloaded."
    assert job_line(job("virtualstaging", "staging", note=said), STAGING) == said
    assert job_line(job("x", "y", note="Rendering"), None) == "Rendering"


def test_outputs_get_human_names() -> None:
    staged = job("virtualstaging", "staging", {"type": "staging"},
                 labels=("staging variation 1", "staging variation 2"))
    assert [output_title(staged, o) for o in staged.outputs] == [
        "Staged, variation 1", "Staged, variation 2"]
    one = job("virtualstaging", "staging", labels=("day-to-dusk variation 1",))
    assert output_title(one, one.outputs[0]) == "Dusk"
    removal = job("virtualstaging", "staging", {"type": "removal"},
                  labels=("staging variation 1",))
    assert output_title(removal, removal.outputs[0]) == "Furniture removed"
    for label in ("Try-on", "FitInView try-on"):
        tried = job("fitinview", "tryon", labels=(label,))
        assert output_title(tried, tried.outputs[0]) == "Try-on result"
    test_mode = job("fitinview", "tryon", labels=("FitInView try-on (test mode: stock image)",))
    assert output_title(test_mode, test_mode.outputs[0]) == (
        "Try-on result (test mode: stock image)")
    node = job("vistoure", "tryon", labels=("result_image",))
    assert output_title(node, node.outputs[0]) == "Try-on result"
    other = job("vistoure", "fabric", labels=("result_image", "Vton_Node"))
    assert [output_title(other, o) for o in other.outputs] == [
        "Fabric applied, 1", "Fabric applied, 2"]
    flow = job("vistoure", "workflow", labels=("result_tryon", "result_video"))
    assert [output_title(flow, o) for o in flow.outputs] == ["result_tryon", "result_video"]
    kept = job("local", "recolor", labels=("Recoloured",))
    assert output_title(kept, kept.outputs[0]) == "Recoloured"
    unnamed = job("x", "mystery", labels=("",))
    assert output_title(unnamed, unnamed.outputs[0]) == "Result"
    task = TaskSpec("mystery", "Mystery tool", (InputRole("image", "Image"),))
    raw = job("x", "mystery", labels=("out_file",))
    assert output_title(raw, raw.outputs[0], task) == "Mystery tool result"
    video = Job(id="v", spec=JobSpec("vistoure", "tryon"), state=JobState.SUCCEEDED,
                created_at=1, updated_at=1, outputs=(
                    Output(0, "0" * 64, "video/mp4", 1, kind=OutputKind.VIDEO,
                           label="result_image"),))
    assert output_title(video, video.outputs[0]) == "Try-on result (video)"


def test_readable() -> None:
    assert readable("result_image") == "Result image"
    assert readable("vtonNode") == "Vton node"


def test_a_spec_without_choice_names_shows_the_value() -> None:
    spec = ParamSpec("size", ParamType.CHOICE, choices=("1K", "2K"))
    assert spec.choice_title("2K") == "2K" and spec.label == "Size"
