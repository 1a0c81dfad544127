"""Commands about providers and their accounts: providers, account, keys."""

from __future__ import annotations

import argparse
import getpass
import textwrap
from typing import Any, TextIO

from desktop.cli import param_text
from desktop.cli.checks import apply_base_url, check_ready
from desktop.cli.errors import EXIT_JOB_FAILED, EXIT_OK, EXIT_SETUP, EXIT_USAGE, CliError
from desktop.cli.output import print_json
from desktop.core.model import InputRole, ParamSpec
from desktop.providers.base import ProviderError
from desktop.providers.registry import PROVIDER_CLASSES, provider_class
from desktop.services import Services

#: Input roles with a flag of their own in `run` (others are given as --input ROLE=SRC).
FLAG_ROLES = ("person", "garment", "room", "image")


def add_parsers(sub: Any) -> None:
    """The providers, account and keys commands."""
    p = sub.add_parser("providers", help="list providers, their tasks and whether they are set up")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("account", help="show the provider account (credits, limits)")
    p.add_argument("--provider", required=True, metavar="ID", help="the provider's id")
    p.add_argument("--base-url", metavar="URL")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("keys", help="manage API keys (stored in the system keyring)")
    p.add_argument("action", choices=["status", "set", "delete"],
                   help="status: where the key is kept; set: store the key read from standard "
                        "input; delete: remove the stored key")
    p.add_argument("--provider", required=True, metavar="ID", help="the provider's id")


def cmd_providers(services: Services, args: argparse.Namespace) -> int:
    rows = []
    for pid, cls in PROVIDER_CLASSES.items():
        ready = services.readiness(pid)
        key = services.secrets.status(pid) if cls.needs_key else None
        provider = cls.from_config(services.provider_config(pid))
        rows.append({
            "id": pid,
            "title": cls.title,
            "ready": ready.ready,
            "problem": ready.problem or None,
            "needs_key": cls.needs_key,
            "key": str(key.source) if key else None,
            "base_url": services.base_url(pid),
            "tasks": [
                {
                    "id": t.id,
                    "title": t.title,
                    "note": t.note,
                    "inputs": [{"role": r.role, "min": r.min_count, "max": r.max_count}
                               for r in t.inputs],
                    "params": [_param_json(p) for p in t.params],
                }
                for t in provider.tasks
            ],
        })
    if args.json:
        print_json(rows)
        return EXIT_OK
    for row in rows:
        status = "ready" if row["ready"] else row["problem"]
        print(f"{row['id']}  {row['title']}: {status}")
        provider = PROVIDER_CLASSES[row["id"]].from_config(services.provider_config(row["id"]))
        for task in provider.tasks:
            print(f"    {task.id}  {task.title}")
            inputs = _inputs_text(task.inputs)
            if task.free_form_inputs:
                inputs += "; --input NAME=SRC for its own image inputs"
            print(f"        inputs: {inputs}")
            for spec in task.params:
                print(textwrap.fill(f"{spec.name}: {param_text.summary(spec)}", 96,
                                    initial_indent=" " * 8, subsequent_indent=" " * 12,
                                    break_on_hyphens=False, break_long_words=False))
                if spec.help:
                    print(textwrap.fill(spec.help, 96, initial_indent=" " * 12,
                                        subsequent_indent=" " * 12))
    return EXIT_OK


def _param_json(spec: ParamSpec) -> dict[str, Any]:
    """A parameter in `providers --json`: the raw fields scripts read (kept as they were), then
    the words the text form prints (`label`, `allowed`, `default_text`) and `advanced`."""
    return {"name": spec.name, "type": str(spec.type), "default": spec.default,
            "choices": list(spec.choices) or None, "minimum": spec.minimum,
            "maximum": spec.maximum, "max_length": spec.max_length,
            "required": spec.required, "help": spec.help,
            "label": spec.label, "allowed": param_text.allowed_text(spec),
            "default_text": param_text.default_text(spec), "advanced": spec.advanced}


def _inputs_text(inputs: tuple[InputRole, ...]) -> str:
    """"--person, --garment (1 to 3)"; "none (the parameters say what to work on)"."""
    if not inputs:
        return "none (the parameters say what to work on)"
    words = []
    for role in inputs:
        flag = f"--{role.role}" if role.role in FLAG_ROLES else f"--input {role.role}=SRC"
        if role.max_count > 1:
            flag += f" ({role.min_count} to {role.max_count})"
        elif role.min_count == 0:
            flag += " (optional)"
        words.append(flag)
    return ", ".join(words)


async def cmd_account(services: Services, args: argparse.Namespace) -> int:
    apply_base_url(services, args)
    try:
        cls = provider_class(args.provider)
    except KeyError:
        check_ready(services, args.provider)
        raise
    if not cls.supports_account:
        if not cls.needs_key:
            message = f"{cls.title} runs on this computer: no account and no credits needed."
            if args.json:
                print_json({"provider": args.provider, "credits": None, "message": message})
            else:
                print(message)
            return EXIT_OK
        raise CliError(f"{cls.title} has no account endpoint.", EXIT_USAGE)
    check_ready(services, args.provider)
    provider = services.create_provider(args.provider)
    try:
        info = await provider.account()
    except ProviderError as exc:
        code = EXIT_SETUP if exc.code.is_setup_problem else EXIT_JOB_FAILED
        raise CliError(exc.message, code) from None
    finally:
        await provider.aclose()
    if args.json:
        print_json(info.to_dict())
    else:
        print(f"{cls.title} account")
        if info.credits is not None:
            print(f"  credits:  {info.credits:g}")
        if info.plan:
            print(f"  plan:     {info.plan}")
        for k, v in {**info.limits, **info.details}.items():
            print(f"  {k}: {v}")
        if info.purchase_url:
            print(f"  buy credits: {info.purchase_url}")
        if info.message:
            print(f"  {info.message}")
    return EXIT_OK


def cmd_keys(services: Services, args: argparse.Namespace, stdin: TextIO) -> int:
    try:
        cls = provider_class(args.provider)
    except KeyError:
        check_ready(services, args.provider)
        raise
    if not cls.needs_key:
        raise CliError(f"{cls.title} needs no API key.", EXIT_USAGE)
    store = services.secrets
    if args.action == "status":
        status = store.status(args.provider)
        print(f"{cls.title}: {'key present' if status.present else 'no key'}"
              f" ({status.source}). {status.message}")
        if not status.keyring_available and not status.refusal:
            print(f"Keyring backend: {status.backend} (not usable on this machine).")
        return EXIT_OK
    env = store.env_override(args.provider)
    if args.action == "delete":
        removed = store.delete(args.provider)
        print(f"{cls.title}: key removed." if removed else f"{cls.title}: no stored key.")
        if env:
            print(f"{cls.title}: {env} is still set in this environment, so Restyle keeps "
                  "using that key until you unset it.")
        return EXIT_OK
    if stdin.isatty():
        key = getpass.getpass(f"API key for {cls.title} (input hidden): ")
    else:
        key = stdin.readline()
    key = key.strip()
    if not key:
        raise CliError("No key given on standard input; nothing was stored.", EXIT_USAGE)
    status = store.set(args.provider, key)
    if not status.keyring_available:  # kept for this process only, which ends now
        advice = ("" if env else f" Set RESTYLE_{args.provider.upper()}_API_KEY in your "
                  "environment instead.")
        raise CliError(f"{status.message} A key set from the command line would be lost at "
                       f"once: nothing was stored.{advice}", EXIT_SETUP)
    print(f"{cls.title}: {status.message}")
    return EXIT_OK


