"""`restyle-cli vsai`: Virtual Staging AI's tools.

- `renders`: the account's past renders, newest first, with how far each got;
- `variations RENDER_ID`: more variations of a past render, as a job (the provider's
  `variations` task) through the engine like `run`: recorded, never sent twice, in the history;
  it says what it costs in photos of the plan and asks first (`--yes` skips the question);
- `analyze SRC`: how much of a photo is furniture, in plain words (`--mask-out` saves the mask);
- `compatibility SRC SRC`: whether two photos can be staged together;
- `bulk SRC...`: staging renders of every photo in folders, files or globs: a batch
  (`restyle-cli batch --provider virtualstaging --task staging --room ...`).
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from pathlib import Path
from typing import Any, TextIO

from desktop.cli.args import parse_params, timeout_seconds
from desktop.cli.batches import _credits, cmd_batch
from desktop.cli.checks import check_out_dir, reason
from desktop.cli.errors import EXIT_OK, EXIT_USAGE, CliError
from desktop.cli.jobs import cmd_run
from desktop.cli.output import iso, local_time, print_json
from desktop.cli.tool_common import (
    confirm,
    failure,
    positive_int,
    say,
    tool_provider,
    tool_ready,
)
from desktop.core import imaging
from desktop.core.engine import JobEngine
from desktop.core.files import atomic_write
from desktop.core.model import InvalidInput, JobSpec
from desktop.core.provider_tools import (
    StagingTools,
    analysis_words,
    compatibility_words,
    photos_sentence,
    render_state_words,
)
from desktop.core.sources import shown
from desktop.providers.base import PreparedInput, ProviderError
from desktop.services import Services

PROVIDER = "virtualstaging"
ACTIONS = ("renders", "variations", "analyze", "compatibility", "bulk")


def add_parsers(sub: Any) -> None:
    p = sub.add_parser(
        "vsai", help="Virtual Staging AI tools: past renders, more variations, furniture "
                     "analysis, multi-view check, bulk staging",
        description="Virtual Staging AI's tools besides a staging job.")
    actions = p.add_subparsers(dest="action", required=True, metavar="{" + ",".join(ACTIONS)
                               + "}")

    a = actions.add_parser("renders", help="list past renders, newest first")
    a.add_argument("--limit", type=positive_int(1, 100), default=20, metavar="N",
                   help="renders on the page (1 to 100; default 20)")
    a.add_argument("--cursor", metavar="RENDER_ID",
                   help="start after this render (the next_cursor of the last page)")
    _common(a)

    a = actions.add_parser("variations", help="add variations to a past render (paid: asks "
                                              "first)")
    a.add_argument("render_id", metavar="RENDER_ID",
                   help="the render's id (`restyle-cli vsai renders` lists them)")
    a.add_argument("--param", action="append", default=[], metavar="KEY=VALUE",
                   help="type, room_type, style, remove_furniture, sky, variation_count, result")
    a.add_argument("--yes", action="store_true", help="send without asking")
    a.add_argument("--out", type=Path, metavar="DIR", help="copy the new variations into DIR")
    a.add_argument("--timeout", type=timeout_seconds, metavar="SECONDS",
                   help="deadline for the job (default: the provider's setting)")
    a.add_argument("--no-wait", action="store_true",
                   help="return once the service has accepted the job")
    _common(a)

    a = actions.add_parser("analyze", help="how much of a photo is furniture")
    a.add_argument("source", metavar="SRC", help="a photo: a local path or an http(s) URL")
    a.add_argument("--mask-out", type=Path, metavar="FILE",
                   help="save the furniture mask (an image) to FILE")
    _common(a)

    a = actions.add_parser("compatibility",
                           help="can two photos be staged together (multi-view)?")
    a.add_argument("sources", nargs=2, metavar="SRC", help="two photos: paths or URLs")
    _common(a)

    a = actions.add_parser("bulk", help="stage every photo of folders, files or globs (a "
                                        "batch)")
    a.add_argument("sources", nargs="+", metavar="SRC",
                   help="room photos: files, folders (their images) or globs")
    a.add_argument("--param", action="append", default=[], metavar="KEY=VALUE",
                   help="staging parameters; a comma list or repeated key makes an axis")
    a.add_argument("--budget", type=_credits, metavar="CREDITS",
                   help="never send renders that would cost more credits than this in total")
    a.add_argument("--yes", action="store_true", help="send without asking")
    a.add_argument("--name", help="a name for the batch")
    a.add_argument("--no-wait", action="store_true",
                   help="return once the first renders are accepted")
    a.add_argument("--timeout", type=timeout_seconds, metavar="SECONDS",
                   help="deadline for each render (default: the provider's setting)")
    a.add_argument("--json", action="store_true", help="print one JSON object")


def _common(a: argparse.ArgumentParser) -> None:
    a.add_argument("--base-url", metavar="URL", help="the service's base URL for this run")
    a.add_argument("--json", action="store_true", help="print JSON")


async def cmd_vsai(services: Services, args: argparse.Namespace, stdin: TextIO) -> int:
    if args.action == "bulk":
        return await _bulk(services, args, stdin)
    if args.action == "variations":
        return await _variations(services, args, stdin)
    if args.action == "renders":
        return await _renders(services, args)
    return await _with_engine(services, args)


async def _renders(services: Services, args: argparse.Namespace) -> int:
    provider = tool_provider(services, args, PROVIDER, StagingTools)
    try:
        page = await provider.render_summaries(limit=args.limit, cursor=args.cursor)
    except ProviderError as exc:
        raise failure(exc, given_id=args.cursor) from None
    except InvalidInput as exc:
        raise CliError(str(exc), EXIT_USAGE) from None
    finally:
        await provider.aclose()  # type: ignore[attr-defined]
    if args.json:
        print_json({"renders": [{**r.to_dict(), "created_at": iso(r.created_at)}
                                for r in page.items],
                    "next_cursor": page.next_cursor, "total_count": page.total_count})
        return EXIT_OK
    if not page.items:
        print("No renders on this account yet." if not args.cursor else "No more renders.")
        return EXIT_OK
    print(f"{'RENDER':<24}  {'CREATED':<19}  {'STATE':<16}  {'VARIATIONS':<10}  TYPES")
    for r in page.items:
        created = local_time(r.created_at) if r.created_at is not None else "?"
        counts = f"{r.done}/{r.total}" + (f" ({r.failed} failed)" if r.failed else "")
        print(f"{r.id:<24}  {created:<19}  {render_state_words(r.state):<16}  {counts:<10}  "
              f"{', '.join(r.kinds) or '-'}")
    if page.next_cursor:
        print(f"More: restyle-cli vsai renders --cursor {page.next_cursor}")
    return EXIT_OK


async def _variations(services: Services, args: argparse.Namespace, stdin: TextIO) -> int:
    """Check, say the cost, ask; then run the `variations` task exactly as `run` does."""
    params = parse_params(args.param)
    if "render_id" in params and str(params["render_id"]) != args.render_id:
        raise CliError("Give the render once: as RENDER_ID, not also as --param render_id.",
                       EXIT_USAGE)
    params["render_id"] = args.render_id
    tool_ready(services, args, PROVIDER)
    engine = services.engine("restyle-cli vsai variations")
    try:
        try:
            prepared = await engine.prepare(JobSpec(PROVIDER, "variations", {}, params))
        except InvalidInput as exc:
            raise CliError(str(exc), EXIT_USAGE) from None
        except ProviderError as exc:
            raise failure(exc, given_id=args.render_id) from None
        provider = engine.provider(PROVIDER)
        limits: dict[str, Any] = {}
        # Without the account, the sentence only says what each variation counts as.
        with contextlib.suppress(ProviderError):
            limits = dict((await provider.account()).limits)
        count = int(prepared.spec.params.get("variation_count") or 1)
        sentence = photos_sentence(count, str(prepared.spec.params.get("type") or "staging"),
                                   limits, provider.title)
    finally:
        await engine.aclose()
    print(f"Render {args.render_id}: {sentence}", file=sys.stderr)
    confirm(stdin, f"Add {count} {'variation' if count == 1 else 'variations'} to render "
                   f"{args.render_id}?", yes=args.yes,
            what_not_done="Nothing was sent or stored.")
    run_args = argparse.Namespace(
        provider=PROVIDER, task="variations", person=[], garment=[], room=[], image=[], input=[],
        param=[p for p in args.param if not p.strip().startswith("render_id=")]
        + [f"render_id={args.render_id}"],
        out=args.out, base_url=args.base_url, timeout=args.timeout, no_wait=args.no_wait,
        json=args.json)
    return await cmd_run(services, run_args)


async def _with_engine(services: Services, args: argparse.Namespace) -> int:
    """analyze and compatibility: photos read and checked like a job's inputs first."""
    tool_ready(services, args, PROVIDER)
    if args.action == "analyze" and args.mask_out is not None:
        _check_mask_out(args.mask_out)
    engine = services.engine(f"restyle-cli vsai {args.action}")
    try:
        provider = engine.provider(PROVIDER)
        assert isinstance(provider, StagingTools)
        if args.action == "analyze":
            return await _analyze(engine, provider, args)
        return await _compatibility(engine, provider, args)
    finally:
        await engine.aclose()


