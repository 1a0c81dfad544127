"""VistoureAI adapter against its emulator over real HTTP: every endpoint, every tool, workflows
built from their manifest, the house list of faults, full jobs through the JobEngine and the
CLI."""

from __future__ import annotations

import asyncio
import base64
import io
import json
import logging
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from desktop import cli
from desktop.core.assets import AssetStore
from desktop.core.engine import EnginePolicy, JobEngine
from desktop.core.imaging import sniff_mime
from desktop.core.model import (
    ErrorCode,
    InvalidInput,
    Job,
    JobSpec,
    JobState,
    OutputKind,
    ParamType,
)
from desktop.core.store import History
from desktop.providers import registry
from desktop.providers.base import (
    PreparedInput,
    PreparedJob,
    ProviderConfig,
    ProviderError,
    RemoteOutput,
    RemoteRef,
    RemoteState,
    RemoteStatus,
    TaskVariant,
)
from desktop.providers.vistoure import (
    TOOL_SPECS,
    TOOLS,
    VistoureProvider,
    input_titles,
    parse_manifest,
    parse_manifest_value,
)
from tests.emulators.kit import Fault, serve
from tests.emulators.vistoure import CLIP, LOOKBOOK, VistoureEmulator, expected_output
from tests.emulators.vistoure import TOOLS as EMU_TOOLS
from tests.fakes import png_bytes
from tests.refusals import refused_before_storing
from tests.support import (
    LEAKED_TOKEN,
    Sleeps,
    assert_no_secret,
    assert_request_log_is_clean,
    leaky_words,
    remote_provider,
    run,
)

KEY = VistoureEmulator.default_key
PERSON = png_bytes((200, 150, 120), (96, 128))
GARMENT = png_bytes((20, 160, 60), (64, 64))
RUN = "/api/v3/run"
STATUS = "/api/v3/status/"
STUDIO = "Professional Studio Portrait"
CUSTOM = "My Custom Model Workflow"


def provider(base: str | None, key: str | None = KEY, *, sleeps: Sleeps | None = None,
             read: float = 5.0, **kw: Any) -> VistoureProvider:
    return remote_provider(VistoureProvider, base, key, sleeps=sleeps, read=read, **kw)


def item(role: str, data: bytes, url: str | None = None) -> PreparedInput:
    return PreparedInput(role=role, data=data, mime="image/png", width=1, height=1,
                         sha256=f"{role}-{len(data)}", source_url=url, filename=f"{role}.png")


def tryon_job(**kw: Any) -> PreparedJob:
    inputs = kw.pop("inputs", {"person": [item("person", PERSON)],
                               "garment": [item("garment", GARMENT)]})
    return PreparedJob(job_id="local-1", task=kw.pop("task", "tryon"), inputs=inputs,
                       params=kw.pop("params", {}))


async def until_done(p: VistoureProvider, ref: RemoteRef, limit: int = 300) -> RemoteStatus:
    for _ in range(limit):
        status = await p.poll(ref)
        if status.state.terminal:
            return status
        await asyncio.sleep(0.01)
    raise AssertionError("the run never finished")


async def submit_and_collect(p: VistoureProvider, pjob: PreparedJob | None = None
                             ) -> tuple[RemoteRef, RemoteStatus, list[bytes]]:
    try:
        ref = await p.submit(pjob or tryon_job())
        status = await until_done(p, ref)
        data = [await p.fetch(o) for o in status.outputs]
        return ref, status, data
    finally:
        await p.aclose()


# -- happy paths -------------------------------------------------------------------------------
def test_tryon_submit_poll_fetch_over_the_wire() -> None:
    emu = VistoureEmulator(job_delay=0.1)
    with serve(emu) as base:
        ref, status, data = run(submit_and_collect(provider(base)))
    assert ref.remote_id.startswith("wr_") and ref.data == {"type": "node",
                                                              "target": "virtual_tryon"}
    assert status.state == RemoteState.SUCCEEDED and status.progress == 1.0
    [output] = status.outputs
    assert output.label == "result_image" and output.kind == OutputKind.IMAGE
    assert data == [expected_output(ref.remote_id, "virtual_tryon", [PERSON, GARMENT])]
    [post] = emu.requests_to("POST", RUN)
    assert post.headers["x-api-key"] == KEY and "authorization" not in post.headers
    assert "idempotency-key" not in post.headers
    body = post.json()
    assert body["type"] == "node" and body["target"] == "virtual_tryon"
    assert base64.b64decode(body["input"]["model_image"]) == PERSON
    assert base64.b64decode(body["input"]["garment_image"]) == GARMENT
    polls = emu.requests_to("GET", STATUS)
    assert len(polls) >= 2 and all(r.path == f"{STATUS}{ref.remote_id}" for r in polls)


def test_running_status_reports_nodes() -> None:
    emu = VistoureEmulator(job_delay=30)

    async def main() -> RemoteStatus:
        p = provider(base)
        try:
            return await p.poll(await p.submit(tryon_job()))
        finally:
            await p.aclose()

    with serve(emu) as base:
        status = run(main())
    assert status.state == RemoteState.QUEUED and status.progress == 0.0
    assert status.message == "Waiting to start"


def test_per_node_progress_of_a_workflow() -> None:
    """The nodes' states become the job's progress and a plain line: two of four nodes done
    and the third running is 0.625 and "Node 3 of 4: upscaling"."""
    emu = VistoureEmulator(job_delay=40)  # four nodes, ten seconds each
    pjob = PreparedJob("local-p", "workflow", {
        "Dress_Model.model_image": [item("Dress_Model.model_image", PERSON)],
        "Dress_Model.garment_image": [item("Dress_Model.garment_image", GARMENT)]},
        {"workflow": LOOKBOOK})

    async def main() -> list[RemoteStatus]:
        p = provider(base)
        try:
            ref = await p.submit(pjob)
            seen = []
            for elapsed in (1.0, 7.0, 25.0, 35.0, 40.0):
                emu.runs[ref.remote_id].created = time.monotonic() - elapsed
                seen.append(await p.poll(ref))
            return seen
        finally:
            await p.aclose()

    with serve(emu) as base:
        statuses = run(main())
    assert [(s.state, s.progress, s.message) for s in statuses] == [
        (RemoteState.QUEUED, 0.0, "Waiting to start (4 nodes)"),
        (RemoteState.RUNNING, 0.125, "Node 1 of 4: trying on"),
        (RemoteState.RUNNING, 0.625, "Node 3 of 4: upscaling"),
        (RemoteState.RUNNING, 0.875, "Node 4 of 4: making the video"),
        (RemoteState.SUCCEEDED, 1.0, "All 4 nodes done"),
    ]


@pytest.mark.parametrize("tool", ["virtual_tryon_pro", "virtual_tryon_pro_fit"])
def test_pro_variants_are_a_tool_parameter(tool: str) -> None:
    emu = VistoureEmulator(job_delay=0.0)
    with serve(emu) as base:
        _, status, _ = run(submit_and_collect(provider(base),
                                              tryon_job(params={"tool": tool})))
    assert status.state == RemoteState.SUCCEEDED
    body = emu.requests_to("POST", RUN)[0].json()
    assert body["target"] == tool and "tool" not in body["input"]


