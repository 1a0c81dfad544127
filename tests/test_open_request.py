"""`restyle FILE...` arguments made absolute (paths, ~, file:// URIs from a desktop entry's %F)
and the versioned JSON lines a second `restyle` hands to the running window, with validation."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from desktop.open_request import (
    MAX_LINE,
    VERSION,
    OpenRequest,
    ProtocolError,
    argument_source,
    decode_answer,
    decode_request,
    encode_answer,
    encode_request,
    request_from_arguments,
)


def test_paths_are_made_absolute_against_the_callers_folder(tmp_path: Path) -> None:
    cwd = str(tmp_path)
    assert argument_source("shirt.png", cwd) == str(tmp_path / "shirt.png")
    assert argument_source("sub/../a b.jpg", cwd) == str(tmp_path / "a b.jpg")
    assert argument_source("/x/y.png", cwd) == "/x/y.png"
    assert argument_source("~/p.png", cwd) == os.path.expanduser("~/p.png")


def test_file_uris_become_local_paths(tmp_path: Path) -> None:
    cwd = str(tmp_path)
    assert argument_source("file:///tmp/a%20b/%C3%A9t%C3%A9.png", cwd) == "/tmp/a b/été.png"
    assert argument_source("file://localhost/tmp/x.png", cwd) == "/tmp/x.png"
    assert argument_source("FILE:/tmp/x.png", cwd) == "/tmp/x.png"
    with pytest.raises(ProtocolError, match="another computer"):
        argument_source("file://nas/photos/x.png", cwd)
    with pytest.raises(ProtocolError, match="empty"):
        argument_source("  ", cwd)


def test_web_addresses_are_kept_for_the_pane_to_judge(tmp_path: Path) -> None:
    url = "https://example.com/a.png?x=1"
    assert argument_source(url, str(tmp_path)) == url


def test_the_command_line_request(tmp_path: Path) -> None:
    cwd = str(tmp_path)
    request = request_from_arguments(["p.png", "file://nas/x.png"], "person", ["a", "b"], cwd)
    assert request.kind == "open" and request.role == "person"
    assert request.files == (str(tmp_path / "p.png"),)
    assert request.compare == (str(tmp_path / "a"), str(tmp_path / "b"))
    assert len(request.notes) == 1 and "another computer" in request.notes[0]
    assert request_from_arguments([], None, [], cwd) == OpenRequest(kind="raise")


def test_requests_round_trip_as_one_json_line() -> None:
    request = OpenRequest(("/a/é.png", "https://x/y.png"), "garment", ("/c", "/d"), ("note",))
    line = encode_request(request)
    assert line.endswith(b"\n") and line.count(b"\n") == 1
    assert json.loads(line)["v"] == VERSION
    assert decode_request(line.rstrip(b"\n")) == request
    raised = encode_request(OpenRequest(kind="raise"))
    assert decode_request(raised.strip()) == OpenRequest(kind="raise")
    assert decode_answer(encode_answer().strip()).ok
    refused = decode_answer(encode_answer("No.").strip())
    assert not refused.ok and refused.error == "No."


def _line(**fields: object) -> bytes:
    return json.dumps({"v": VERSION, "kind": "open", "files": ["/a.png"], **fields}).encode()


@pytest.mark.parametrize(("line", "why"), [
    (b"not json", "not JSON"),
    (b"[1, 2]", "not a JSON object"),
    (b"\xff\xfe", "not JSON"),
    (_line(v=2), "version 2"),
    (_line(v=True), "version True"),
    (json.dumps({"kind": "open", "files": ["/a"]}).encode(), "version None"),
    (_line(kind="delete"), "unknown kind"),
    (_line(role="shoe"), "unknown role"),
    (_line(files="/a.png"), "not a list of strings"),
    (_line(files=[1]), "not a list of strings"),
    (_line(files=["relative.png"]), "relative path"),
    (_line(files=["/a\nb"]), "multi-line"),
    (_line(files=[""]), "empty"),
    (_line(files=["/a"] * 1001), "more than 1000"),
    (_line(compare=["x"]), "relative path"),
    (_line(notes=[3]), "not a list of strings"),
    (_line(files=[]), "names no file"),
    (b"x" * (MAX_LINE + 1), "longer than"),
])
def test_bad_messages_are_refused_with_the_reason(line: bytes, why: str) -> None:
    with pytest.raises(ProtocolError, match=why):
        decode_request(line)


def test_a_bad_answer_is_refused() -> None:
    with pytest.raises(ProtocolError):
        decode_answer(json.dumps({"v": VERSION}).encode())
    with pytest.raises(ProtocolError):
        decode_answer(json.dumps({"v": 0, "ok": True}).encode())