async def photo(engine: JobEngine, source: str) -> str | bytes:
    """A photo as the service takes it: its http(s) URL as given, else the checked bytes."""
    try:
        item: PreparedInput = await engine.prepare_input(PROVIDER, "room", source)
    except InvalidInput as exc:
        raise CliError(str(exc), EXIT_USAGE) from None
    except ProviderError as exc:  # a URL that could not be downloaded
        raise CliError(exc.message, EXIT_USAGE) from None
    return item.source_url or item.data


async def _analyze(engine: JobEngine, provider: StagingTools, args: argparse.Namespace) -> int:
    image = await photo(engine, args.source)
    try:
        analysis = await provider.analyze(image)
    except ProviderError as exc:
        raise failure(exc) from None
    words = analysis_words(analysis, provider.title)
    saved: str | None = None
    if args.mask_out is not None:
        if not analysis.result_url:
            raise CliError(f"{words} {provider.title} sent no mask to save.", 1)
        try:
            data = await provider.download(analysis.result_url)
            info = imaging.verify_result(data, "The furniture mask",
                                         max_pixels=engine.policy.result_max_pixels,
                                         full_decode_max_pixels=engine.policy
                                         .result_full_decode_max_pixels)
        except ProviderError as exc:
            raise failure(exc) from None
        except InvalidInput as exc:
            raise CliError(f"{exc} The mask was not saved.", 1) from None
        target = args.mask_out
        if not target.suffix:
            target = target.with_suffix(".png" if info.mime == "image/png" else ".jpg")
        try:
            atomic_write(target, data)
        except OSError as exc:
            raise CliError(f"Could not save the mask to {shown(str(target))} "
                           f"({reason(exc)}).", 1) from None
        saved = str(target)
    if args.json:
        print_json({"id": analysis.id, "status": analysis.status,
                    "percentage_masked": analysis.percentage_masked, "verdict": words,
                    "mask": saved})
    else:
        print(words)
        if saved:
            print(f"Mask saved to {saved}.")
    return EXIT_OK


