"""Provenance metadata: the facts gathered from a job, written into PNG, JPEG and WebP without
touching a pixel, read back by Restyle, by Pillow and by exiftool (where installed), and never
carrying a key or a local path."""

from __future__ import annotations

import importlib.metadata
import io
import json
import shutil
import struct
import subprocess
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest
from PIL import Image

from desktop import __version__
from desktop.core import png, redaction
from desktop.core.exports import provenance as pv
from desktop.core.model import InvalidInput, Job, JobSpec, JobState, Output

COMPOSITE = "http://cv.iptc.org/newscodes/digitalsourcetype/compositeWithTrainedAlgorithmicMedia"
GENERATED = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
IPTC_NS = "http://iptc.org/std/Iptc4xmpExt/2008-02-29/"
CREATED = 1767225600.0  # 2026-01-01T00:00:00Z

API_KEY = "sk-live-4f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c"
REGISTERED = "Zq8RegisteredSecretValue42"
HOME_PATH = "/home/ann/Pictures/client-shoot/mask.png"

HOSTILE = {
    "prompt": 'a <dress> & "shoes" \'hat\' ]]> <!-- --> <?pi?> &amp; </rdf:li>',
    "controls": "bell\x07 tab\t vt\x0b esc\x1b cr\r lf\n del\x7f",
    "unicode": "Grüße, 日本語, emoji 👗, rtl \u202e, nbsp\u00a0",
    "noncharacters": "\ufffe\uffff",
    "long": "x" * 10_000,
    "nested": {"rows": [{"target": "<blouse>", "color": "royal blue"}]},
}


def job(*, provider: str = "fitinview", task: str = "tryon",
        inputs: dict[str, list[str]] | None = None, params: dict[str, Any] | None = None,
        outputs: int = 2, remote_id: str | None = "rem-42") -> Job:
    spec_inputs = {"person": ["/home/ann/Pictures/me.jpg"],
                   "garment": ["https://cdn.example.com/u/7/dress.png?X-Amz-Signature=abc"]} \
        if inputs is None else inputs
    return Job(
        id="0123456789abcdef0123456789abcdef", state=JobState.SUCCEEDED,
        spec=JobSpec(provider, task, inputs=spec_inputs,
                     params={"scale": 1.2} if params is None else params),
        created_at=CREATED, updated_at=CREATED + 100, finished_at=CREATED + 95,
        remote_id=remote_id,
        inputs={role: ["ab" * 32] * len(srcs) for role, srcs in spec_inputs.items() if srcs},
        outputs=tuple(Output(i, "cd" * 32, "image/png", 10) for i in range(outputs)))


def facts_for(j: Job, index: int = 1, *, offline: bool = False) -> pv.Provenance:
    return pv.provenance_for(j, index, provider_title="FitInView",
                             source_type=pv.digital_source_type(j, offline=offline),
                             task_title="Virtual try-on")


def encode(fmt: str, mode: str = "RGB", **options: Any) -> bytes:
    img = Image.effect_noise((48, 36), 60).convert(mode)
    if "A" in mode:  # real transparency, so encoders keep an alpha channel
        alpha = Image.linear_gradient("L").resize((48, 36))
        img.putalpha(alpha)
    buf = io.BytesIO()
    img.save(buf, fmt, **options)
    return buf.getvalue()


def pixels(data: bytes) -> tuple[str, tuple[int, int], bytes]:
    img = Image.open(io.BytesIO(data))
    img.load()
    return img.mode, img.size, img.tobytes()


def image_data(data: bytes) -> bytes:
    """The bytes that hold the picture itself: PNG IDAT, JPEG from SOS on, WebP VP8/VP8L/ALPH."""
    if data.startswith(png.SIGNATURE):
        return b"".join(bytes(body) for kind, body in png.chunks(data) if kind == b"IDAT")
    if data.startswith(b"\xff\xd8"):
        return data[data.index(b"\xff\xda"):]
    found = []
    pos = 12
    while pos + 8 <= len(data):
        kind = data[pos:pos + 4]
        (size,) = struct.unpack("<I", data[pos + 4:pos + 8])
        if kind in (b"VP8 ", b"VP8L", b"ALPH"):
            found.append(data[pos:pos + 8 + size])
        pos += 8 + size + (size & 1)
    return b"".join(found)


