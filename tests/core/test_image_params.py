"""desktop.core.image_params: an image parameter holding a path or address becomes an input of
the job; inline image data stays a parameter."""

from __future__ import annotations

import base64

import pytest

from desktop.core.image_params import is_inline_image, params_to_inputs
from desktop.core.model import InvalidInput, JobSpec
from tests.fakes import png_bytes

PNG = png_bytes((10, 20, 30), (8, 8))


@pytest.mark.parametrize(("text", "inline"), [
    (base64.b64encode(PNG).decode(), True),
    ("data:image/png;base64," + base64.b64encode(PNG).decode(), True),
    (base64.b64encode(b"plain words, not an image at all").decode(), False),
    ("shirt.jpg", False),
    ("/home/ana/Pictures/lookbook/shirt", False),
    ("https://cdn.example.com/shirt.jpg", False),
    ("abcd", False),
])
def test_inline_image_or_a_source_to_read(text: str, inline: bool) -> None:
    assert is_inline_image(text) is inline


def test_a_path_and_an_address_move_into_the_inputs() -> None:
    spec = JobSpec("p", "t", {"person": ["me.jpg"]},
                   {"garment_image": " shirt.jpg ", "bg": "https://x.test/bg.png",
                    "inline": base64.b64encode(PNG).decode(), "strength": "0.5"})
    moved, names = params_to_inputs(spec, {"garment_image": "garment", "bg": "Backdrop.bg",
                                           "inline": "Node.inline"})
    assert moved.inputs == {"person": ["me.jpg"], "garment": ["shirt.jpg"],
                            "Backdrop.bg": ["https://x.test/bg.png"]}
    assert moved.params == {"inline": spec.params["inline"], "strength": "0.5"}
    assert names == {"garment": "garment_image", "Backdrop.bg": "bg"}
    assert spec.params["garment_image"] == " shirt.jpg "  # the spec given is left alone


def test_an_empty_value_is_unset() -> None:
    moved, names = params_to_inputs(JobSpec("p", "t", {}, {"x": "  ", "y": None}),
                                    {"x": "x", "y": "y"})
    assert (moved.params, moved.inputs, names) == ({}, {}, {})


@pytest.mark.parametrize(("spec", "words"), [
    (JobSpec("p", "t", {"person": ["a.jpg"]}, {"model_image": "b.jpg"}),
     "Parameter 'model_image' gives an image that is also given as the 'person' input; "
     "give it once."),
    (JobSpec("p", "t", {}, {"model_image": 3}),
     "Parameter 'model_image' is an image: give a file's path or an http(s) address (got 3)."),
])
def test_refusals_say_what_to_do(spec: JobSpec, words: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        params_to_inputs(spec, {"model_image": "person"})
    assert str(caught.value) == words
