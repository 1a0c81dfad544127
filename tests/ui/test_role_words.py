"""desktop.ui.role_words: what an input role's name says about its picture."""

from __future__ import annotations

import pytest

from desktop.ui.output_images import _before_order
from desktop.ui.role_words import role_kind


@pytest.mark.parametrize(("role", "kind"), [
    ("person", "person"), ("garment", "garment"), ("room", "room"), ("image", "image"),
    ("Dress_Model.garment_image", "garment"), ("Dress_Model.model_image", "person"),
    ("Vton.model_garment", "garment"), ("my_room_photo", "room"),
    ("Backdrop.background_image", "image"), ("Scene.prompt_text", None),
])
def test_role_kind(role: str, kind: str | None) -> None:
    assert role_kind(role) == kind


def test_the_before_is_the_workflows_person_then_room_then_image_then_garment() -> None:
    roles = {"Dress_Model.garment_image": [], "Backdrop.background_image": [],
             "Dress_Model.model_image": [], "Scene.mask": []}
    assert _before_order(roles) == ["Dress_Model.model_image", "Backdrop.background_image",
                                    "Dress_Model.garment_image", "Scene.mask"]
    assert _before_order({"garment": [], "person": []}) == ["person", "garment"]