@pytest.mark.parametrize("spec", TOOL_SPECS, ids=[s.task for s in TOOL_SPECS])
def test_every_tool_runs(spec: Any) -> None:
    emu = VistoureEmulator(job_delay=0.0)
    images = {"person": PERSON, "garment": GARMENT, "image": png_bytes((9, 9, 200), (80, 60))}
    inputs = {r.role: [item(r.role, images[r.role])] for r in spec.inputs if r.min_count}
    pjob = PreparedJob("local-2", spec.task, inputs, {"prompt": "red dress", "scale": "2"})
    with serve(emu) as base:
        ref, status, data = run(submit_and_collect(provider(base), pjob))
    assert status.state == RemoteState.SUCCEEDED, status.error
    body = emu.requests_to("POST", RUN)[0].json()
    assert body["target"] == spec.tool
    assert body["input"]["prompt"] == "red dress" and body["input"]["scale"] == 2
    for role, field in spec.fields.items():
        if role in inputs:
            assert base64.b64decode(body["input"][field]) == images[role]
    video = spec.tool == "video"
    assert status.outputs[0].kind == (OutputKind.VIDEO if video else OutputKind.IMAGE)
    sent = [images[r.role] for r in spec.inputs if r.role in inputs]
    if not sent:  # virtual_model without a garment: the emulator invents a base image
        assert data[0][:8] == b"\x89PNG\r\n\x1a\n"
    else:
        assert set(emu.runs[ref.remote_id].images) == set(sent)
        assert data == [expected_output(ref.remote_id, spec.tool,
                                        emu.runs[ref.remote_id].images, video=video)]
    if video:
        assert sniff_mime(data[0]) == "video/mp4"


def test_all_twelve_tools_are_offered() -> None:
    p = provider("https://x.test")
    offered = {s.tool for s in TOOL_SPECS} | set(p.task("tryon").param("tool").choices)
    assert offered == set(TOOLS) == set(EMU_TOOLS)
    for common in ("tryon", "upscale", "background_removal", "reframe"):
        assert p.task(common) is not None
    assert all(t.free_form_params for t in p.tasks)
    assert p.task("video").output_kind == OutputKind.VIDEO


def test_public_urls_are_passed_on_as_is() -> None:
    emu = VistoureEmulator(job_delay=0.0)
    with serve(emu) as base:
        person_url = emu.result_url(PERSON, "image/png")
        pjob = tryon_job(inputs={"person": [item("person", PERSON, person_url)],
                                 "garment": [item("garment", GARMENT)]})
        ref, _, data = run(submit_and_collect(provider(base), pjob))
    body = emu.requests_to("POST", RUN)[0].json()
    assert body["input"]["model_image"] == person_url
    assert data == [expected_output(ref.remote_id, "virtual_tryon", [PERSON, GARMENT])]


def test_a_url_on_another_host_is_fetched_by_the_service() -> None:
    emu, elsewhere = VistoureEmulator(job_delay=0.0), VistoureEmulator()
    with serve(elsewhere), serve(emu) as base:
        garment_url = elsewhere.result_url(GARMENT, "image/png")
        pjob = tryon_job(inputs={"person": [item("person", PERSON)],
                                 "garment": [item("garment", GARMENT, garment_url)]})
        ref, _, data = run(submit_and_collect(provider(base), pjob))
        elsewhere.results.expire_all()
        with pytest.raises(ProviderError) as caught:
            run(submit_and_collect(provider(base), pjob))
    assert emu.requests_to("POST", RUN)[0].json()["input"]["garment_image"] == garment_url
    assert data == [expected_output(ref.remote_id, "virtual_tryon", [PERSON, GARMENT])]
    # The service could not fetch the expired link: a 400 with its sentence, nothing run.
    assert caught.value.code == ErrorCode.INVALID_INPUT
    assert "Could not fetch 'garment_image'" in caught.value.message
    assert len(emu.runs) == 1


def test_data_uri_encoding_setting() -> None:
    emu = VistoureEmulator(job_delay=0.0)
    with serve(emu) as base:
        run(submit_and_collect(provider(base, image_encoding="data_uri")))
    body = emu.requests_to("POST", RUN)[0].json()
    assert body["input"]["model_image"].startswith("data:image/png;base64,")
    p = VistoureProvider.from_config(ProviderConfig(base_url="https://x.test",
                                                    extra={"image_encoding": "data_uri"}))
    assert p.image_encoding == "data_uri"


# -- workflows ---------------------------------------------------------------------------------
def test_list_workflows_and_discovery() -> None:
    emu = VistoureEmulator()

    async def main() -> tuple[list[dict[str, Any]], dict[str, Any], Any]:
        p = provider(base)
        try:
            return (await p.list_workflows(), await p.workflow_info(CUSTOM),
                    await p.workflow_task(STUDIO))
        finally:
            await p.aclose()

    with serve(emu) as base:
        listed, info, task = run(main())
    assert [(w["id"], w["name"], w["system_workflow"]) for w in listed] == [
        (1, STUDIO, True), (12, CUSTOM, False), (14, LOOKBOOK, False)]
    assert info["inputs"]["mandatory"] == {
        "Vton_Node.model_image": "<type:image , default value : null>",
        "Vton_Node.garment_image": "<type:image , default value : null>"}
    # The name has spaces: it travels URL-encoded.
    assert emu.requests_to("GET", "/api/v3/workflow/")[0].path == f"/api/v3/workflow/{CUSTOM}"
    assert all(r.headers["x-api-key"] == KEY for r in emu.requests)
    assert task.id == "workflow" and task.title == f"Workflow: {STUDIO}"
    params = {p.name: p for p in task.params}
    assert params["workflow"].default == STUDIO and params["workflow"].required
    # The image input is an input of its own, named after it, not a text parameter.
    assert "User_Garment.garment_image" not in params
    [garment] = task.inputs
    assert (garment.role, garment.title, garment.min_count, garment.max_count) == (
        "User_Garment.garment_image", "Garment image", 1, 1)
    assert "Mandatory image input" in garment.help
    category = params["User_Garment.category"]
    assert (category.type, category.default, category.required) == (
        ParamType.STRING, "tops (upper-body)", False)
    factor = params["Upscale.upscale_factor"]
    assert (factor.type, factor.default) == (ParamType.INTEGER, 2)
    # Linked inputs are set by the orchestrator: not parameters.
    assert "User_Garment.model_image" not in params and "Upscale.image" not in params
    assert "User_Garment.model_image" in task.note and "result_tryon" in task.note
    assert task.validate({"User_Garment.garment_image": ["x"]},
                         {"workflow": STUDIO, "Upscale.upscale_factor": "4"})[
        "Upscale.upscale_factor"] == 4
    with pytest.raises(InvalidInput, match=r"needs 1 User_Garment\.garment_image image"):
        task.validate({}, {"workflow": STUDIO})


def test_saved_workflows_are_task_variants() -> None:
    """The window lists each workflow as a task and builds its form from the manifest."""
    emu = VistoureEmulator()

    async def main() -> tuple[list[TaskVariant], Any]:
        p = provider(base)
        try:
            variants = await p.task_variants()
            return variants, await p.variant_task(variants[1])
        finally:
            await p.aclose()

    with serve(emu) as base:
        variants, task = run(main())
    assert [(v.task_id, v.value, v.title, v.param) for v in variants] == [
        ("workflow", STUDIO, f"{STUDIO} (template)", "workflow"),
        ("workflow", CUSTOM, f"{CUSTOM} (workflow)", "workflow"),
        ("workflow", LOOKBOOK, f"{LOOKBOOK} (workflow)", "workflow")]
    assert task.title == f"Workflow: {CUSTOM}"
    assert task.param("workflow").default == CUSTOM
    assert task.param("Vton_Node.garment_image") is None
    assert [(r.role, r.title, r.min_count) for r in task.inputs] == [
        ("Vton_Node.model_image", "Model image", 1),
        ("Vton_Node.garment_image", "Garment image", 1)]


