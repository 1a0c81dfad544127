"""`restyle-cli rankings`: providers ranked from the votes and reviews in the history."""

from __future__ import annotations

import argparse
import datetime as dt
from typing import Any

from desktop.cli.checks import find_batch
from desktop.cli.errors import EXIT_OK
from desktop.cli.output import iso, print_json
from desktop.core.rankings import ProviderRanking, Rankings, rank
from desktop.core.review_facts import gather
from desktop.core.sources import shown
from desktop.core.store import JobFilter
from desktop.services import Services

#: Bootstrap resamples for the strength intervals, and their seed (the same data give the
#: same intervals every time).
BOOTSTRAP = 1000
SEED = 0


def add_parsers(sub: Any) -> None:
    p = sub.add_parser("rankings", help="rank providers from blind votes and reviews")
    p.add_argument("--provider", action="append", default=[], metavar="ID",
                   help="only these providers (repeat for several)")
    p.add_argument("--task", help="only jobs of this task")
    p.add_argument("--batch", metavar="BATCH_ID", help="only the jobs of this batch")
    p.add_argument("--since", type=since_date, metavar="DATE",
                   help="only jobs created on or after DATE (YYYY-MM-DD, or an ISO date and "
                        "time; local time unless it gives a zone)")
    p.add_argument("--json", action="store_true")


def since_date(text: str) -> float:
    try:
        when = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"'{shown(text, 40)}' is not a date: write YYYY-MM-DD (or YYYY-MM-DDTHH:MM)"
        ) from None
    return when.timestamp()  # a date without a zone is local time


def cmd_rankings(services: Services, args: argparse.Namespace) -> int:
    batch = find_batch(services, args.batch).id if args.batch else None
    providers = tuple(dict.fromkeys(args.provider))
    where = JobFilter(task=args.task, batch=batch, since=args.since)
    facts = gather(services.history, services.review_store(), where, providers=providers)
    result = rank(facts.votes, facts.reviews, facts.outputs, bootstrap=BOOTSTRAP, seed=SEED)
    if args.json:
        print_json({"scope": {"providers": list(providers), "task": args.task, "batch": batch,
                              "since": iso(args.since)},
                    "jobs": facts.jobs, "votes": len(facts.votes),
                    "reviews": len(facts.reviews), **result.to_dict()})
        return EXIT_OK
    if not (facts.votes or facts.reviews):
        print("Nothing to rank yet: compare outputs with `restyle-cli vote` and review them "
              "with `restyle-cli review`.")
        return EXIT_OK
    for line in ranking_lines(result, len(facts.votes), len(facts.reviews)):
        print(line)
    return EXIT_OK


def ranking_lines(result: Rankings, votes: int, reviews: int) -> list[str]:
    """The rankings as a table, strongest first, then how far to trust them."""
    lines = [f"Rankings from {votes} {'vote' if votes == 1 else 'votes'} and {reviews} "
             f"{'review' if reviews == 1 else 'reviews'} (intervals: 95 %).",
             f"{'PROVIDER':<16} {'STRENGTH':<20} {'WINS':>4} {'VOTES':>5}  "
             f"{'PASS RATE':<18} {'STARS':>5} {'CREDITS/PASS':>12}  TOP DEFECTS"]
    for row in result.providers:
        lines.append(_row(row))
    fit = result.fit
    if not fit.connected and len(fit.components) > 1:
        groups = "; ".join(", ".join(g) for g in fit.components)
        lines.append(f"Note: some providers were never compared with each other ({groups}); "
                     "strengths compare only within a group.")
    agreement = result.agreement
    if agreement.kappa is not None:
        method = "Cohen's" if agreement.method == "cohen" else "Fleiss'"
        lines.append(f"Agreement: {method} kappa {agreement.kappa:.2f} on {agreement.items} "
                     f"outputs reviewed by {agreement.reviewers} people. {agreement.note}".rstrip())
    else:
        lines.append(f"Agreement: {agreement.note}".rstrip())
    return lines


def _row(row: ProviderRanking) -> str:
    review = row.review
    strength = "-"
    if row.strength is not None:
        strength = f"{row.strength:.2f}"
        if row.strength_ci is not None:
            strength += f" ({row.strength_ci.low:.2f}-{row.strength_ci.high:.2f})"
    rate = "-"
    if review.pass_rate is not None:
        rate = f"{review.pass_rate * 100:.0f} %"
        if review.pass_rate_ci is not None:
            rate += (f" ({review.pass_rate_ci.low * 100:.0f}-"
                     f"{review.pass_rate_ci.high * 100:.0f} %)")
    stars = f"{review.mean_stars:.1f}" if review.mean_stars is not None else "-"
    credits = f"{review.credits_per_pass:g}" if review.credits_per_pass is not None else "-"
    defects = ", ".join(f"{tag} ({count})" for tag, count in review.top_defects[:3]) or "-"
    return (f"{row.provider:<16} {strength:<20} {row.wins:>4} {row.votes:>5}  {rate:<18} "
            f"{stars:>5} {credits:>12}  {defects}")
