"""What an export needs from the services and the settings, for the window and restyle-cli:
the sources the runner reads (reviews, batch names, provider titles), the provenance hooks
(metadata always, a JSON sidecar, a C2PA manifest signed with the user's certificate), the
original's address from the settings' pattern, and the C2PA "Test" of Settings > Export.

No Qt. Functions that read files (`c2pa_signer`, `test_c2pa`, `export_sources`) block: the
window calls them in a worker thread.
"""

from __future__ import annotations

import datetime as dt
import io
import string
import urllib.parse
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from desktop.config import Settings
from desktop.core.catalog import COMMON_TASKS
from desktop.core.exports.c2pa_signing import C2paSigner, verify
from desktop.core.exports.composites import ListingLabel, check_original_url
from desktop.core.exports.files import ExportSources
from desktop.core.exports.naming import group_reviews
from desktop.core.exports.stamping import Stamping
from desktop.core.model import InvalidInput, Job
from desktop.general_settings import (
    C2PA_CERT,
    C2PA_KEY,
    LISTING_CORNER,
    LISTING_LABEL,
    LISTING_QR,
    LISTING_SIZE,
    LISTING_URL,
    MAX_URL_PATTERN,
    general_setting,
)
from desktop.services import Services

#: The fields an original's address pattern may use.
URL_FIELDS: dict[str, str] = {
    "folder": "the export folder's name (a listing's folder: 'Listing 14')",
    "date": "today, YYYY-MM-DD",
}
C2PA_NOT_SET_UP = ("C2PA signing is off: no certificate and private key are set up. Choose "
                   "your PEM certificate chain and key in Settings > Export.")


# -- sources and titles --------------------------------------------------------------------------


def provider_titles(services: Services, provider_ids: Iterable[str]) -> dict[str, str]:
    """Each provider's title (its id when it is not installed any more)."""
    titles: dict[str, str] = {}
    for pid in set(provider_ids):
        try:
            titles[pid] = services.provider_class(pid).title
        except KeyError:
            titles[pid] = pid
    return titles


def offline_providers(services: Services) -> frozenset[str]:
    """Providers whose work is Restyle's own pixel operations: no AI source type to declare."""
    return frozenset(pid for pid in services.provider_ids()
                     if services.provider_class(pid).resubmit_safe)


def batch_names(services: Services, jobs: Sequence[Job]) -> dict[str, str]:
    """The batch name (else its id's first 8 characters) of each job that is in a batch."""
    store = services.batch_store()
    names: dict[str, str] = {}
    found: dict[str, str] = {}
    for job in jobs:
        cell = store.batch_of_job(job.id)
        if cell is None:
            continue
        if cell[0] not in names:
            batch = store.get(cell[0])
            names[cell[0]] = (batch.name.strip() if batch and batch.name.strip()
                              else cell[0][:8])
        found[job.id] = names[cell[0]]
    return found


def export_sources(services: Services, jobs: Sequence[Job]) -> ExportSources:
    """What names and captions need besides the files (blocking: it reads the database)."""
    ratings = group_reviews(services.review_store().for_jobs([j.id for j in jobs]))
    return ExportSources(services.assets, services.history.asset,
                         limits=services.settings.limits, ratings=ratings,
                         batches=batch_names(services, jobs),
                         provider_titles=provider_titles(services, (j.provider for j in jobs)))


# -- provenance ----------------------------------------------------------------------------------


def c2pa_paths(settings: Settings) -> tuple[Path, Path] | None:
    """The certificate chain and private key files named in Settings > Export, or None when
    either is missing from the settings."""
    cert = str(general_setting(settings, C2PA_CERT))
    key = str(general_setting(settings, C2PA_KEY))
    if not cert or not key:
        return None
    return Path(cert).expanduser(), Path(key).expanduser()


def c2pa_signer(settings: Settings) -> C2paSigner:
    """The signer from the settings' files (blocking: it reads them); InvalidInput with a
    sentence when they are not set up or cannot be used (a configuration problem: the CLI
    exits 3)."""
    paths = c2pa_paths(settings)
    if paths is None:
        raise InvalidInput(C2PA_NOT_SET_UP)
    return C2paSigner.from_files(*paths)