CASES = [
    ("png", "PNG", "RGB", {}),
    ("png", "PNG", "RGBA", {}),
    ("png", "PNG", "P", {}),
    ("jpeg", "JPEG", "RGB", {"quality": 80}),
    ("jpeg", "JPEG", "L", {}),
    ("webp", "WEBP", "RGB", {"quality": 70}),
    ("webp", "WEBP", "RGBA", {"lossless": True}),
    ("webp", "WEBP", "RGBA", {"quality": 70}),
]


def written_facts(data: bytes) -> dict[str, Any]:
    found = dict(pv.read_back(data)["facts"])
    found.pop("description", None)
    found.pop("creator_tool", None)
    return found


# --- the digital source type ------------------------------------------------------------------


def test_source_type_follows_the_inputs_and_the_offline_flag() -> None:
    edit = job()
    assert pv.digital_source_type(edit, offline=False) == COMPOSITE
    staging = job(provider="virtualstaging", task="staging",
                  inputs={"room": ["/home/ann/room.jpg"]})
    assert pv.digital_source_type(staging, offline=False) == COMPOSITE
    generated = job(provider="vtryon", task="recolor", inputs={},
                    params={"pose_image_generation_id": 7})
    assert pv.digital_source_type(generated, offline=False) == GENERATED
    # A role given no images counts as no input.
    assert pv.digital_source_type(job(inputs={"garment": []}), offline=False) == GENERATED
    # The offline provider's pixel operations: no AI, no source type.
    assert pv.digital_source_type(job(provider="local"), offline=True) is None
    assert pv.digital_source_type(generated, offline=True) is None


def test_source_type_sees_stored_input_assets_alone() -> None:
    stored = job(inputs={}).evolve(inputs={"image": ["ef" * 32]})
    assert pv.digital_source_type(stored, offline=False) == COMPOSITE


# --- the facts --------------------------------------------------------------------------------


def test_facts_of_a_job() -> None:
    facts = facts_for(job(), 1)
    assert facts.job_id == "0123456789abcdef0123456789abcdef"
    assert (facts.provider_id, facts.provider_title) == ("fitinview", "FitInView")
    assert (facts.task_id, facts.task_title) == ("tryon", "Virtual try-on")
    assert facts.params == {"scale": 1.2}
    assert facts.remote_id == "rem-42"
    assert facts.created_at == "2026-01-01T00:00:00Z"
    assert facts.finished_at == "2026-01-01T00:01:35Z"
    assert facts.restyle_version == importlib.metadata.version("restyle")
    assert (facts.output_position, facts.output_count) == (1, 2)
    assert facts.inputs == {"person": ["me.jpg"], "garment": ["dress.png"]}
    assert facts.digital_source_type == COMPOSITE
    assert "Virtual try-on by FitInView (output 2 of 2)" in facts.description
    unfinished = pv.provenance_for(job(remote_id=None).evolve(finished_at=None), 0,
                                   provider_title="", source_type=None)
    assert unfinished.finished_at is None and unfinished.remote_id is None
    with pytest.raises(InvalidInput, match="has no output 3"):
        pv.provenance_for(job(), 2, provider_title="X", source_type=None)


def test_version_falls_back_to_the_package_constant(monkeypatch: pytest.MonkeyPatch) -> None:
    def missing(name: str) -> str:
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(importlib.metadata, "version", missing)
    assert pv.restyle_version() == __version__


def test_input_names_are_base_names_only() -> None:
    names = pv.input_names({
        "person": ["/home/ann/Pictures/me.jpg", "C:\\Users\\Ann\\Desktop\\me 2.png"],
        "garment": ["https://cdn.example.com/a/b/dress%20red.png?sig=zzz#frag",
                    "https://user:pw@cdn.example.com/"],
        "room": [],
    })
    assert names == {"person": ["me.jpg", "me 2.png"], "garment": ["dress red.png"]}


