"""The provenance an export adds to every image it makes, as the two hooks `files.export_jobs`
takes: `stamp` writes the facts into the encoded file (provenance.embed) and, when a signer is
given, signs it with a C2PA manifest last (c2pa_signing: the manifest binds every byte);
`extra_files` gives the JSON sidecar (`<image name>.json`) when asked for.

A listing set's unaltered original gets neither: it is the user's photo, not something a
provider made. The facts come from the job as stored (`jobs`), also when the runner was given
a copy narrowed to one output (the window's "the shown result"), so the output's position and
count are the job's own. Blocking and pure (no Qt, no network): the runner calls the hooks in
its worker thread.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from desktop.core.exports import provenance
from desktop.core.exports.c2pa_signing import C2paSigner, split_ingredients
from desktop.core.exports.files import ExportedImage
from desktop.core.exports.provenance import Provenance
from desktop.core.model import InvalidInput, Job

#: The sidecar's suffix after the image's own name: `room-1.jpg.json`.
SIDECAR_SUFFIX = ".json"

#: (sha256) -> (the input's file name, its bytes), or None when it is not stored any more.
ReadInput = Callable[[str], "tuple[str, bytes] | None"]


@dataclass
class Stamping:
    """Provenance for one export run. `offline`: provider ids whose work is Restyle's own pixel
    operations (no IPTC AI source type). `read_input` finds an input's bytes for the C2PA
    ingredients; it is only called when `signer` is set."""

    jobs: Mapping[str, Job]
    provider_titles: Mapping[str, str] = field(default_factory=dict)
    task_titles: Mapping[str, str] = field(default_factory=dict)
    offline: frozenset[str] = frozenset()
    sidecar: bool = False
    signer: C2paSigner | None = None
    read_input: ReadInput | None = None
    _facts: dict[tuple[str, int], Provenance] = field(default_factory=dict, repr=False)

    def facts(self, job: Job, position: int) -> Provenance:
        """The facts of output `position` of `job` (the stored job's, when the runner was
        given a narrowed copy)."""
        key = (job.id, position)
        found = self._facts.get(key)
        if found is None:
            whole = self.jobs.get(job.id, job)
            found = provenance.provenance_for(
                whole, position,
                provider_title=self.provider_titles.get(whole.provider, whole.provider),
                task_title=self.task_titles.get(whole.task, ""),
                source_type=provenance.digital_source_type(
                    whole, offline=whole.provider in self.offline))
            self._facts[key] = found
        return found

    def stamp(self, data: bytes, fmt: str, job: Job, position: int) -> bytes:
        """The `stamp` hook: metadata embedded, then the C2PA manifest when signing."""
        facts = self.facts(job, position)
        stamped = provenance.embed(data, fmt, facts)
        if self.signer is None:
            return stamped
        parent, components = split_ingredients(self._ingredients(self.jobs.get(job.id, job)))
        return self.signer.sign(stamped, fmt, facts, parent=parent, components=components)

    def extra_files(self, image: ExportedImage) -> dict[str, bytes]:
        """The `extra_files` hook: the JSON sidecar of every image but an original."""
        if not self.sidecar or image.kind == "original":
            return {}
        facts = self.facts(image.job, image.position)
        return {SIDECAR_SUFFIX: provenance.sidecar_json(facts).encode("utf-8")}

    def _ingredients(self, job: Job) -> dict[str, list[tuple[str, bytes]]]:
        """The job's input images by role as (file name, bytes), for the manifest."""
        if self.read_input is None:
            return {}
        found: dict[str, list[tuple[str, bytes]]] = {}
        for role, shas in job.inputs.items():
            names = job.spec.inputs.get(role, [])
            for number, sha in enumerate(shas):
                read = self.read_input(sha)
                if read is None:
                    raise InvalidInput(
                        f"The {role} photo of job {job.id[:8]} is no longer in Restyle's "
                        "asset store, so the C2PA manifest cannot name it; export without "
                        "C2PA.")
                name = names[number] if number < len(names) else read[0]
                found.setdefault(role, []).append((name, read[1]))
        return found