def test_pane_titles_name_the_node_only_where_two_share_a_parameter() -> None:
    manifest = parse_manifest({"inputs": {
        "mandatory": {"Vton.image": "<type:image , default value : null>",
                      "Upscale.image": "<type:image , default value : null>",
                      "my_garment": "<type:image , default value : null>"},
        "optional": {"Scene.background_photo": "<type:image , default value : null>",
                     "Scene.prompt": "<type:str , default value : 'x'>"},
        "linked": {"Clip.image": "Upscale.result_image"}}}, "Two images")
    assert input_titles(manifest) == {"Vton.image": "Image (Vton)",
                                      "Upscale.image": "Image (Upscale)",
                                      "my_garment": "My garment",
                                      "Scene.background_photo": "Background photo"}


def test_workflow_task_from_the_documented_manifest_forms() -> None:
    assert parse_manifest_value("<type:image , default value : null>") == ("image", None)
    assert parse_manifest_value("<type:str , default value : 'tops (upper-body)'>") == (
        "str", "tops (upper-body)")
    assert parse_manifest_value("<type:float , default value : 0.8>") == ("float", 0.8)
    assert parse_manifest_value("<type:bool , default value : True>") == ("bool", True)
    assert parse_manifest_value("something else") == ("str", None)


def test_workflow_run_fills_images_and_overrides() -> None:
    emu = VistoureEmulator(job_delay=0.05)
    pjob = PreparedJob("local-3", "workflow", {"garment": [item("garment", GARMENT)]},
                       {"workflow": STUDIO, "Upscale.upscale_factor": "4",
                        "Model_Gen.gender": "male"})
    with serve(emu) as base:
        ref, status, data = run(submit_and_collect(provider(base), pjob))
    body = emu.requests_to("POST", RUN)[0].json()
    assert body["type"] == "workflow" and body["target"] == STUDIO
    assert body["input"]["Upscale.upscale_factor"] == 4
    assert body["input"]["Model_Gen.gender"] == "male"
    assert base64.b64decode(body["input"]["User_Garment.garment_image"]) == GARMENT
    assert ref.data["outputs"] == {"result_tryon": "Upscale.result_image"}
    [output] = status.outputs
    assert output.label == "result_tryon"
    assert data == [expected_output(ref.remote_id, "Upscale", [GARMENT])]
    assert len(emu.requests_to("GET", "/api/v3/workflow/")) == 1


def test_workflow_with_named_outputs_and_a_video() -> None:
    emu = VistoureEmulator(job_delay=0.0)
    pjob = PreparedJob("local-4", "workflow", {"person": [item("person", PERSON)],
                                               "garment": [item("garment", GARMENT)]},
                       {"workflow": CUSTOM, "Vton_Node.garment_image": "@garment",
                        "Vton_Node.strength": "0.5"})
    with serve(emu) as base:
        ref, status, data = run(submit_and_collect(provider(base), pjob))
    body = emu.requests_to("POST", RUN)[0].json()["input"]
    assert base64.b64decode(body["Vton_Node.garment_image"]) == GARMENT
    assert base64.b64decode(body["Vton_Node.model_image"]) == PERSON  # the leftover image
    assert body["Vton_Node.strength"] == 0.5
    assert [(o.label, o.kind) for o in status.outputs] == [
        ("result_tryon", OutputKind.IMAGE), ("result_video", OutputKind.VIDEO)]
    images = emu.runs[ref.remote_id].images
    assert data == [expected_output(ref.remote_id, "Vton_Node", images),
                    expected_output(ref.remote_id, "Clip", images, video=True)]
    assert data[1] == CLIP and status.message == "All 2 nodes done"


@pytest.mark.parametrize(("params", "inputs", "needle"), [
    ({"workflow": STUDIO}, {}, "needs: User_Garment.garment_image"),
    ({"workflow": STUDIO, "User_Garment.model_image": "https://x.test/a.png"},
     {"garment": 1}, "is linked"),
    ({"workflow": STUDIO, "Nope.param": "1"}, {"garment": 1}, "has no input 'Nope.param'"),
    ({"workflow": STUDIO, "Upscale.upscale_factor": "big"}, {"garment": 1}, "whole number"),
    ({"workflow": STUDIO}, {"garment": 1, "image": 1}, "2 image(s) were given"),
    ({"workflow": STUDIO, "User_Garment.garment_image": "@image:2"}, {"image": 1},
     "1 image image(s)"),
])
def test_workflow_inputs_are_checked_before_any_run(params: dict[str, Any],
                                                    inputs: dict[str, int], needle: str) -> None:
    emu = VistoureEmulator()
    pjob = PreparedJob("local-5", "workflow",
                       {r: [item(r, GARMENT)] * n for r, n in inputs.items()}, params)
    with serve(emu) as base, pytest.raises(InvalidInput) as caught:
        run(submit_and_collect(provider(base), pjob))
    assert needle in str(caught.value)
    assert emu.requests_to("POST", RUN) == []


def test_unknown_workflow_is_not_found() -> None:
    emu = VistoureEmulator()
    pjob = PreparedJob("local-6", "workflow", {}, {"workflow": "Gone"})
    with serve(emu) as base, pytest.raises(ProviderError) as caught:
        run(submit_and_collect(provider(base), pjob))
    assert caught.value.code == ErrorCode.NOT_FOUND and "no workflow named 'Gone'" in str(
        caught.value)
    assert emu.requests_to("POST", RUN) == []


# -- validation before any network call -------------------------------------------------------
@pytest.mark.parametrize(("pjob", "needle"), [
    (tryon_job(task="recolor"), "no task 'recolor'"),
    (tryon_job(inputs={"person": [item("person", PERSON)]}), "garment"),
    (tryon_job(params={"tool": "upscale"}), "must be one of"),
    (tryon_job(params={"model_image": "https://x.test/p.png"}), "do not also give"),
    (PreparedJob("j", "workflow", {}, {}), "needs the parameter 'workflow'"),
    (tryon_job(inputs={"person": [item("person", b"x" * (10 * 1024 * 1024 + 1))],
                       "garment": [item("garment", GARMENT)]}), "larger than"),
])
def test_bad_input_is_refused_before_any_request(pjob: PreparedJob, needle: str) -> None:
    emu = VistoureEmulator()
    with serve(emu) as base, pytest.raises((ProviderError, InvalidInput)) as caught:
        run(submit_and_collect(provider(base), pjob))
    exc = caught.value
    if isinstance(exc, ProviderError):
        assert exc.code == ErrorCode.INVALID_INPUT, exc
    assert needle in str(exc)
    assert emu.requests == []


def test_missing_key_and_base_url_send_nothing() -> None:
    emu = VistoureEmulator()
    with serve(emu) as base:
        with pytest.raises(ProviderError) as no_key:
            run(submit_and_collect(provider(base, key=None)))
        with pytest.raises(ProviderError) as no_base:
            run(submit_and_collect(provider(None)))
    assert no_key.value.code == ErrorCode.MISSING_KEY
    assert no_base.value.code == ErrorCode.NOT_CONFIGURED
    assert "RESTYLE_VISTOURE_BASE_URL" in no_base.value.message
    assert emu.requests == []


def test_from_config_and_class_data() -> None:
    p = VistoureProvider.from_config(ProviderConfig(base_url="https://x.test",
                                                    key_source=lambda: "abc"))
    assert p.client.base_url == "https://x.test" and "abc" not in repr(p)
    assert (p.id, p.needs_key, p.needs_base_url, p.default_base_url, p.accepts_urls) == (
        "vistoure", True, True, None, True)
    assert not (p.supports_cancel or p.supports_reconcile or p.supports_account)