# --- embedding --------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt, pil, mode, options", CASES)
def test_embed_keeps_every_pixel_and_reads_back(fmt: str, pil: str, mode: str,
                                                options: dict[str, Any]) -> None:
    original = encode(pil, mode, **options)
    facts = facts_for(job())
    out = pv.embed(original, fmt, facts)
    assert out != original
    assert pixels(out) == pixels(original)
    assert image_data(out) == image_data(original) != b""
    assert written_facts(out) == facts.to_dict()
    if fmt == "webp":  # the extended header's flags (WebP container spec): alpha, EXIF, XMP
        assert out[12:16] == b"VP8X"
        flags = out[20]
        assert flags & 0x0C == 0x0C
        assert bool(flags & 0x10) == (pixels(original)[0] == "RGBA")
    found = pv.read_back(out)
    assert found["format"] == fmt
    assert found["facts"]["description"] == facts.description
    assert found["facts"]["creator_tool"] == f"Restyle {facts.restyle_version}"


@pytest.mark.parametrize("fmt, pil, mode, options", CASES[::3])
def test_pillow_reads_what_was_written(fmt: str, pil: str, mode: str,
                                       options: dict[str, Any]) -> None:
    facts = facts_for(job())
    img = Image.open(io.BytesIO(pv.embed(encode(pil, mode, **options), fmt, facts)))
    if fmt == "png":
        text = img.text  # type: ignore[attr-defined]
        assert text["Software"] == f"Restyle {facts.restyle_version}"
        assert text["Description"] == facts.description
        assert text["restyle:job_id"] == facts.job_id
        assert json.loads(text["restyle:params"]) == facts.params
        xmp = text["XML:com.adobe.xmp"]
    else:
        exif = img.getexif()
        assert exif[0x0131] == f"Restyle {facts.restyle_version}"
        assert exif[0x010E] == facts.description
        assert exif[0x0132] == "2026:01:01 00:01:35"
        xmp = img.info["xmp"]
        xmp = xmp.decode("utf-8") if isinstance(xmp, bytes) else xmp
    root = ElementTree.fromstring(xmp.encode("utf-8"))
    source = root.find(f".//{{{IPTC_NS}}}DigitalSourceType")
    assert source is not None and source.text == COMPOSITE


def test_a_generated_image_is_trained_algorithmic_media_and_offline_work_has_none() -> None:
    generated = facts_for(job(provider="vtryon", task="recolor", inputs={}))
    out = pv.embed(encode("PNG"), "png", generated)
    assert written_facts(out)["digital_source_type"] == GENERATED
    assert generated.description.endswith(f"job {generated.job_id}.")
    assert "an AI-generated image" in generated.description

    offline = facts_for(job(provider="local", task="recolor",
                            inputs={"image": ["/home/ann/a.png"]}), 0, offline=True)
    for fmt, pil in (("png", "PNG"), ("jpeg", "JPEG"), ("webp", "WEBP")):
        out = pv.embed(encode(pil), fmt, offline)
        found = pv.read_back(out)
        assert found["facts"]["digital_source_type"] is None
        assert "DigitalSourceType" not in found["xmp"]
        assert b"digitalsourcetype" not in out
    assert "without AI" in offline.description


@pytest.mark.parametrize("fmt, pil", [("png", "PNG"), ("jpeg", "JPEG"), ("webp", "WEBP")])
def test_embedding_again_replaces_the_old_facts(fmt: str, pil: str) -> None:
    first = pv.embed(encode(pil), fmt, facts_for(job(), 0))
    second_facts = facts_for(job(params={"scale": 0.7}), 1)
    twice = pv.embed(first, fmt, second_facts)
    assert written_facts(twice) == second_facts.to_dict()
    assert twice.count(b"<x:xmpmeta") == 1
    assert twice.count(b"Restyle " + second_facts.restyle_version.encode()) >= 1
    assert twice.count(b'"scale": 1.2') == 0
    assert pixels(twice) == pixels(first)