def _check_mask_out(path: Path) -> None:
    """The mask's folder must exist and take files before the paid analysis is asked for."""
    folder = path.parent if str(path.parent) else Path(".")
    if path.is_dir():
        raise CliError(f"--mask-out {shown(str(path))} is a folder; give a file name.",
                       EXIT_USAGE)
    check_out_dir(folder)


async def _compatibility(engine: JobEngine, provider: StagingTools,
                         args: argparse.Namespace) -> int:
    first = await photo(engine, args.sources[0])
    second = await photo(engine, args.sources[1])
    try:
        result = await provider.multi_view_compatibility(first, second)
    except ProviderError as exc:
        raise failure(exc) from None
    words = compatibility_words(result, provider.title)
    if args.json:
        print_json({"compatible": result.compatible, "hard_rejected": result.hard_rejected,
                    "rejection_reason": result.rejection_reason, "verdict": words})
    else:
        print(words)
    return EXIT_OK


async def _bulk(services: Services, args: argparse.Namespace, stdin: TextIO) -> int:
    """A batch of staging renders, one per photo: planned, confirmed and run by `batch`."""
    batch_args = argparse.Namespace(
        action=None, provider=[PROVIDER], task="staging", person=[], room=list(args.sources),
        image=[], garment=[], param=list(args.param), garments_per_job=None,
        budget=args.budget, yes=args.yes, name=args.name, no_wait=args.no_wait,
        timeout=args.timeout, json=args.json)
    say(f"Bulk staging runs as a batch of {PROVIDER} staging jobs, one per photo.",
        as_json=True)
    return await cmd_batch(services, batch_args, stdin)
