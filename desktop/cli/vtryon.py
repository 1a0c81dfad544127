"""`restyle-cli vtryon`: the vtryon account's recolour tasks.

- `tasks`: the recolour tasks, newest first, a page at a time;
- `bases`: the base pose tasks those recolours started from (what `--param
  pose_image_generation_id` takes), with their status;
- `delete TASK_ID...`: delete recolour tasks for good, after asking (`--yes` skips the
  question). Only tasks on the account's recolour list are deleted: the service's delete
  endpoint would take a base pose task too, and every recolour of it would lose its base.
"""

from __future__ import annotations

import argparse
from typing import Any, TextIO

from desktop.cli.errors import EXIT_JOB_FAILED, EXIT_OK, EXIT_USAGE, CliError
from desktop.cli.output import print_json
from desktop.cli.tool_common import confirm, failure, positive_int, tool_provider, when
from desktop.core.model import ErrorCode
from desktop.core.provider_tools import RecolorTask, RecolorTools
from desktop.core.sources import shown
from desktop.providers.base import ProviderError
from desktop.services import Services

PROVIDER = "vtryon"
ACTIONS = ("tasks", "bases", "delete")
#: How far `delete` looks through the recolour list for the tasks it was given.
SEARCH_PAGES = 20
SEARCH_PAGE_SIZE = 100


def add_parsers(sub: Any) -> None:
    p = sub.add_parser("vtryon", help="vtryon tools: recolour tasks and their base tasks",
                       description="The vtryon account's recolour tasks.")
    actions = p.add_subparsers(dest="action", required=True,
                               metavar="{" + ",".join(ACTIONS) + "}")
    a = actions.add_parser("tasks", help="list recolour tasks, newest first")
    a.add_argument("--page", type=positive_int(1, 100_000), default=1, metavar="N",
                   help="which page (default 1, the newest tasks)")
    a.add_argument("--page-size", type=positive_int(1, 100), default=20, metavar="N",
                   help="tasks on a page (1 to 100; default 20)")
    _common(a)
    a = actions.add_parser("bases", help="list the base pose tasks of your recolour tasks")
    _common(a)
    a = actions.add_parser("delete", help="delete recolour tasks for good (asks first)")
    a.add_argument("task_ids", nargs="+", metavar="TASK_ID",
                   help="recolour task ids (`restyle-cli vtryon tasks` lists them)")
    a.add_argument("--yes", action="store_true", help="delete without asking")
    _common(a)


def _common(a: argparse.ArgumentParser) -> None:
    a.add_argument("--base-url", metavar="URL", help="vtryon's base URL for this run")
    a.add_argument("--json", action="store_true", help="print JSON")


async def cmd_vtryon(services: Services, args: argparse.Namespace, stdin: TextIO) -> int:
    if args.action == "delete":
        ids = [_task_id(t) for t in args.task_ids]
    provider = tool_provider(services, args, PROVIDER, RecolorTools)
    try:
        if args.action == "tasks":
            return await _tasks(provider, args)
        if args.action == "bases":
            return await _bases(provider, args)
        return await _delete(provider, args, stdin, ids)
    finally:
        await provider.aclose()  # type: ignore[attr-defined]


def _task_id(text: str) -> str:
    value = text.strip()
    if not value.isdigit() or int(value) < 1:
        raise CliError(f"'{shown(text, 40)}' is not a vtryon task number.", EXIT_USAGE)
    return str(int(value))


def _colours(task: RecolorTask) -> str:
    return ", ".join(f"{t} {c}" for t, c in task.colours) or "-"


