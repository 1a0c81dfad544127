"""Images given as parameters: `--param Node.garment_image=shirt.jpg`, a form row naming a
file. Such a value is the job's input, not text: it is read, decoded and checked like any input
and stored with the job, and the provider sends it the way its API wants (base64, a URL, an
upload) - never the path.

The provider says which parameters carry images (`Provider.image_params`); this module moves
their values into the job's inputs before the spec is validated. Inline image data the service
takes as it is (base64, a data: URI) stays a parameter for the provider to check.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import re
from collections.abc import Mapping

from desktop.core.imaging import sniff_mime
from desktop.core.model import InvalidInput, JobSpec
from desktop.core.sources import shown

_BASE64 = re.compile(r"[A-Za-z0-9+/=\s]+")
#: Enough base64 to hold any image's magic number; a path is never this long and all base64.
_HEAD = 64


def is_inline_image(text: str) -> bool:
    """True for a data: URI, or for base64 whose bytes start like an image: a value the service
    decodes itself. Anything else (a path, a web address) is a source to read."""
    text = text.strip()
    if text[:5].lower() == "data:":
        return True
    if len(text) < 16 or not _BASE64.fullmatch(text[: _HEAD * 4]):
        return False
    head = "".join(text[: _HEAD * 4].split())
    head = head[: len(head) // 4 * 4]
    try:
        data = base64.b64decode(head, validate=True)
    except (binascii.Error, ValueError):
        return False
    return (sniff_mime(data) or "").startswith("image/")


def params_to_inputs(spec: JobSpec, roles: Mapping[str, str]
                     ) -> tuple[JobSpec, dict[str, str]]:
    """`spec` with every image parameter named in `roles` ({parameter: input role}) that holds
    a path or an http(s) address moved into that role's inputs, and {role: parameter} of the
    moves (so a sentence about the file can name the parameter). An empty value is dropped.

    Raises InvalidInput for a value that is not text, or for a role that already has an input
    (the same image given twice)."""
    moved: dict[str, str] = {}
    if not roles:
        return spec, moved
    params = dict(spec.params)
    inputs = {role: list(items) for role, items in spec.inputs.items()}
    for name, role in roles.items():
        if name not in params:
            continue
        value = params[name]
        if value is None or (isinstance(value, str) and not value.strip()):
            del params[name]
            continue
        if not isinstance(value, str):
            raise InvalidInput(f"Parameter '{shown(name, 60)}' is an image: give a file's path or "
                               f"an http(s) address (got {shown(repr(value), 40)}).")
        if is_inline_image(value):
            continue
        if inputs.get(role):
            raise InvalidInput(f"Parameter '{shown(name, 60)}' gives an image that is also given "
                               f"as the '{shown(role, 60)}' input; give it once.")
        inputs[role] = [value.strip()]
        moved[role] = name
        del params[name]
    return dataclasses.replace(spec, params=params, inputs=inputs), moved
