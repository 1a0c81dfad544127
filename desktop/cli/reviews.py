"""Review commands: `review` (one person's verdict on one output) and `vote` (a blind A/B
comparison of two outputs)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from desktop.cli.checks import find_job
from desktop.cli.errors import EXIT_OK, EXIT_USAGE, CliError
from desktop.cli.output import iso, print_json, review_json, review_text
from desktop.core.model import InvalidInput, Job
from desktop.core.reviews import Review, Verdict, VoteOutcome, tag_family
from desktop.core.sources import check_name, shown
from desktop.services import Services

#: The longest note a review takes.
MAX_NOTE = 2000
#: The longest reviewer name.
MAX_REVIEWER = 100


def add_parsers(sub: Any) -> None:
    """The review and vote commands."""
    p = sub.add_parser("review", help="review one output of a job: pass or fail, stars, "
                                      "defect tags, a note")
    p.add_argument("job_id", metavar="JOB_ID", help="a job id or an unambiguous prefix")
    p.add_argument("--output", type=output_number, default=1, metavar="N",
                   help="which output of the job (1 for the first; default 1)")
    verdict = p.add_mutually_exclusive_group(required=True)
    verdict.add_argument("--pass", dest="verdict", action="store_const", const=Verdict.PASS,
                         help="the output is good enough")
    verdict.add_argument("--fail", dest="verdict", action="store_const", const=Verdict.FAIL,
                         help="the output is not")
    p.add_argument("--stars", type=_stars, metavar="N", help="1 to 5")
    p.add_argument("--tag", action="append", default=[], metavar="TAG",
                   help="a defect tag from the task's list (repeat for several)")
    p.add_argument("--note", default="", metavar="TEXT", help="a note in your own words")
    p.add_argument("--reviewer", metavar="NAME",
                   help="who reviews (default: settings.json review.reviewer, else your user "
                        "name)")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("vote", help="a blind A/B vote between two jobs' outputs")
    p.add_argument("left_job", metavar="LEFT_JOB",
                   help="the job shown on the left (an id or an unambiguous prefix)")
    p.add_argument("right_job", metavar="RIGHT_JOB", help="the job shown on the right")
    p.add_argument("outcome", choices=[str(o) for o in VoteOutcome],
                   help="which is better: left, right, a tie, or both bad")
    p.add_argument("--left-output", type=output_number, default=1, metavar="N",
                   help="which output of the left job (default 1)")
    p.add_argument("--right-output", type=output_number, default=1, metavar="N",
                   help="which output of the right job (default 1)")
    p.add_argument("--reviewer", metavar="NAME",
                   help="who votes (default: settings.json review.reviewer, else your user "
                        "name)")
    p.add_argument("--json", action="store_true")


def output_number(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{shown(text, 40)}' is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"outputs count from 1, not {value}")
    return value


def _stars(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{shown(text, 40)}' is not a whole number") from None
    if not 1 <= value <= 5:
        raise argparse.ArgumentTypeError(f"stars go from 1 to 5, not {value}")
    return value


def reviewer_of(services: Services, given: str | None) -> str:
    """--reviewer, else the settings' reviewer; CliError (exit 2) for an unusable name."""
    name = (given if given is not None else services.settings.review.reviewer).strip()
    if not name:
        raise CliError("--reviewer needs a name.", EXIT_USAGE)
    try:
        check_name(name)
    except InvalidInput:
        raise CliError(f"The reviewer's name {shown(name, 60)} holds a control character; "
                       "give a plain name.", EXIT_USAGE) from None
    if len(name) > MAX_REVIEWER:
        raise CliError(f"The reviewer's name is longer than {MAX_REVIEWER} characters.",
                       EXIT_USAGE)
    return name


def _output_of(job: Job, number: int, flag: str) -> int:
    """The position of output `number` (from 1) of the job; CliError (exit 2)."""
    if not job.outputs:
        raise CliError(f"Job {job.id} has no outputs ({job.state}); there is nothing to "
                       "review.", EXIT_USAGE)
    positions = sorted(o.position for o in job.outputs)
    if number > len(positions):
        count = f"{len(positions)} output" + ("" if len(positions) == 1 else "s")
        raise CliError(f"Job {job.id} has {count}; {flag} {number} is not one of them.",
                       EXIT_USAGE)
    return positions[number - 1]