async def _tasks(provider: RecolorTools, args: argparse.Namespace) -> int:
    try:
        page = await provider.recolor_tasks(args.page, args.page_size)
    except ProviderError as exc:
        if exc.code == ErrorCode.NOT_FOUND and args.page > 1:  # past the last page
            raise CliError(f"There is no page {args.page} of recolour tasks; `restyle-cli "
                           "vtryon tasks` starts at the first.", EXIT_USAGE) from None
        raise failure(exc) from None
    if args.json:
        print_json({"tasks": [t.to_dict() for t in page.items], "count": page.count,
                    "page": page.page, "page_size": page.page_size, "has_next": page.has_next})
        return EXIT_OK
    if not page.items:
        print("No recolour tasks on this account." if args.page == 1
              else f"No recolour tasks on page {args.page}.")
        return EXIT_OK
    print(f"{'TASK':<8}  {'STATUS':<11}  {'CREATED':<20}  {'BASE POSE':<9}  COLOURS")
    for t in page.items:
        base = str(t.pose_id) if t.pose_id is not None else "?"
        print(f"{t.id:<8}  {t.status:<11}  {when(t.created_at):<20}  {base:<9}  "
              f"{_colours(t)}")
    shown_to = (page.page - 1) * page.page_size + len(page.items)
    print(f"{shown_to} of {page.count} recolour tasks."
          + (f" More: restyle-cli vtryon tasks --page {page.page + 1}" if page.has_next
             else ""))
    return EXIT_OK


async def _bases(provider: RecolorTools, args: argparse.Namespace) -> int:
    try:
        found = await provider.base_tasks()
    except ProviderError as exc:
        raise failure(exc) from None
    if args.json:
        print_json({"bases": [b.to_dict() for b in found.tasks],
                    "recolours_read": found.recolours, "recolours_unnamed": found.unnamed})
        return EXIT_OK
    if not found.tasks:
        if found.unnamed:
            print(f"vtryon's recolour list does not say which base tasks its {found.unnamed} "
                  "recolour tasks used; give the base pose task number yourself.")
        else:
            print("No recolour tasks yet, so no base tasks to show; give the number of a "
                  "finished pose task yourself.")
        return EXIT_OK
    print(f"{'BASE POSE':<9}  {'MODEL TASK':<10}  {'RECOLOURS':<9}  STATUS")
    for b in found.tasks:
        model = str(b.model_task_id) if b.model_task_id is not None else "?"
        print(f"{b.pose_id:<9}  {model:<10}  {b.recolours:<9}  {b.status_words()}")
    return EXIT_OK


async def _find_recolours(provider: RecolorTools, ids: list[str]) -> set[str]:
    """Which of `ids` are on the account's recolour list (looking through it page by page)."""
    wanted, found = set(ids), set()
    for number in range(1, SEARCH_PAGES + 1):
        page = await provider.recolor_tasks(number, SEARCH_PAGE_SIZE)
        found |= wanted & {t.id for t in page.items}
        if found == wanted or not page.has_next:
            break
    return found


async def _delete(provider: RecolorTools, args: argparse.Namespace, stdin: TextIO,
                  ids: list[str]) -> int:
    ids = list(dict.fromkeys(ids))
    try:
        listed = await _find_recolours(provider, ids)
    except ProviderError as exc:
        raise failure(exc) from None
    missing = [i for i in ids if i not in listed]
    if missing:
        raise CliError(
            f"{'Task' if len(missing) == 1 else 'Tasks'} {', '.join(missing)} "
            f"{'is' if len(missing) == 1 else 'are'} not on this account's recolour list; "
            "Restyle deletes only recolour tasks (`restyle-cli vtryon tasks` lists them). "
            "Nothing was deleted.", EXIT_USAGE)
    what = f"recolour task {ids[0]}" if len(ids) == 1 else f"{len(ids)} recolour tasks"
    confirm(stdin, f"Delete {what} at vtryon for good?", yes=args.yes,
            what_not_done="Nothing was deleted.")
    done: list[dict[str, Any]] = []
    problem: CliError | None = None
    for task_id in ids:
        try:
            detail = await provider.delete(task_id)
        except ProviderError as exc:
            problem = failure(exc, given_id=task_id)
            done.append({"id": task_id, "deleted": False, "message": exc.message})
            break
        done.append({"id": task_id, "deleted": True, "message": detail})
    if args.json:
        print_json({"deleted": done})
    else:
        for item in done:
            print(f"Task {item['id']}: {item['message']}" if item["deleted"]
                  else f"Task {item['id']} was not deleted: {item['message']}")
    if problem is not None:
        left = [i for i in ids if i not in {d["id"] for d in done}]
        if left and not args.json:
            print(f"Not tried: {', '.join(left)}.")
        return problem.code if problem.code != EXIT_OK else EXIT_JOB_FAILED
    return EXIT_OK