def test_jpeg_keeps_the_exif_it_had() -> None:
    img = Image.effect_noise((40, 30), 60).convert("RGB")
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90
    exif[0x010F] = "Provider Camera"
    buf = io.BytesIO()
    img.save(buf, "JPEG", exif=exif.tobytes())
    out = pv.embed(buf.getvalue(), "jpeg", facts_for(job()))
    kept = Image.open(io.BytesIO(out)).getexif()
    assert kept[0x0112] == 6 and kept[0x010F] == "Provider Camera"
    assert kept[0x0131].startswith("Restyle ")
    assert out.count(b"Exif\x00\x00") == 1


def test_a_webp_with_exif_and_xmp_already_is_amended_not_doubled() -> None:
    img = Image.effect_noise((40, 30), 60).convert("RGB")
    exif = Image.Exif()
    exif[0x010F] = "Provider Camera"
    buf = io.BytesIO()
    img.save(buf, "WEBP", exif=exif.tobytes(), xmp=b"<x:xmpmeta xmlns:x='adobe:ns:meta/'/>")
    facts = facts_for(job())
    out = pv.embed(buf.getvalue(), "webp", facts)
    assert out.count(b"EXIF") == 1 and out.count(b"XMP ") == 1
    assert Image.open(io.BytesIO(out)).getexif()[0x010F] == "Provider Camera"
    assert written_facts(out) == facts.to_dict()
    assert pixels(out) == pixels(buf.getvalue())


# --- hostile values, secrets and paths ---------------------------------------------------------


@pytest.mark.parametrize("fmt, pil", [("png", "PNG"), ("jpeg", "JPEG"), ("webp", "WEBP")])
def test_hostile_parameter_values_still_give_valid_xmp(fmt: str, pil: str) -> None:
    facts = pv.provenance_for(job(params=HOSTILE), 0, provider_title="Fit\rIn <View> & ]]>",
                              source_type=COMPOSITE, task_title="Try-on\x01\r\n")
    out = pv.embed(encode(pil), fmt, facts)
    found = pv.read_back(out)
    ElementTree.fromstring(found["xmp"].encode("utf-8"))  # well-formed, or this raises
    assert written_facts(out) == facts.to_dict()
    assert facts.provider_title == "Fit\rIn <View> & ]]>"
    assert facts.task_title == "Try-on\ufffd\r\n"
    params = facts.params
    assert params["prompt"] == HOSTILE["prompt"]
    assert params["unicode"] == HOSTILE["unicode"]
    assert params["nested"] == HOSTILE["nested"]
    # XML cannot carry C0 controls but tab, LF and CR, nor U+FFFE/U+FFFF: they become U+FFFD.
    assert params["controls"] == "bell\ufffd tab\t vt\ufffd esc\ufffd cr\r lf\n del\x7f"
    assert params["noncharacters"] == "\ufffd\ufffd"
    assert len(params["long"]) == pv.MAX_TEXT and params["long"].endswith("…")
    if fmt == "png":
        text = Image.open(io.BytesIO(out)).text  # type: ignore[attr-defined]
        assert json.loads(text["restyle:params"]) == facts.params


def test_a_jpeg_whose_parameters_overflow_a_segment_says_so() -> None:
    params = {f"field{i}": "y" * 1500 for i in range(60)}  # about 90 KB of text
    facts = facts_for(job(params=params))
    out = pv.embed(encode("JPEG"), "jpeg", facts)
    found = pv.read_back(out)["facts"]
    assert found["params"] == {} and found["params_omitted"] is True
    assert found["job_id"] == facts.job_id
    assert json.loads(pv.sidecar_json(facts))["params"] == facts.params  # the sidecar has them
    # PNG and WebP have no such limit.
    assert written_facts(pv.embed(encode("PNG"), "png", facts))["params"] == facts.params