def test_emulator_validates_as_documented() -> None:
    emu = VistoureEmulator(job_delay=0.0)
    auth = {"X-API-KEY": KEY}
    b64 = base64.b64encode(PERSON).decode()
    good = {"type": "node", "target": "upscale", "input": {"image": b64}}
    with serve(emu) as base, httpx.Client(base_url=base) as client:
        assert client.post(RUN, json=good).status_code == 401
        wrong = client.post(RUN, json=good, headers={"X-API-KEY": "nope"})
        assert wrong.status_code == 401 and wrong.json()["error"] == "Unauthorized"
        assert client.post(RUN, json=good, headers={"Authorization": f"Bearer {KEY}"}
                           ).status_code == 401
        assert client.get("/api/v3/workflows").status_code == 401
        for bad, needle in [
            ({**good, "type": "dag"}, "'type'"),
            ({**good, "target": "paint"}, "Unknown tool"),
            ({"type": "node", "target": "upscale"}, "'input'"),
            ({**good, "input": {}}, "Missing mandatory parameter 'image'"),
            ({**good, "input": {"image": "not base64 !!"}}, "valid base64"),
            ({**good, "input": {"image": base64.b64encode(b"junk").decode()}}, "valid image"),
            ({"type": "workflow", "target": STUDIO, "input": {}}, "Missing mandatory"),
            ({"type": "workflow", "target": STUDIO,
              "input": {"User_Garment.garment_image": b64, "X.y": 1}}, "Unknown input"),
        ]:
            answer = client.post(RUN, json=bad, headers=auth)
            assert answer.status_code == 400 and needle in answer.json()["error"], bad
        gone = client.post(RUN, headers=auth, json={"type": "workflow", "target": "Nope",
                                                    "input": {}})
        assert gone.status_code == 404
        linked = client.post(RUN, headers=auth, json={
            "type": "workflow", "target": STUDIO,
            "input": {"User_Garment.garment_image": b64, "Upscale.image": b64}})
        assert linked.status_code == 200 and emu.warnings == [
            "ignored linked override Upscale.image"]
        ok = client.post(RUN, json=good, headers=auth).json()
        assert ok["error"] is None
        assert client.get(f"{STATUS}{ok['id']}", headers=auth).json()["overall_status"] == (
            "succeeded")
        assert client.get(f"{STATUS}wr_nope", headers=auth).status_code == 404
        assert client.get("/api/v3/workflow/Nope", headers=auth).status_code == 404


# -- submit faults -----------------------------------------------------------------------------
def test_wrong_key_is_auth_failed() -> None:
    emu = VistoureEmulator()
    with serve(emu) as base, pytest.raises(ProviderError) as caught:
        run(submit_and_collect(provider(base, key="vk-WRONG-123456")))
    assert caught.value.code == ErrorCode.AUTH_FAILED and caught.value.http_status == 401
    assert "vk-WRONG-123456" not in caught.value.message
    assert len(emu.requests_to("POST", RUN)) == 1


def test_insufficient_tokens_is_final() -> None:
    emu = VistoureEmulator(tokens=1, job_delay=0.0)
    sleeps = Sleeps()
    with serve(emu) as base:
        run(submit_and_collect(provider(base, sleeps=sleeps)))  # uses the last token
        with pytest.raises(ProviderError) as caught:
            run(submit_and_collect(provider(base, sleeps=sleeps)))
        # The same word under another status (a 429 or a 200 with an error) is final too.
        emu.tokens = None
        emu.inject(Fault("status", method="POST", path=RUN, status=429, times=5,
                         body={"id": None, "error": "InsufficientTokens"}))
        with pytest.raises(ProviderError) as as_429:
            run(submit_and_collect(provider(base, sleeps=sleeps)))
        emu.inject(Fault("status", method="POST", path=RUN, status=200,
                         body={"id": None, "error": "InsufficientTokens"}))
        with pytest.raises(ProviderError) as as_200:
            run(submit_and_collect(provider(base, sleeps=sleeps)))
    for error in (caught.value, as_429.value, as_200.value):
        assert error.code == ErrorCode.INSUFFICIENT_CREDITS, error
        assert error.provider_code == "InsufficientTokens"
        assert "Top up" in error.message
    assert caught.value.http_status == 402 and "needs 1 tokens; 0 left" in caught.value.message
    assert len(emu.requests_to("POST", RUN)) == 4 and sleeps.waits == []


def test_a_run_refused_in_a_200_answer() -> None:
    emu = VistoureEmulator()
    emu.inject(Fault("status", method="POST", path=RUN, status=200,
                     body={"id": None, "error": "Workflow graph has a cycle"}))
    with serve(emu) as base, pytest.raises(ProviderError) as caught:
        run(submit_and_collect(provider(base)))
    assert caught.value.code == ErrorCode.INVALID_INPUT
    assert "Workflow graph has a cycle" in caught.value.message


def test_rate_limit_on_submit_waits_and_retries() -> None:
    emu = VistoureEmulator(job_delay=0.0)
    emu.inject(Fault("status", method="POST", path=RUN, status=429,
                     body={"error": "Too many requests"}, headers={"Retry-After": "3"}))
    sleeps = Sleeps()
    with serve(emu) as base:
        _, status, _ = run(submit_and_collect(provider(base, sleeps=sleeps)))
    assert status.state == RemoteState.SUCCEEDED
    assert sleeps.waits == [3.0] and len(emu.requests_to("POST", RUN)) == 2
    assert len(emu.runs) == 1


def test_rate_limit_beyond_retries_says_when() -> None:
    emu = VistoureEmulator()
    emu.inject(Fault("status", method="POST", path=RUN, status=429, times=10,
                     body={"error": "Too many requests"}, headers={"Retry-After": "2"}))
    with serve(emu) as base, pytest.raises(ProviderError) as caught:
        run(submit_and_collect(provider(base, max_retries=2)))
    assert caught.value.code == ErrorCode.RATE_LIMITED and caught.value.retry_after == 2.0
    assert len(emu.requests_to("POST", RUN)) == 3


def test_503_on_submit_is_retried() -> None:
    emu = VistoureEmulator(job_delay=0.0)
    emu.inject(Fault("status", method="POST", path=RUN, status=503))
    sleeps = Sleeps()
    with serve(emu) as base:
        _, status, _ = run(submit_and_collect(provider(base, sleeps=sleeps)))
    assert status.state == RemoteState.SUCCEEDED and len(sleeps.waits) == 1
    assert len(emu.requests_to("POST", RUN)) == 2


@pytest.mark.parametrize(("fault", "code"), [
    (Fault("status", method="POST", path=RUN, status=500), ErrorCode.PROVIDER_UNAVAILABLE),
    (Fault("status", method="POST", path=RUN, status=502), ErrorCode.PROVIDER_UNAVAILABLE),
    (Fault("html", method="POST", path=RUN), ErrorCode.PROVIDER_UNAVAILABLE),
    (Fault("drop", method="POST", path=RUN), ErrorCode.NETWORK),
    (Fault("slow", method="POST", path=RUN, delay=1.5), ErrorCode.NETWORK),
], ids=["500", "502", "502-html", "drop", "slow"])
def test_unknown_outcome_of_submit_is_never_repeated(fault: Fault, code: ErrorCode) -> None:
    emu = VistoureEmulator()
    emu.inject(fault)
    sleeps = Sleeps()
    with serve(emu) as base, pytest.raises(ProviderError) as caught:
        run(submit_and_collect(provider(base, sleeps=sleeps, read=0.3)))
    assert caught.value.code == code, caught.value
    assert caught.value.unknown_outcome, caught.value
    assert len(emu.requests_to("POST", RUN)) == 1 and sleeps.waits == []
    assert emu.requests_to("GET", STATUS) == []


def test_malformed_submit_answer_is_not_repeated() -> None:
    emu = VistoureEmulator()
    emu.inject(Fault("malformed_json", method="POST", path=RUN))
    with serve(emu) as base, pytest.raises(ProviderError) as caught:
        run(submit_and_collect(provider(base)))
    assert caught.value.code == ErrorCode.PROVIDER_UNAVAILABLE
    assert caught.value.unknown_outcome  # a 2xx: the job may well exist
    assert "may have created the job" in caught.value.message
    assert "try again" not in caught.value.message
    assert len(emu.requests_to("POST", RUN)) == 1


