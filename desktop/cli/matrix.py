"""`restyle-cli batch`'s arguments made into a Matrix: sources expanded (files, folders,
globs), the rows' role chosen, garments grouped, parameters made into axes."""

from __future__ import annotations

import glob
import json
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from desktop.cli.args import param_value, split_param
from desktop.cli.errors import EXIT_USAGE, CliError
from desktop.core.batches import (
    PRIMARY_ROLES,
    Matrix,
    Variant,
    garment_groups,
    param_axes,
    split_values,
    variant_title,
)
from desktop.core.model import InvalidInput, ParamType, TaskSpec
from desktop.core.sources import (
    absolute_path,
    classify,
    file_name,
    is_http_url,
    shown,
    url_name,
)

#: What a folder or a glob contributes: files with these endings (any case), by name.
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".avif", ".bmp", ".tif", ".tiff", ".gif",
                  ".heic", ".heif")
#: Parameter types whose comma lists make an axis; text, colours, points and JSON keep their
#: commas ("a red dress, long", "120,45"): repeat the key to make an axis of them.
SPLIT_TYPES = (ParamType.CHOICE, ParamType.NUMBER, ParamType.INTEGER, ParamType.BOOLEAN)
#: The largest batch one command makes: a typo in an axis should not plan a million jobs.
MAX_CELLS = 10_000
ROLES = ("person", "garment", "room", "image")


def expand_sources(flag: str, given: Sequence[str]) -> list[str]:
    """Each --FLAG value as sources: an http(s) URL as it is; a folder as its image files
    sorted by name; a glob (also quoted, so the shell left it alone) as the image files it
    matches, sorted by name; a file as its absolute path. CliError (exit 2) with a sentence
    for a glob or folder with no image, a missing file, or a source Restyle cannot read."""
    sources: list[str] = []
    for text in given:
        if is_http_url(text):
            sources.append(text)
            continue
        path = os.path.expanduser(text)
        if os.path.isdir(path):
            found = _images_in(sorted(os.path.join(path, name) for name in os.listdir(path)))
            if not found:
                raise CliError(f"--{flag} {shown(text)} is a folder with no image files in it "
                               f"(looked for {', '.join(IMAGE_SUFFIXES)}).", EXIT_USAGE)
            sources.extend(found)
            continue
        if not os.path.lexists(path) and glob.has_magic(path):
            found = _images_in(sorted(glob.glob(path)))
            if not found:
                raise CliError(f"--{flag} {shown(text)} matches no image files; check the "
                               "pattern and the folder.", EXIT_USAGE)
            sources.extend(found)
            continue
        try:
            classify(text)
        except InvalidInput as exc:
            raise CliError(f"--{flag}: {exc}", EXIT_USAGE) from None
        if not os.path.lexists(path):
            raise CliError(f"--{flag} {shown(text)} does not exist.", EXIT_USAGE)
        sources.append(absolute_path(text))
    return sources


def _images_in(paths: Sequence[str]) -> list[str]:
    return [absolute_path(p) for p in paths
            if p.lower().endswith(IMAGE_SUFFIXES) and os.path.isfile(p)]


def source_name(source: str) -> str:
    """A short name for a source in titles and tables: its file name, or its URL's."""
    return url_name(source) if is_http_url(source) else file_name(source)


@dataclass(frozen=True)
class MatrixRequest:
    """What the command line asked for, before it becomes a Matrix."""

    task: str
    providers: tuple[str, ...]
    inputs: Mapping[str, Sequence[str]]  # role -> the flags' values, as given
    params: Sequence[str]  # KEY=VALUE items
    garments_per_job: int | None = None


