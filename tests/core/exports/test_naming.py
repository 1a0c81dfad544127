"""File name templates: fields, safe names on every system, unique names, the folder kept."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path, PurePosixPath

import pytest

from desktop.core.exports import naming
from desktop.core.exports.naming import NameBook, Template, field_values, safe_name
from desktop.core.model import InvalidInput, Job, JobSpec, JobState, Output
from desktop.core.reviews import Review, Verdict

UNSAFE = set('<>:"/\\|?*') | {chr(c) for c in range(32)}
RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(10)),
            *(f"LPT{i}" for i in range(10))}


def job(inputs: dict[str, list[str]] | None = None, labels: tuple[str, ...] = ("",),
        created: float = 0.0, job_id: str = "0123456789abcdef" * 2) -> Job:
    outputs = tuple(Output(i, f"{i:064x}", "image/png", 10, 4, 4, label=label)
                    for i, label in enumerate(labels))
    return Job(job_id, JobSpec("virtualstaging", "room_staging", inputs or {}),
               JobState.SUCCEEDED, created, created, outputs=outputs)


def assert_portable(name: str) -> None:
    """What every system accepts as one file or folder name."""
    assert name and name not in (".", "..")
    assert not set(name) & UNSAFE, name
    assert not name.startswith(("-", ".", " ")) and not name.endswith((".", " ")), name
    assert name.split(".")[0].rstrip(" ").upper() not in RESERVED, name
    assert len(name.encode("utf-8")) <= naming.NAME_MAX_BYTES


def test_every_field_from_a_real_job() -> None:
    created = dt.datetime(2026, 3, 4, 5, 6, 7).timestamp()
    staged = job({"room": ["/home/ana/Listings/12 Elm St/kitchen.jpeg"]},
                 labels=("modern variation 1", "modern variation 2"), created=created)
    ratings = {(staged.id, 1): [Review(staged.id, 1, "ana", Verdict.PASS, 4),
                                Review(staged.id, 1, "ben", Verdict.PASS, 5)]}
    values = field_values(staged, 1, n=7, ratings=ratings, batch="Spring listings")
    assert values == {"input": "kitchen", "provider": "virtualstaging", "task": "room_staging",
                      "variation": "modern variation 2", "date": "2026-03-04",
                      "time": "05-06-07", "job": "01234567", "rating": "pass-5star",
                      "n": "007", "batch": "Spring listings"}
    assert set(values) == set(naming.FIELDS)
    template = Template.parse("{batch}/{date}_{input}-{variation}-{rating}-{n}")
    assert template.render(values) == PurePosixPath(
        "Spring listings/2026-03-04_kitchen-modern variation 2-pass-5star-007")


def test_variation_is_the_label_only_where_labels_tell_outputs_apart() -> None:
    assert naming.variation(job(labels=("a", "b", "c")), 2) == "c"
    assert naming.variation(job(labels=("Upscaled",)), 0) == "1"  # one output: its number
    assert naming.variation(job(labels=("Try-on", "Try-on")), 1) == "2"  # same label twice
    assert naming.variation(job(labels=("x", "")), 0) == "1"


def test_rating_words() -> None:
    def word(*reviews: tuple[Verdict | None, int | None]) -> str:
        return naming.rating_word(Review("j", 0, f"r{i}", v, s)
                                  for i, (v, s) in enumerate(reviews))

    assert word() == ""
    assert word((Verdict.PASS, 4)) == "pass-4star"
    assert word((Verdict.PASS, 3), (Verdict.FAIL, 2)) == "fail-3star"  # anyone failed it
    assert word((Verdict.FAIL, None)) == "fail"
    assert word((None, 3), (None, 4)) == "4star"  # 3.5 rounds up
    grouped = naming.group_reviews([Review("j", 0, "a", Verdict.PASS), Review("j", 1, "a"),
                                    Review("j", 0, "b", Verdict.FAIL)])
    assert {k: len(v) for k, v in grouped.items()} == {("j", 0): 2, ("j", 1): 1}


@pytest.mark.parametrize("given, stem", [
    ("../../evil.png", "evil"),
    ("C:\\Users\\ana\\Pictures\\lounge.JPG", "lounge"),
    ("https://user:secret@cdn.example/a/b/Front%20door.webp?token=abc#x", "Front door"),
    ("https://cdn.example/", ""),
    ("data:image/png;base64,AAAA", ""),
    (".hidden", ".hidden"),
])
def test_input_is_the_stem_of_the_name_the_user_gave(given: str, stem: str) -> None:
    assert naming.input_stem(job({"image": [given]})) == stem
    if stem:
        assert "secret" not in stem and "token" not in stem


def test_input_prefers_the_photo_over_the_garment() -> None:
    tryon = job({"garment": ["shirt.png"], "person": ["ana.jpg"]})
    assert naming.input_stem(tryon) == "ana"
    assert naming.input_stem(job({})) == ""


@pytest.mark.parametrize("text", [
    "../x", "a/../b", "/etc/passwd", "\\\\server\\share\\x", "C:\\Windows\\x", "C:/x",
    "a/b/c/d/e/f", "{input}/", "{unknown}", "{input", "input}", "{input!r}", "{n:03d}", "{}",
    "   ", "{job.id}", "{job[0]}",
])
def test_hostile_or_malformed_templates_are_refused_with_a_sentence(text: str) -> None:
    with pytest.raises(InvalidInput) as err:
        Template.parse(text)
    message = str(err.value)
    assert message.startswith("The file name template") and message.endswith(".")
    if "unknown" in message or "partner" in message:
        assert "{input}, {provider}, {task}, {variation}, {date}" in message


def test_an_unknown_field_is_named() -> None:
    with pytest.raises(InvalidInput, match=r"unknown field '\{colour\}'; known fields: "
                                           r"\{input\}, .*\{batch\}\."):
        Template.parse("{input}-{colour}")


@pytest.mark.parametrize("text", [
    "a:b*?", "CON", "con.tar.gz", "nul", "LPT1", "COM9 ", "-rf --no-preserve-root", "...",
    "name. . .", "tab\there", "new\nline", "x" * 300, "é" * 150, "日本語" * 40,
    "photo\u202egnp.exe", "a/b\\c", "", " ", "\x00\x01", "e\u0301" * 120,
])
def test_safe_names_are_portable(text: str) -> None:
    name = safe_name(text)
    assert_portable(name)
    assert "\u202e" not in name
    name.encode("utf-8").decode("utf-8")  # never cut inside a character


def test_safe_name_keeps_what_is_safe() -> None:
    assert safe_name("Living room (modern) – v2") == "Living room (modern) – v2"
    assert safe_name("a:b*?") == "a_b_"
    assert safe_name("CON") == "CON_" and safe_name("con.tar.gz") == "con_.tar.gz"
    assert safe_name("") == naming.FALLBACK
    assert safe_name("x" * 300) == "x" * naming.NAME_MAX_BYTES
    cut = safe_name("e\u0301" * 150)  # e + combining acute: NFC makes it one character
    assert cut == "é" * (naming.NAME_MAX_BYTES // 2)


def test_values_never_make_folders_and_empty_fields_leave_no_gaps() -> None:
    template = Template.parse("{input}--{rating}-{job}")
    path = template.render({"input": "../../etc/passwd", "rating": "", "job": "abc"})
    assert path == PurePosixPath("etc_passwd-abc")
    assert Template.parse("{rating}").render({"rating": ""}) == PurePosixPath("image")
    assert Template.parse("{rating}/{job}").render({"rating": "", "job": "j"}) == (
        PurePosixPath("j"))  # an empty folder level is left out
    assert Template.parse("{input}.jpg").render({"input": "a"}) == PurePosixPath("a")


def test_reserve_never_overwrites_and_is_unique_within_a_run(tmp_path: Path) -> None:
    (tmp_path / "room.png").write_bytes(b"old")
    book = NameBook(tmp_path)
    first = book.reserve(PurePosixPath("room"), [".png"])
    second = book.reserve(PurePosixPath("ROOM"), [".png"])  # same name where case is ignored
    assert [p.name for p in first + second] == ["room (2).png", "ROOM (3).png"]
    (tmp_path / "Hall.PNG").write_bytes(b"old")  # the same file on Windows and macOS
    assert NameBook(tmp_path).reserve(PurePosixPath("hall"), [".png"])[0].name == (
        "hall (2).png")
    again = NameBook(tmp_path, overwrite=True)
    assert again.reserve(PurePosixPath("room"), [".png"])[0].name == "room.png"
    assert again.reserve(PurePosixPath("room"), [".png"])[0].name == "room (2).png"
    (tmp_path / "pair-2-staged.jpg").write_bytes(b"old")
    pair = NameBook(tmp_path).reserve(PurePosixPath("pair"), ["-1-original.png",
                                                              "-2-staged.jpg"])
    assert [p.name for p in pair] == ["pair (2)-1-original.png", "pair (2)-2-staged.jpg"]
    assert (tmp_path / "room.png").read_bytes() == b"old"


def test_a_long_name_keeps_room_for_its_number(tmp_path: Path) -> None:
    stem = PurePosixPath(safe_name("x" * 300))
    (tmp_path / f"{stem}.webp").write_bytes(b"")
    [path] = NameBook(tmp_path).reserve(stem, [".webp"])
    assert path.name.endswith(" (2).webp") and len(path.name.encode()) <= 255


def test_a_link_out_of_the_folder_is_refused(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    folder = tmp_path / "exports"
    folder.mkdir()
    os.symlink(outside, folder / "linked")
    book = NameBook(folder)
    with pytest.raises(InvalidInput, match="outside"):
        book.reserve(PurePosixPath("linked/room"), [".png"])
    assert book.reserve(PurePosixPath("sub/room"), [".png"])[0] == folder / "sub" / "room.png"


@pytest.mark.parametrize("template, given", [
    ("{input}", "../../evil.png"),
    ("{input}/{input}", "../../../../etc/passwd"),
    ("{variation}", ""),
    ("x/{input}", "/etc/passwd"),
    ("{input}", "CON.png"),
    ("{input}", "a:b*?.png"),
    ("{input}", ("y" * 300) + ".png"),
])
def test_hostile_values_stay_in_the_folder(tmp_path: Path, template: str, given: str) -> None:
    values = field_values(job({"image": [given]}, labels=("../../x", "..")), 0)
    stem = Template.parse(template).render(values)
    for part in stem.parts:
        assert_portable(part)
    [path] = NameBook(tmp_path).reserve(stem, [".png"])
    assert path.resolve().is_relative_to(tmp_path.resolve())