# -- poll faults -------------------------------------------------------------------------------
@pytest.mark.parametrize("fault", [
    Fault("status", method="GET", path=STATUS, status=500),
    Fault("status", method="GET", path=STATUS, status=502),
    Fault("status", method="GET", path=STATUS, status=503),
    Fault("html", method="GET", path=STATUS),
    Fault("status", method="GET", path=STATUS, status=429, headers={"Retry-After": "1"},
          body={"error": "Too many requests"}),
    Fault("drop", method="GET", path=STATUS),
    Fault("slow", method="GET", path=STATUS, delay=1.5),
], ids=["500", "502", "503", "502-html", "429", "drop", "slow"])
def test_poll_faults_are_retried(fault: Fault) -> None:
    emu = VistoureEmulator(job_delay=0.0)
    emu.inject(fault)
    sleeps = Sleeps()
    with serve(emu) as base:
        ref, status, data = run(submit_and_collect(provider(base, sleeps=sleeps, read=0.3)))
    assert status.state == RemoteState.SUCCEEDED
    assert data == [expected_output(ref.remote_id, "virtual_tryon", [PERSON, GARMENT])]
    assert len(emu.requests_to("GET", STATUS)) == 2 and len(sleeps.waits) == 1
    if fault.status == 429:
        assert sleeps.waits == [1.0]


def test_malformed_status_is_a_transient_error() -> None:
    emu = VistoureEmulator(job_delay=0.0)

    async def main() -> tuple[ProviderError, RemoteStatus]:
        p = provider(base)
        try:
            ref = await p.submit(tryon_job())
            emu.inject(Fault("malformed_json", method="GET", path=STATUS))
            with pytest.raises(ProviderError) as caught:
                await p.poll(ref)
            return caught.value, await p.poll(ref)
        finally:
            await p.aclose()

    with serve(emu) as base:
        error, status = run(main())
    assert error.code == ErrorCode.PROVIDER_UNAVAILABLE and "malformed" in error.message
    assert status.state == RemoteState.SUCCEEDED


def test_unknown_run_is_not_found() -> None:
    emu = VistoureEmulator()

    async def main() -> ProviderError:
        p = provider(base)
        try:
            with pytest.raises(ProviderError) as caught:
                await p.poll(RemoteRef("wr_missing"))
            return caught.value
        finally:
            await p.aclose()

    with serve(emu) as base:
        error = run(main())
    assert error.code == ErrorCode.NOT_FOUND and "no run wr_missing" in error.message
    assert len(emu.requests_to("GET", STATUS)) == 1


@pytest.mark.parametrize(("error", "code", "pcode", "words"), [
    ("Generation failed: face not detected", ErrorCode.JOB_FAILED, None,
     "face not detected"),
    ({"code": "NSFW_CONTENT", "message": "Unsafe image"}, ErrorCode.JOB_FAILED,
     "NSFW_CONTENT", "Unsafe image"),
    ("InsufficientTokens", ErrorCode.INSUFFICIENT_CREDITS, "InsufficientTokens", "tokens"),
])
def test_a_failing_node(error: Any, code: ErrorCode, pcode: str | None, words: str) -> None:
    emu = VistoureEmulator(job_delay=0.0)
    emu.fail_next(error=error)
    with serve(emu) as base:
        _, status, data = run(submit_and_collect(provider(base)))
    assert status.state == RemoteState.FAILED and data == []
    assert status.error is not None
    assert status.error.code == code and status.error.provider_code == pcode
    assert words in status.error.message
    assert "in node virtual_tryon (virtual_tryon)" in status.error.message


def test_a_failing_workflow_node_is_named() -> None:
    emu = VistoureEmulator(job_delay=0.0)
    emu.fail_next(node="Clip", error="Video encoder crashed")
    pjob = PreparedJob("local-7", "workflow", {"person": [item("person", PERSON)],
                                               "garment": [item("garment", GARMENT)]},
                       {"workflow": CUSTOM})
    with serve(emu) as base:
        _, status, _ = run(submit_and_collect(provider(base), pjob))
    assert status.state == RemoteState.FAILED
    assert "in node Clip (video)" in status.error.message
    assert "Video encoder crashed" in status.error.message


# -- downloads ---------------------------------------------------------------------------------
def test_expired_result_url_is_result_unavailable_and_not_retried() -> None:
    emu = VistoureEmulator(job_delay=0.0)

    async def main() -> ProviderError:
        p = provider(base)
        try:
            status = await until_done(p, await p.submit(tryon_job()))
            emu.results.expire_all()
            with pytest.raises(ProviderError) as caught:
                await p.fetch(status.outputs[0])
            return caught.value
        finally:
            await p.aclose()

    with serve(emu) as base:
        error = run(main())
    assert error.code == ErrorCode.RESULT_UNAVAILABLE and error.http_status == 403
    assert len(emu.requests_to("GET", "/results/")) == 1


def test_truncated_download_is_retried_then_given_up() -> None:
    emu = VistoureEmulator(job_delay=0.0)
    emu.inject(Fault("truncate", method="GET", path="/results/"))
    with serve(emu) as base:
        ref, _, data = run(submit_and_collect(provider(base)))
        assert data == [expected_output(ref.remote_id, "virtual_tryon", [PERSON, GARMENT])]
        assert len(emu.requests_to("GET", "/results/")) == 2
        emu.inject(Fault("truncate", method="GET", path="/results/", times=10))
        with pytest.raises(ProviderError) as caught:
            run(submit_and_collect(provider(base, max_retries=2)))
    assert caught.value.code == ErrorCode.RESULT_UNAVAILABLE
    assert "breaking off" in caught.value.message


def test_fetch_without_anything_to_fetch() -> None:
    p = provider("https://x.test")
    with pytest.raises(ProviderError) as caught:
        run(p.fetch(RemoteOutput()))
    assert caught.value.code == ErrorCode.RESULT_UNAVAILABLE


# -- whole jobs through the engine -------------------------------------------------------------
def engine_run(tmp_path: Path, base: str, spec: JobSpec | None = None, **kw: Any) -> Job:
    tmp_path.mkdir(parents=True, exist_ok=True)
    person, garment = tmp_path / "person.png", tmp_path / "garment.png"
    person.write_bytes(PERSON)
    garment.write_bytes(GARMENT)
    history = History(tmp_path / "history.sqlite3")
    assets = AssetStore(tmp_path / "assets")
    p = provider(base, **kw)
    policy = EnginePolicy(jitter=0.0, poll_intervals={"vistoure": 0.02},
                          poll_backoff_base=0.01, poll_backoff_cap=0.02,
                          download_backoff_base=0.01, download_backoff_cap=0.02)
    spec = spec or JobSpec(provider="vistoure", task="tryon", inputs={
        "person": [str(person)], "garment": [str(garment)]})

    async def main() -> Job:
        engine = JobEngine(history, assets, lambda _pid: p, policy=policy)
        try:
            return await engine.run(spec)
        finally:
            await engine.aclose()

    return run(main())


def test_engine_runs_a_job_to_a_stored_result(tmp_path: Path,
                                              caplog: pytest.LogCaptureFixture) -> None:
    emu = VistoureEmulator(job_delay=0.05)
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="restyle.http")
    with serve(emu) as base:
        done = engine_run(tmp_path, base)
    assert done.state == JobState.SUCCEEDED, done.error
    assert done.remote_id in emu.runs
    [output] = done.outputs
    stored = AssetStore(tmp_path / "assets").path_for(output.sha256, output.mime).read_bytes()
    assert stored == expected_output(done.remote_id, "virtual_tryon", [PERSON, GARMENT])
    assert (output.width, output.height, output.label) == (96, 128, "result_image")
    assert_request_log_is_clean(caplog.records, KEY, RUN)
    assert KEY not in caplog.text
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert KEY.encode() not in path.read_bytes(), path