def build_matrix(request: MatrixRequest,
                 task_of: Callable[[str], TaskSpec | None]) -> Matrix:
    """The Matrix for `request`; `task_of(provider)` gives the task's spec at a provider (or
    None), which decides which parameters' comma lists are axes. CliError (exit 2)."""
    sources = {role: expand_sources(role, request.inputs.get(role) or ()) for role in ROLES}
    rows_roles = [r for r in PRIMARY_ROLES if sources[r]]
    if not rows_roles:
        raise CliError("A batch needs images to work on: give --person (try-on), --room "
                       "(staging) or --image (other tasks), each a file, a folder or a glob.",
                       EXIT_USAGE)
    role = rows_roles[0]
    if len(rows_roles) > 1 and not _task_takes_both(request, task_of, rows_roles):
        raise CliError(f"Give the images to work on with one of --{' or --'.join(rows_roles)}"
                       f" (the rows of the batch), not both.", EXIT_USAGE)
    groups = _garment_groups(sources["garment"], request.garments_per_job)
    fixed_inputs = {r: list(s) for r, s in sources.items()
                    if s and r not in (role, "garment")}
    fixed, axes = _param_axes(request, task_of)
    variants = []
    for group in groups:
        for combo in param_axes(axes):
            inputs: dict[str, list[str]] = {"garment": list(group)} if group else {}
            inputs.update(fixed_inputs)
            shown_inputs = {"garment": list(group)} if group else {}
            title = variant_title(shown_inputs, combo, source_name)
            variants.append(Variant(title, inputs, combo))
    cells = len(sources[role]) * len(variants) * len(request.providers)
    if cells > MAX_CELLS:
        raise CliError(f"This batch would have {cells} jobs; one batch takes at most "
                       f"{MAX_CELLS}. Split it, or use fewer values per parameter.", EXIT_USAGE)
    return Matrix(task=request.task, providers=request.providers, role=role,
                  rows=tuple(sources[role]), variants=tuple(variants), params=fixed)


def _task_takes_both(request: MatrixRequest, task_of: Callable[[str], TaskSpec | None],
                     roles: Sequence[str]) -> bool:
    """Whether the task itself takes several of the row roles (then the first makes the rows
    and the others go with every job)."""
    for provider in request.providers:
        task = task_of(provider)
        if task is not None and all(any(i.role == r for i in task.inputs) for r in roles):
            return True
    return False


def _garment_groups(garments: Sequence[str], size: int | None) -> list[tuple[str, ...]]:
    if size is not None and not garments:
        raise CliError("--garments-per-job groups garments: give them with --garment.",
                       EXIT_USAGE)
    if not garments:
        return [()]
    try:
        return garment_groups(garments, size or 1)
    except InvalidInput as exc:
        raise CliError(f"--garments-per-job: {exc}", EXIT_USAGE) from None


def _param_axes(request: MatrixRequest, task_of: Callable[[str], TaskSpec | None]
                ) -> tuple[dict[str, Any], dict[str, list[Any]]]:
    """(parameters with one value, parameters with several: the axes). A repeated key makes
    an axis; so does a comma list for a choice, number, integer or boolean parameter."""
    values: dict[str, list[Any]] = {}
    for item in request.params:
        key, raw = split_param(item)
        if raw.lstrip().startswith(("[", "{")):
            parts: list[Any] = [param_value(key, raw)]
        elif _splits(key, request.providers, task_of):
            parts = split_values(raw)
        else:
            parts = [raw]
        known = values.setdefault(key, [])
        for part in parts:
            if not any(_same(part, k) for k in known):
                known.append(part)
    fixed = {k: v[0] for k, v in values.items() if len(v) == 1}
    axes = {k: v for k, v in values.items() if len(v) > 1}
    return fixed, axes


def _splits(key: str, providers: Sequence[str],
            task_of: Callable[[str], TaskSpec | None]) -> bool:
    """A comma list is an axis when every provider that knows the parameter knows it as a
    choice, number, integer or boolean (and at least one knows it)."""
    types = []
    for provider in providers:
        task = task_of(provider)
        spec = task.param(key) if task is not None else None
        if spec is not None:
            types.append(spec.type)
    return bool(types) and all(t in SPLIT_TYPES for t in types)


def _same(a: Any, b: Any) -> bool:
    return json.dumps(a, sort_keys=True, default=str) == json.dumps(b, sort_keys=True,
                                                                    default=str)