SECRET_PARAMS = {
    "api_key": "plain-value-under-a-key-name",
    "Authorization": "Bearer abc.def",
    "client_secret": "shh",
    "access_key": "AKIAIOSFODNN7EXAMPLE",
    "note": f"use {API_KEY} for this",
    "prompt": f"my key is {REGISTERED}",
    "webhook_url": "https://hooks.example.com/h?token=t0k3n&id=5",
    "mask": HOME_PATH,
    "folder": "~/Pictures",
    "windows": "C:\\Users\\Ann\\mask.png",
    "uri": "file:///home/ann/x.png",
    "prose": f"the mask is at {HOME_PATH} today",
    "masks": ["/tmp/m1.png", "keep me"],
}
LEAKS = ["plain-value-under-a-key-name", "abc.def", "shh", "AKIAIOSFODNN7EXAMPLE", API_KEY,
         REGISTERED, "t0k3n", "/home/", "Pictures", "Users", "/tmp/", "file:"]


@pytest.fixture
def registered_secret() -> Any:
    redaction.register_secret(REGISTERED)
    yield REGISTERED
    redaction.forget_secret(REGISTERED)


@pytest.mark.parametrize("fmt, pil", [("png", "PNG"), ("jpeg", "JPEG"), ("webp", "WEBP")])
def test_no_secret_and_no_local_path_reaches_the_file(fmt: str, pil: str,
                                                      registered_secret: str) -> None:
    facts = facts_for(job(params=SECRET_PARAMS))
    out = pv.embed(encode(pil), fmt, facts)
    sidecar = pv.sidecar_json(facts)
    for leak in LEAKS:
        assert leak.encode() not in out, leak
        assert leak not in sidecar, leak
    params = facts.params
    assert params["api_key"] == params["Authorization"] == redaction.MASK
    assert params["client_secret"] == params["access_key"] == redaction.MASK
    assert params["note"] == f"use {redaction.MASK} for this"
    assert params["prompt"] == f"my key is {redaction.MASK}"
    assert params["webhook_url"] == f"https://hooks.example.com/h?token={redaction.MASK}&id=5"
    assert params["masks"] == ["keep me"]
    for dropped in ("mask", "folder", "windows", "uri", "prose"):
        assert dropped not in params
    assert facts.inputs == {"person": ["me.jpg"], "garment": ["dress.png"]}


def test_ordinary_values_are_kept() -> None:
    kept = {"ratio": "16:9", "fraction": "1/2", "words": "and/or", "uuid":
            "123e4567-e89b-12d3-a456-426614174000", "color": "royal blue", "n": 3,
            "flag": True, "none": None, "url": "https://example.com/room.jpg",
            "rows": [{"target": "blouse", "color": "#112233"}], "nan": float("nan")}
    cleaned = pv.clean_params(kept)
    assert cleaned == kept | {"nan": None}


# --- the sidecar, reading back, refusals ------------------------------------------------------


def test_sidecar_json_has_stable_keys_and_the_same_facts() -> None:
    facts = facts_for(job(params=HOSTILE))
    text = pv.sidecar_json(facts)
    data = json.loads(text)
    assert list(data) == sorted(data)
    assert data["schema"] == "restyle.provenance/1"
    assert data["description"] == facts.description
    assert set(data) == set(facts.to_dict()) | {"schema", "description"}
    assert pv.Provenance.from_dict(data) == facts
    assert text == pv.sidecar_json(facts)  # the same facts give the same bytes
    with pytest.raises(InvalidInput, match="no 'job_id'"):
        pv.Provenance.from_dict({k: v for k, v in data.items() if k != "job_id"})