def test_engine_stores_a_workflow_video(tmp_path: Path) -> None:
    emu = VistoureEmulator(job_delay=0.0)
    (tmp_path / "in").mkdir()
    person, garment = tmp_path / "in" / "p.png", tmp_path / "in" / "g.png"
    person.write_bytes(PERSON)
    garment.write_bytes(GARMENT)
    spec = JobSpec(provider="vistoure", task="workflow",
                   inputs={"person": [str(person)], "garment": [str(garment)]},
                   params={"workflow": CUSTOM})
    with serve(emu) as base:
        done = engine_run(tmp_path, base, spec)
    assert done.state == JobState.SUCCEEDED, done.error
    image, video = done.outputs
    assert (image.kind, image.mime, image.label) == (OutputKind.IMAGE, "image/png",
                                                     "result_tryon")
    assert (video.kind, video.mime, video.label) == (OutputKind.VIDEO, "video/mp4",
                                                     "result_video")
    stored = AssetStore(tmp_path / "assets").path_for(video.sha256, video.mime)
    assert stored.suffix == ".mp4"
    assert stored.read_bytes() == expected_output(
        done.remote_id, "Clip", emu.runs[done.remote_id].images, video=True)


def test_engine_records_a_failed_job(tmp_path: Path) -> None:
    emu = VistoureEmulator(job_delay=0.0)
    emu.fail_next(error="No person detected")
    with serve(emu) as base:
        done = engine_run(tmp_path, base)
    assert done.state == JobState.FAILED and done.outputs == ()
    assert done.error is not None and done.error.code == ErrorCode.JOB_FAILED
    assert "No person detected" in done.error.message


def test_engine_out_of_tokens_and_unknown_outcome(tmp_path: Path) -> None:
    emu = VistoureEmulator(job_delay=0.0, tokens=0)
    with serve(emu) as base:
        broke = engine_run(tmp_path / "a", base)
        emu.tokens = None
        emu.inject(Fault("drop", method="POST", path=RUN))
        dropped = engine_run(tmp_path / "b", base)
    assert broke.state == JobState.FAILED and broke.error is not None
    assert broke.error.code == ErrorCode.INSUFFICIENT_CREDITS
    assert broke.error.provider_code == "InsufficientTokens"
    assert dropped.state == JobState.NEEDS_ATTENTION and dropped.remote_id is None
    assert dropped.error is not None and dropped.error.code == ErrorCode.UNKNOWN_OUTCOME
    assert "may have created the job and charged for it" in dropped.error.message
    assert len(emu.requests_to("POST", RUN)) == 2


def test_engine_reports_an_expired_result_link(tmp_path: Path) -> None:
    emu = VistoureEmulator(job_delay=0.0, url_ttl=0.0)
    with serve(emu) as base:
        done = engine_run(tmp_path, base)
    # The paid job is kept, waiting: the links are asked for again, never the job.
    assert done.state == JobState.NEEDS_ATTENTION and done.remote_id
    assert done.error is not None and done.error.code == ErrorCode.RESULT_UNAVAILABLE