def stamping(services: Services, jobs: Sequence[Job], *, sidecar: bool,
             signer: C2paSigner | None,
             task_titles: Mapping[str, str] | None = None) -> Stamping:
    """The provenance hooks for exporting `jobs` (the stored jobs, whole)."""

    def read_input(sha256: str) -> tuple[str, bytes] | None:
        asset = services.history.asset(sha256)
        if asset is None:
            return None
        try:
            return sha256[:12], services.assets.read(asset)
        except OSError:
            return None

    return Stamping(jobs={j.id: j for j in jobs},
                    provider_titles=provider_titles(services, (j.provider for j in jobs)),
                    task_titles=dict(task_titles or dict(COMMON_TASKS)),
                    offline=offline_providers(services), sidecar=sidecar, signer=signer,
                    read_input=read_input)


# -- the listing label ---------------------------------------------------------------------------


def original_url(pattern: str, folder: Path, today: dt.date | None = None) -> str:
    """The original's address from the settings' pattern: `{folder}` becomes the export
    folder's name (URL-quoted), `{date}` today's date. InvalidInput for an unknown field or an
    address that cannot be printed on a photo; "" for an empty pattern."""
    pattern = pattern.strip()
    if not pattern:
        return ""
    if len(pattern) > MAX_URL_PATTERN:
        raise InvalidInput(f"The originals' address is {len(pattern)} characters long; keep it "
                           f"under {MAX_URL_PATTERN}.")
    values = {"folder": urllib.parse.quote(folder.name or "photos", safe=""),
              "date": (today or dt.date.today()).isoformat()}
    out: list[str] = []
    try:
        parsed = list(string.Formatter().parse(pattern))
    except ValueError:
        raise InvalidInput("The originals' address has a '{' or '}' without its partner; write "
                           "fields as {folder} or {date}.") from None
    for literal, name, spec, conversion in parsed:
        out.append(literal)
        if name is None:
            continue
        if name not in URL_FIELDS or spec or conversion:
            raise InvalidInput(f"The originals' address has an unknown field '{{{name[:30]}}}'; "
                               "it may use {folder} and {date}.")
        out.append(values[name])
    url = "".join(out)
    check_original_url(url)
    return url


def listing_label(settings: Settings, folder: Path) -> ListingLabel:
    """The listing label the settings describe, its address made for `folder` (an address
    that does not work leaves the label without one: the export dialog says why)."""
    try:
        url = original_url(str(general_setting(settings, LISTING_URL)), folder) or None
    except InvalidInput:
        url = None
    return ListingLabel(text=str(general_setting(settings, LISTING_LABEL)),
                        corner=str(general_setting(settings, LISTING_CORNER)),
                        size=float(general_setting(settings, LISTING_SIZE)) / 100, url=url,
                        qr=bool(general_setting(settings, LISTING_QR)) and url is not None)


# -- the C2PA test -------------------------------------------------------------------------------


@dataclass(frozen=True)
class C2paTest:
    ok: bool
    message: str


def test_c2pa(cert_chain: Path, private_key: Path) -> C2paTest:
    """Sign a small image with these files and verify it (blocking). The answer is a
    sentence: who signed and until when the certificate is valid, or what is wrong."""
    from PIL import Image

    from desktop.core.exports import provenance

    try:
        signer = C2paSigner.from_files(cert_chain.expanduser(), private_key.expanduser())
        buf = io.BytesIO()
        Image.new("RGB", (64, 48), (180, 120, 90)).save(buf, "PNG")
        facts = provenance.Provenance(
            job_id="c2pa-test", provider_id="local", provider_title="Restyle",
            task_id="test", task_title="C2PA test", params={}, remote_id=None,
            created_at=provenance.iso_utc(dt.datetime.now(dt.UTC).timestamp()),
            finished_at=None, restyle_version=provenance.restyle_version(), output_position=0,
            output_count=1, inputs={}, digital_source_type=None)
        signed = signer.sign(provenance.embed(buf.getvalue(), "png", facts), "png", facts,
                             title="c2pa-test.png")
        report = verify(signed, "png")
    except InvalidInput as exc:
        return C2paTest(False, str(exc))
    if not report.signature_valid:
        return C2paTest(False, f"A test image was signed but does not verify: {report.message} "
                               "Check that the key belongs to the certificate.")
    trust = ("" if report.trusted else " Readers that do not trust its certificate authority "
             "show the signer as unknown, but the signature holds.")
    return C2paTest(True, f"Signed and verified a test image as {signer.subject} "
                          f"({signer.algorithm.upper()}, certificate valid until "
                          f"{signer.not_after[:10]}).{trust}")