def test_refusals_are_sentences() -> None:
    facts = facts_for(job())
    with pytest.raises(InvalidInput, match="choose PNG, JPEG or WebP"):
        pv.embed(encode("PNG"), "gif", facts)
    with pytest.raises(InvalidInput, match=r"PNG.*cut short"):
        pv.embed(encode("PNG")[:60], "png", facts)
    with pytest.raises(InvalidInput, match="JPEG: it does not start like one"):
        pv.embed(encode("PNG"), "jpeg", facts)
    with pytest.raises(InvalidInput, match="JPEG: it was cut short"):
        pv.embed(encode("JPEG")[:30], "jpeg", facts)
    with pytest.raises(InvalidInput, match="WebP: it does not start like one"):
        pv.embed(b"RIFF", "webp", facts)
    with pytest.raises(InvalidInput, match="not a PNG, JPEG or WebP"):
        pv.read_back(b"GIF89a....")


def test_an_xmp_packet_with_a_doctype_is_not_parsed() -> None:
    packet = ('<!DOCTYPE x [<!ENTITY a "aaaa">]><x:xmpmeta xmlns:x="adobe:ns:meta/">&a;'
              "</x:xmpmeta>")
    assert pv.parse_xmp(packet) == {}
    assert pv.parse_xmp("<not xml") == {}


# --- exiftool ---------------------------------------------------------------------------------

EXIFTOOL = shutil.which("exiftool")


def exiftool(path: Path) -> dict[str, Any]:
    assert EXIFTOOL is not None
    done = subprocess.run([EXIFTOOL, "-j", "-G1", "-a", str(path)], capture_output=True,
                          text=True, check=True, timeout=60)
    return json.loads(done.stdout)[0]


@pytest.mark.skipif(EXIFTOOL is None, reason="exiftool is not installed "
                                             "(Debian: libimage-exiftool-perl)")
@pytest.mark.parametrize("fmt, pil, mode, options", [CASES[i] for i in (0, 2, 3, 5, 6, 7)])
def test_exiftool_reads_the_source_type_and_restyle_fields(
        tmp_path: Path, fmt: str, pil: str, mode: str, options: dict[str, Any]) -> None:
    facts = facts_for(job(params=HOSTILE))
    path = tmp_path / f"out.{fmt}"
    path.write_bytes(pv.embed(encode(pil, mode, **options), fmt, facts))
    tags = exiftool(path)
    assert not any("Warning" in key or "Error" in key for key in tags), tags
    assert tags["XMP-iptcExt:DigitalSourceType"] == COMPOSITE
    assert tags["XMP-xmp:CreatorTool"] == f"Restyle {facts.restyle_version}"
    assert tags["XMP-dc:Description"] == facts.description
    assert tags["XMP-restyle:Job"] == facts.job_id
    assert tags["XMP-restyle:Provider"] == "fitinview"
    assert tags["XMP-restyle:Task"] == "tryon"
    assert tags["XMP-restyle:RemoteID"] == "rem-42"
    assert json.loads(tags["XMP-restyle:Parameters"]) == facts.params
    assert json.loads(tags["XMP-restyle:Inputs"]) == facts.inputs
    if fmt == "png":
        assert tags["PNG:Software"] == f"Restyle {facts.restyle_version}"
    else:
        assert tags["IFD0:Software"] == f"Restyle {facts.restyle_version}"
        assert tags["IFD0:ImageDescription"] == facts.description


@pytest.mark.skipif(EXIFTOOL is None, reason="exiftool is not installed")
def test_exiftool_sees_no_source_type_for_offline_work(tmp_path: Path) -> None:
    offline = facts_for(job(provider="local", task="upscale",
                            inputs={"image": ["/home/ann/a.png"]}), 0, offline=True)
    path = tmp_path / "out.jpg"
    path.write_bytes(pv.embed(encode("JPEG"), "jpeg", offline))
    tags = exiftool(path)
    assert "XMP-iptcExt:DigitalSourceType" not in tags
    assert tags["XMP-restyle:Provider"] == "local"
    generated = facts_for(job(provider="vtryon", task="recolor", inputs={}))
    path.write_bytes(pv.embed(encode("JPEG"), "jpeg", generated))
    assert exiftool(path)["XMP-iptcExt:DigitalSourceType"] == GENERATED
