"""What kind of picture an input role holds, read from its name: the usual roles are named
after it ("person", "garment"), a saved workflow's own inputs usually say it in their words
("Dress_Model.garment_image", "my_room_photo"). Used to fill a workflow's panes with the
matching sample and to pick the "before" a result is compared with."""

from __future__ import annotations

#: Kinds in the order their words are tried (a "model_garment" input is a garment).
_WORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("garment", ("garment", "cloth", "shirt", "dress", "top", "outfit", "apparel")),
    ("person", ("model", "person", "people", "human", "face", "pose", "portrait")),
    ("room", ("room", "interior", "house", "home")),
)
KINDS = ("person", "garment", "room", "image")


def role_kind(role: str) -> str | None:
    """'person', 'garment', 'room' or 'image' for a role whose name says so; None otherwise.
    The parameter's own words count before the node's ("Dress_Model.garment_image" is a
    garment)."""
    if role in KINDS:
        return role
    node, _, key = role.lower().rpartition(".")
    for part in (key, node):
        for kind, words in _WORDS:
            if any(word in part for word in words):
                return kind
    return "image" if "image" in key or "photo" in key else None