def _tags(services: Services, task: str, given: list[str]) -> tuple[str, ...]:
    allowed = services.settings.review.tags_for(task)
    by_lower = {t.lower(): t for t in allowed}
    tags: list[str] = []
    for tag in given:
        known = by_lower.get(tag.strip().lower())
        if known is None:
            raise CliError(
                f"'{shown(tag, 60)}' is not a defect tag for {task} jobs. Use one of: "
                f"{', '.join(allowed)} (settings.json review.tags.{tag_family(task)} sets the "
                "list).", EXIT_USAGE)
        if known not in tags:
            tags.append(known)
    return tuple(tags)


def cmd_review(services: Services, args: argparse.Namespace) -> int:
    job = find_job(services, args.job_id)
    position = _output_of(job, args.output, "--output")
    tags = _tags(services, job.task, args.tag)
    reviewer = reviewer_of(services, args.reviewer)
    note = args.note.strip()
    if len(note) > MAX_NOTE:
        raise CliError(f"--note is longer than {MAX_NOTE} characters.", EXIT_USAGE)
    store = services.review_store()
    before = store.get(job.id, position, reviewer)
    try:
        review = Review(job.id, position, reviewer, Verdict(args.verdict), args.stars, tags,
                        note)
    except InvalidInput as exc:
        raise CliError(str(exc), EXIT_USAGE) from None
    saved = store.save(review)
    if args.json:
        print_json(review_json(saved))
    else:
        print(f"{'Review updated' if before else 'Review saved'}: job {job.id[:12]} "
              f"({job.provider}/{job.task}) {review_text(saved)}.")
    return EXIT_OK


def cmd_vote(services: Services, args: argparse.Namespace) -> int:
    left = find_job(services, args.left_job)
    right = find_job(services, args.right_job)
    left_pos = _output_of(left, args.left_output, "--left-output")
    right_pos = _output_of(right, args.right_output, "--right-output")
    if left.id == right.id and left_pos == right_pos:
        raise CliError("A vote compares two different outputs; both sides are output "
                       f"{args.left_output} of job {left.id}.", EXIT_USAGE)
    if left.task != right.task:
        raise CliError(f"A vote compares outputs of the same task: job {left.id[:12]} is "
                       f"{left.task}, job {right.id[:12]} is {right.task}.", EXIT_USAGE)
    reviewer = reviewer_of(services, args.reviewer)
    differ = _inputs_differ(left, right)
    if differ:
        print(f"Note: jobs {left.id[:12]} and {right.id[:12]} were made from different inputs;"
              " a vote is fairest between outputs of the same inputs. The vote is kept.",
              file=sys.stderr)
    vote = services.review_store().vote((left.id, left_pos), (right.id, right_pos),
                                        args.outcome, reviewer)
    if args.json:
        print_json({
            "id": vote.id, "task": left.task, "outcome": str(vote.outcome),
            "reviewer": vote.reviewer, "inputs_differ": differ,
            "left": {"job_id": left.id, "output": args.left_output, "provider": left.provider},
            "right": {"job_id": right.id, "output": args.right_output,
                      "provider": right.provider},
            "created_at": iso(vote.created_at),
        })
    else:
        print(f"Vote saved: {left.provider} (job {left.id[:12]}, output {args.left_output}) vs "
              f"{right.provider} (job {right.id[:12]}, output {args.right_output}): "
              f"{vote.outcome}, by {shown(reviewer, 60)}.")
    return EXIT_OK


def _inputs_differ(left: Job, right: Job) -> bool:
    """Whether the two jobs were made from different images (by content where stored, else by
    the sources given)."""
    if left.inputs and right.inputs:
        return {r: sorted(v) for r, v in left.inputs.items()} != {
            r: sorted(v) for r, v in right.inputs.items()}
    return dict(left.spec.inputs) != dict(right.spec.inputs)