# -- the CLI -----------------------------------------------------------------------------------
def test_cli_run_writes_a_real_output(home: Path, tmp_path: Path,
                                      capsys: pytest.CaptureFixture[str],
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(registry.PROVIDER_CLASSES, "vistoure", VistoureProvider)
    emu = VistoureEmulator(job_delay=0.0)
    person, garment = tmp_path / "person.png", tmp_path / "garment.png"
    person.write_bytes(PERSON)
    garment.write_bytes(GARMENT)
    out_dir = tmp_path / "out"
    with serve(emu) as base:
        monkeypatch.setenv("RESTYLE_VISTOURE_BASE_URL", base)
        monkeypatch.setenv("RESTYLE_VISTOURE_API_KEY", KEY)
        code = cli.main(["run", "--provider", "vistoure", "--task", "tryon", "--person",
                         str(person), "--garment", str(garment), "--param",
                         "tool=virtual_tryon_pro", "--param", "category=dresses",
                         "--out", str(out_dir), "--json"], stdin=io.StringIO(""))
    out, _ = capsys.readouterr()
    assert code == 0, out
    data = json.loads(out)
    assert data["status"] == "succeeded" and data["remote_id"] in emu.runs
    path = Path(data["outputs"][0]["path"])
    assert path.parent == out_dir
    assert path.read_bytes() == expected_output(data["remote_id"], "virtual_tryon_pro",
                                                [PERSON, GARMENT])
    body = emu.requests_to("POST", RUN)[0].json()
    assert body["target"] == "virtual_tryon_pro" and body["input"]["category"] == "dresses"
    assert KEY not in out


def test_cli_runs_a_workflow_to_an_image_and_a_video_file(
        home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(registry.PROVIDER_CLASSES, "vistoure", VistoureProvider)
    emu = VistoureEmulator(job_delay=0.0)
    person, garment = tmp_path / "person.png", tmp_path / "garment.png"
    person.write_bytes(PERSON)
    garment.write_bytes(GARMENT)
    with serve(emu) as base:
        monkeypatch.setenv("RESTYLE_VISTOURE_BASE_URL", base)
        monkeypatch.setenv("RESTYLE_VISTOURE_API_KEY", KEY)
        code = cli.main(["run", "--provider", "vistoure", "--task", "workflow", "--param",
                         f"workflow={CUSTOM}", "--person", str(person), "--garment",
                         str(garment), "--param", "Vton_Node.strength=0.3", "--out",
                         str(tmp_path / "out"), "--json"], stdin=io.StringIO(""))
        out, _ = capsys.readouterr()
        # Without the garment the mandatory garment input stays empty: refused before any job
        # is stored, exit 2 with the sentence.
        bad = cli.main(["run", "--provider", "vistoure", "--task", "workflow", "--param",
                        f"workflow={CUSTOM}", "--person", str(person), "--json"],
                       stdin=io.StringIO(""))
        bad_out, bad_err = capsys.readouterr()
    assert code == 0, out
    data = json.loads(out)
    image, video = (Path(o["path"]) for o in data["outputs"])
    assert image.suffix == ".png" and video.suffix == ".mp4"
    assert sniff_mime(video.read_bytes()) == "video/mp4"
    assert [o["kind"] for o in data["outputs"]] == ["image", "video"]
    assert bad == 2, bad_out
    assert bad_out == "" and "needs: Vton_Node.garment_image" in bad_err
    assert len(emu.requests_to("POST", RUN)) == 1


def test_provider_words_never_carry_the_key_or_tokens() -> None:
    """Node names, tool names, progress words, a failed run's error and a refused run are
    redacted: the key, a `token=` pair and a signed link never reach a RemoteStatus or
    ProviderError."""
    key = "vistoure-LEAK-0003"
    said = leaky_words(key)
    emu = VistoureEmulator(api_key=key, job_delay=0.0)
    node = {"status": "running", "model_name": said, "error": None, "output": []}
    emu.inject(
        Fault("status", "POST", RUN, status=200,
              body={"id": None, "error": {"code": f"bad {key}", "message": said}}),
        Fault("status", "GET", STATUS, status=200,
              body={"overall_status": "running", "nodes": {f"node {said}": node}}),
        Fault("status", "GET", STATUS, status=200, body={
            "overall_status": "failed",
            "nodes": {f"Vton {key}": {**node, "status": "failed", "error": said}}}),
    )
    emu.fail_next(error={"code": f"token={LEAKED_TOKEN}", "message": said})

    async def main() -> tuple[ProviderError, RemoteStatus, RemoteStatus, RemoteStatus]:
        p = provider(base, key)
        try:
            with pytest.raises(ProviderError) as refused:
                await p.submit(tryon_job())
            ref = await p.submit(tryon_job())
            running, node_failed = await p.poll(ref), await p.poll(ref)
            return refused.value, running, node_failed, await until_done(p, ref)
        finally:
            await p.aclose()

    with serve(emu) as base:
        refused, running, node_failed, failed = run(main())
    assert running.state == RemoteState.RUNNING and "[REDACTED]" in running.message
    assert node_failed.error is not None and failed.error is not None
    assert "Done for key [REDACTED]" in failed.error.message
    for text in (refused.message, refused.provider_code, running.message,
                 node_failed.error.message, node_failed.error.provider_code,
                 failed.error.message, failed.error.provider_code):
        assert_no_secret(text, key)


# -- every parameter checked before a job row is written ---------------------------------------
def _image_files(tmp_path: Path) -> dict[str, list[str]]:
    tmp_path.mkdir(parents=True, exist_ok=True)
    person, garment = tmp_path / "person.png", tmp_path / "garment.png"
    person.write_bytes(PERSON)
    garment.write_bytes(GARMENT)
    return {"person": [str(person)], "garment": [str(garment)], "image": [str(garment)]}


@pytest.mark.parametrize(("task", "roles", "params", "needle"), [
    ("upscale", ["image"], {"tool": "upscale_pro"},
     "Parameter 'tool' must be one of VistoureAI's tools: virtual_tryon"),
    ("upscale", ["image"], {"tool": "reframe"},
     "Parameter 'tool' of task 'upscale' can only be upscale: its inputs are sent as that "
     "tool's; run task 'reframe' for reframe."),
    ("multipose", ["person"], {"tool": "virtual_tryon_pro"}, "run task 'tryon' for"),
    ("tryon", ["person", "garment"], {"model_image": "https://x.test/p.png"},
     "Parameter 'model_image' gives an image that is also given as the 'person' input; give "
     "it once."),
    ("virtual_model", [], {"garment_image": "a blue shirt"},
     "Parameter 'garment_image' names an image to read: a blue shirt does not exist"),
    ("upscale", ["image"], {"image": "abc"},
     "Parameter 'image' gives an image that is also given as the 'image' input"),
], ids=["unknown_tool", "another_tasks_tool", "tryon_tool_elsewhere", "image_twice",
        "image_text", "image_text_and_input"])
def test_bad_tool_parameters_are_refused_before_a_job_is_stored(
        tmp_path: Path, task: str, roles: list[str], params: dict[str, Any],
        needle: str) -> None:
    emu = VistoureEmulator()
    files = _image_files(tmp_path)
    spec = JobSpec("vistoure", task, {r: files[r] for r in roles}, params)
    with serve(emu) as base:
        message = refused_before_storing(tmp_path, provider(base), spec, emu)
    assert needle in message, message
    assert emu.requests == []


@pytest.mark.parametrize(("params", "roles", "needle"), [
    ({"workflow": "Gone"}, {}, "Parameter 'workflow': VistoureAI has no workflow named 'Gone'"),
    ({"workflow": "  "}, {}, "Parameter 'workflow' is required and must not be empty"),
    ({"workflow": STUDIO}, {}, "needs: User_Garment.garment_image"),
    ({"workflow": STUDIO, "User_Garment.model_image": "https://x.test/a.png"}, {"garment": 1},
     "is linked to an upstream node"),
    ({"workflow": STUDIO, "Nope.param": "1"}, {"garment": 1}, "has no input 'Nope.param'"),
    ({"workflow": STUDIO, "Upscale.upscale_factor": "big"}, {"garment": 1},
     "'Upscale.upscale_factor' must be a whole number"),
    ({"workflow": STUDIO}, {"garment": 1, "image": 1},
     "has 1 image input(s) left to fill but 2 image(s) were given"),
    ({"workflow": STUDIO, "User_Garment.garment_image": "@garment:2"}, {"garment": 1},
     "names @garment:2, but 1 garment image(s) were given"),
    ({"workflow": STUDIO, "User_Garment.garment_image": " "}, {},
     "needs: User_Garment.garment_image. Give an image as --input "
     "User_Garment.garment_image=FILE"),
    ({"workflow": STUDIO, "User_Garment.garment_image": "not an image"}, {},
     "Parameter 'User_Garment.garment_image' names an image to read: not an image does not "
     "exist"),
], ids=["unknown_workflow", "blank_name", "missing_mandatory", "linked", "unknown_input",
        "wrong_type", "too_many_images", "reference_out_of_range", "blank_image",
        "image_text"])
def test_workflow_inputs_not_matching_the_manifest_are_refused_before_storing(
        tmp_path: Path, params: dict[str, Any], roles: dict[str, int], needle: str) -> None:
    emu = VistoureEmulator()
    files = _image_files(tmp_path)
    spec = JobSpec("vistoure", "workflow", {r: files[r] * n for r, n in roles.items()}, params)
    with serve(emu) as base:
        message = refused_before_storing(tmp_path, provider(base), spec, emu)
    assert needle in message, message
    assert {r.method for r in emu.requests} <= {"GET"}  # the manifest is read, nothing run


def test_the_manifest_is_read_once_for_the_check_and_the_run(tmp_path: Path) -> None:
    emu = VistoureEmulator(job_delay=0.0)
    files = _image_files(tmp_path / "in")
    spec = JobSpec(provider="vistoure", task="workflow",
                   inputs={"person": files["person"], "garment": files["garment"]},
                   params={"workflow": CUSTOM, "Vton_Node.strength": "0.3"})
    with serve(emu) as base:
        done = engine_run(tmp_path, base, spec)
    assert done.state == JobState.SUCCEEDED, done.error
    assert len(emu.requests_to("GET", "/api/v3/workflow/")) == 1
    assert emu.requests_to("POST", RUN)[0].json()["input"]["Vton_Node.strength"] == 0.3


def test_a_manifest_that_cannot_be_read_is_left_to_submit(tmp_path: Path) -> None:
    """A wrong key is no parameter problem: the job is stored and fails as auth_failed, as it
    did before the check existed."""
    emu = VistoureEmulator(job_delay=0.0)
    spec = JobSpec(provider="vistoure", task="workflow", params={"workflow": CUSTOM},
                   inputs={"person": _image_files(tmp_path / "in")["person"]})
    with serve(emu) as base:
        done = engine_run(tmp_path, base, spec, key="wrong-key")
    assert done.state == JobState.FAILED and done.error is not None
    assert done.error.code == ErrorCode.AUTH_FAILED
    assert History(tmp_path / "history.sqlite3").count() == 1
    assert emu.requests_to("POST", RUN) == []


# -- workflow image inputs, image parameters given a file, videos ------------------------------
def test_workflow_image_inputs_by_their_own_names_over_the_wire(tmp_path: Path) -> None:
    """The Lookbook's panes: mandatory model and garment, the optional backdrop given as a
    parameter holding a file path. Each is read, stored with the job, and sent as base64."""
    emu = VistoureEmulator(job_delay=0.0)
    files = tmp_path / "in"
    files.mkdir()
    model, shirt, backdrop = files / "model.png", files / "shirt.png", files / "backdrop.png"
    model.write_bytes(PERSON)
    shirt.write_bytes(GARMENT)
    backdrop.write_bytes(png_bytes((90, 90, 200), (80, 80)))
    spec = JobSpec("vistoure", "workflow", {
        "Dress_Model.model_image": [str(model)], "Dress_Model.garment_image": [str(shirt)]},
        {"workflow": LOOKBOOK, "Backdrop.background_image": str(backdrop),
         "Backdrop.prompt": "golden hour"})
    with serve(emu) as base:
        done = engine_run(tmp_path, base, spec)
    assert done.state == JobState.SUCCEEDED, done.error
    sent = emu.requests_to("POST", RUN)[0].json()["input"]
    assert base64.b64decode(sent["Dress_Model.model_image"]) == PERSON
    assert base64.b64decode(sent["Dress_Model.garment_image"]) == GARMENT
    assert sniff_mime(base64.b64decode(sent["Backdrop.background_image"])) == "image/png"
    assert str(backdrop) not in json.dumps(sent)  # the path never travels
    assert sent["Backdrop.prompt"] == "golden hour"
    # The file is an input of the job, like the panes' images; the parameter is gone.
    assert set(done.inputs) == {"Dress_Model.model_image", "Dress_Model.garment_image",
                                "Backdrop.background_image"}
    assert done.spec.inputs["Backdrop.background_image"] == [str(backdrop)]
    assert "Backdrop.background_image" not in done.spec.params
    assert [(o.label, o.kind, o.mime) for o in done.outputs] == [
        ("lookbook_photo", OutputKind.IMAGE, "image/png"),
        ("lookbook_video", OutputKind.VIDEO, "video/mp4")]
    video = done.outputs[1]
    assert AssetStore(tmp_path / "assets").path_for(video.sha256, video.mime).read_bytes() == CLIP
    assert done.note == "All 4 nodes done"


def test_a_tool_image_field_given_a_file_is_that_input(tmp_path: Path) -> None:
    """`--param model_image=me.png` on a try-on is the person image, read from the file."""
    emu = VistoureEmulator(job_delay=0.0)
    files = _image_files(tmp_path / "in")
    spec = JobSpec("vistoure", "tryon", {"garment": files["garment"]},
                   {"model_image": files["person"][0]})
    with serve(emu) as base:
        done = engine_run(tmp_path, base, spec)
    assert done.state == JobState.SUCCEEDED, done.error
    sent = emu.requests_to("POST", RUN)[0].json()["input"]
    assert base64.b64decode(sent["model_image"]) == PERSON
    assert set(done.inputs) == {"person", "garment"} and "model_image" not in done.spec.params


@pytest.mark.parametrize(("content", "words"), [
    (b"this is not an image at all", "Parameter 'Backdrop.background_image' names an image to "
                                      "read: backdrop.jpg"),
    (None, "Parameter 'Backdrop.background_image' names an image to read: "),
], ids=["not_an_image", "missing"])
def test_a_bad_file_in_an_image_parameter_is_refused_with_a_sentence(
        tmp_path: Path, content: bytes | None, words: str) -> None:
    emu = VistoureEmulator()
    files = _image_files(tmp_path / "in")
    bad = tmp_path / "in" / "backdrop.jpg"
    if content is not None:
        bad.write_bytes(content)
    spec = JobSpec("vistoure", "workflow", {"Dress_Model.model_image": files["person"],
                                            "Dress_Model.garment_image": files["garment"]},
                   {"workflow": LOOKBOOK, "Backdrop.background_image": str(bad)})
    with serve(emu) as base:
        message = refused_before_storing(tmp_path, provider(base), spec, emu)
    assert message.startswith(words), message
    assert "Traceback" not in message


@pytest.mark.parametrize(("inputs", "params", "needle"), [
    ({"Nope.image": 1}, {}, f"Workflow '{LOOKBOOK}' has no image input 'Nope.image' (its image "
                            "inputs: Dress_Model.model_image, Dress_Model.garment_image, "
                            "Backdrop.background_image)."),
    ({"Backdrop.prompt": 1}, {}, "has no image input 'Backdrop.prompt'"),
    ({"Backdrop.image": 1}, {}, "'Backdrop.image' is linked to an upstream node"),
    ({"Dress_Model.model_image": 2}, {}, "'Dress_Model.model_image' takes one image (got 2)"),
    ({"Dress_Model.model_image": 1}, {},
     "needs: Dress_Model.garment_image. Give an image as --input "
     "Dress_Model.garment_image=FILE in restyle-cli, or in its pane (Garment image) in the "
     "window."),
], ids=["unknown", "not_an_image_input", "linked", "two_images", "mandatory_missing"])
def test_workflow_image_inputs_not_in_the_manifest_are_refused(
        tmp_path: Path, inputs: dict[str, int], params: dict[str, Any], needle: str) -> None:
    emu = VistoureEmulator()
    files = _image_files(tmp_path / "in")
    spec = JobSpec("vistoure", "workflow", {r: files["person"] * n for r, n in inputs.items()},
                   {"workflow": LOOKBOOK, **params})
    with serve(emu) as base:
        message = refused_before_storing(tmp_path, provider(base), spec, emu)
    assert needle in message, message


def test_a_damaged_video_download_is_fetched_again_then_waits(tmp_path: Path) -> None:
    """A video cut short is no result: downloaded again, and while it stays broken the paid
    job waits (needs attention) with the sentence, never stored as a video."""
    emu = VistoureEmulator(job_delay=0.0)
    files = _image_files(tmp_path / "in")
    emu.inject(Fault("short", "GET", "/results/", times=1))
    spec = JobSpec("vistoure", "video", {"image": files["image"]})
    with serve(emu) as base:
        healed = engine_run(tmp_path / "a", base, spec)
        emu.inject(Fault("page", "GET", "/results/", times=50))
        broken = engine_run(tmp_path / "b", base, spec)
    assert healed.state == JobState.SUCCEEDED, healed.error
    [video] = healed.outputs
    assert (video.kind, video.mime) == (OutputKind.VIDEO, "video/mp4")
    assert broken.state == JobState.NEEDS_ATTENTION and broken.outputs == ()
    assert broken.error is not None and broken.error.code == ErrorCode.RESULT_UNAVAILABLE
    assert "is not a video: it is a web page" in broken.error.message


def test_cli_workflow_inputs_by_role_and_an_image_parameter_file(
        home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(registry.PROVIDER_CLASSES, "vistoure", VistoureProvider)
    emu = VistoureEmulator(job_delay=0.0)
    files = _image_files(tmp_path / "in")
    bad = tmp_path / "in" / "notes.jpg"
    bad.write_text("not a picture")
    base_args = ["run", "--provider", "vistoure", "--task", "workflow", "--param",
                 f"workflow={LOOKBOOK}", "--input",
                 f"Dress_Model.model_image={files['person'][0]}"]
    with serve(emu) as base:
        monkeypatch.setenv("RESTYLE_VISTOURE_BASE_URL", base)
        monkeypatch.setenv("RESTYLE_VISTOURE_API_KEY", KEY)
        good = cli.main([*base_args, "--param",
                         f"Dress_Model.garment_image={files['garment'][0]}", "--out",
                         str(tmp_path / "out"), "--json"], stdin=io.StringIO(""))
        out, _ = capsys.readouterr()
        refused = cli.main([*base_args, "--param", f"Dress_Model.garment_image={bad}"],
                           stdin=io.StringIO(""))
        _, err = capsys.readouterr()
        malformed = cli.main([*base_args, "--input", "no-equals-sign"], stdin=io.StringIO(""))
        _, err2 = capsys.readouterr()
    assert good == 0, out
    data = json.loads(out)
    assert [Path(o["path"]).suffix for o in data["outputs"]] == [".png", ".mp4"]
    assert Path(data["outputs"][1]["path"]).read_bytes() == CLIP
    sent = emu.requests_to("POST", RUN)[0].json()["input"]
    assert base64.b64decode(sent["Dress_Model.garment_image"]) == GARMENT
    assert base64.b64decode(sent["Dress_Model.model_image"]) == PERSON
    assert refused == 2 and "Parameter 'Dress_Model.garment_image' names an image to read: " \
                            "notes.jpg" in err, err
    assert "Traceback" not in err
    assert malformed == 2 and "--input 'no-equals-sign' must be written ROLE=SRC" in err2
    assert len(emu.requests_to("POST", RUN)) == 1
