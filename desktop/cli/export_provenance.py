"""`restyle-cli export`'s provenance and bundle options: what made each image is always
written into it (provenance.embed through core/exports/stamping.py); `--sidecar` adds the JSON
beside it, `--c2pa` signs it with the certificate and key set in Settings > Export (a missing
or unusable setup is a configuration problem: exit 3), `--bundle` also saves the exported jobs
as one job bundle in the folder."""

from __future__ import annotations

import argparse
import datetime as dt
from collections.abc import Sequence
from pathlib import Path, PurePosixPath
from typing import Any

from desktop.cli.errors import EXIT_SETUP, EXIT_USAGE, CliError
from desktop.core.exports.bundle import BundleWritten, write_bundle
from desktop.core.exports.naming import NameBook
from desktop.core.exports.stamping import Stamping
from desktop.core.model import InvalidInput, Job
from desktop.export_setup import c2pa_signer, stamping
from desktop.services import Services


def add_arguments(p: Any) -> None:
    p.add_argument("--sidecar", action="store_true",
                   help="write what made each image as JSON beside it (<file name>.json)")
    p.add_argument("--c2pa", action="store_true",
                   help="sign each image with a C2PA manifest, using the certificate chain and "
                        "private key set in Settings > Export (exit 3 when they are not set up)")
    p.add_argument("--bundle", action="store_true",
                   help="also save the jobs as one job bundle (.zip) in the folder, for "
                        "`restyle-cli import` or Import bundle… elsewhere")


def hooks(services: Services, args: argparse.Namespace, jobs: Sequence[Job]) -> Stamping:
    """The provenance hooks for this export; CliError exit 3 when --c2pa cannot sign."""
    signer = None
    if args.c2pa:
        try:
            signer = c2pa_signer(services.settings)
        except InvalidInput as exc:
            raise CliError(str(exc), EXIT_SETUP) from None
    return stamping(services, jobs, sidecar=args.sidecar, signer=signer)


def bundle_name(jobs: Sequence[Job]) -> str:
    if len(jobs) == 1:
        return f"restyle-{jobs[0].id[:8]}"
    return f"restyle-{len(jobs)}-jobs-{dt.date.today().isoformat()}"


def save_bundle(services: Services, jobs: Sequence[Job], out: Path, *,
                overwrite: bool) -> BundleWritten:
    """The jobs as one bundle in `out`, under a name no other file has (unless
    `overwrite`); CliError exit 2 when it cannot be written."""
    try:
        path = NameBook(out, overwrite=overwrite).reserve(
            PurePosixPath(bundle_name(jobs)), [".zip"])[0]
        return write_bundle(list(jobs), services.history, services.assets,
                            services.review_store(), path)
    except InvalidInput as exc:
        raise CliError(str(exc), EXIT_USAGE) from None
