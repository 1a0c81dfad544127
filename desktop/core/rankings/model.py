"""The rankings' inputs and results as plain dataclasses (see the package docstring)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

Outcome = Literal["left", "right", "tie", "bad"]
Verdict = Literal["pass", "fail"]
OUTCOMES: tuple[str, ...] = ("left", "right", "tie", "bad")
VERDICTS: tuple[str, ...] = ("pass", "fail")

#: Two-sided 95 % normal quantile (Wilson interval).
Z95 = 1.959963984540054
#: Percentiles of the bootstrap interval.
_CI_PERCENTILES = (2.5, 97.5)
_MAX_NEWTON = 500
_NEWTON_TOL = 1e-8
_DECREMENT_TOL = 1e-14


# --------------------------------------------------------------------------- inputs


@dataclass(frozen=True)
class Vote:
    """One blind A/B vote between two providers' outputs of the same inputs."""

    left: str
    right: str
    outcome: Outcome

    def __post_init__(self) -> None:
        if self.outcome not in OUTCOMES:
            raise ValueError(f"A vote's outcome must be left, right, tie or bad, "
                             f"not {self.outcome!r}.")


@dataclass(frozen=True)
class ReviewFact:
    """One person's review of one output (`item`: job id and output position)."""

    provider: str
    task: str
    verdict: Verdict | None
    stars: int | None
    tags: tuple[str, ...]
    reviewer: str
    item: str

    def __post_init__(self) -> None:
        if self.verdict is not None and self.verdict not in VERDICTS:
            raise ValueError(f"A review's verdict must be pass, fail or none, "
                             f"not {self.verdict!r}.")
        if self.stars is not None and (isinstance(self.stars, bool)
                                       or not isinstance(self.stars, int)):
            raise ValueError(f"A review's stars must be a whole number, not {self.stars!r}.")


@dataclass(frozen=True)
class OutputFact:
    """What one output cost: seconds from submit to result and credits (the caller splits a
    job's cost over its outputs). None where unknown."""

    provider: str
    task: str
    item: str
    duration_s: float | None
    credits: float | None


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class Interval:
    low: float
    high: float

    def to_list(self) -> list[float]:
        return [self.low, self.high]


@dataclass(frozen=True)
class ReviewStats:
    """Review figures for one provider, or one provider on one task."""

    #: Outputs with at least one pass/fail verdict.
    outputs_reviewed: int = 0
    #: Reviews counted (one per person and output).
    reviews: int = 0
    #: Passed outputs; an output several people reviewed counts by the share that passed it.
    passes: float = 0.0
    pass_rate: float | None = None
    pass_rate_ci: Interval | None = None
    mean_stars: float | None = None
    #: Reviews that gave stars.
    stars_count: int = 0
    #: (tag, reviews that gave it), most given first.
    top_defects: tuple[tuple[str, int], ...] = ()
    #: Outputs with a known duration, and their median.
    outputs_timed: int = 0
    median_duration_s: float | None = None
    #: Credits of the reviewed outputs whose cost is known, and that sum over their passes.
    credits_reviewed: float | None = None
    credits_per_pass: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "outputs_reviewed": self.outputs_reviewed,
            "reviews": self.reviews,
            "passes": _num(self.passes),
            "pass_rate": _num(self.pass_rate),
            "pass_rate_ci": self.pass_rate_ci.to_list() if self.pass_rate_ci else None,
            "mean_stars": _num(self.mean_stars),
            "stars_count": self.stars_count,
            "top_defects": [{"tag": tag, "count": count} for tag, count in self.top_defects],
            "outputs_timed": self.outputs_timed,
            "median_duration_s": _num(self.median_duration_s),
            "credits_reviewed": _num(self.credits_reviewed),
            "credits_per_passed_output": _num(self.credits_per_pass),
        }


@dataclass(frozen=True)
class ProviderRanking:
    """One provider's row: strength from votes, figures from reviews."""

    provider: str
    #: Bradley-Terry strength, geometric mean of the fitted providers = 1; None without votes
    #: that enter the fit.
    strength: float | None
    strength_ci: Interval | None
    #: Probability of beating a provider of average strength: strength / (1 + strength).
    p_beat_average: float | None
    p_beat_average_ci: Interval | None
    #: Every vote this provider was in, "both bad" included.
    votes: int
    wins: int
    losses: int
    ties: int
    both_bad: int
    #: (wins + ties / 2) / (wins + losses + ties); "both bad" votes left out.
    win_rate: float | None
    #: both_bad / votes.
    both_bad_rate: float | None
    review: ReviewStats
    by_task: Mapping[str, ReviewStats] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "provider": self.provider,
            "strength": _num(self.strength),
            "strength_ci": self.strength_ci.to_list() if self.strength_ci else None,
            "p_beat_average": _num(self.p_beat_average),
            "p_beat_average_ci": (self.p_beat_average_ci.to_list()
                                  if self.p_beat_average_ci else None),
            "votes": self.votes,
            "wins": self.wins,
            "losses": self.losses,
            "ties": self.ties,
            "both_bad": self.both_bad,
            "win_rate": _num(self.win_rate),
            "both_bad_rate": _num(self.both_bad_rate),
            "review": self.review.to_dict(),
            "by_task": {task: stats.to_dict() for task, stats in self.by_task.items()},
        }


@dataclass(frozen=True)
class FitDiagnostics:
    """How the Bradley-Terry fit went."""

    #: Votes that entered the fit (decisive + ties).
    votes_used: int
    decisive: int
    ties: int
    #: "Both bad" votes, counted but not fitted.
    both_bad: int
    #: Votes naming the same provider on both sides, ignored.
    self_votes_ignored: int
    #: Providers with a fitted strength.
    providers_fitted: int
    #: Every fitted provider is linked to every other through votes.
    connected: bool
    #: Groups of providers compared among themselves (one group when connected).
    components: tuple[tuple[str, ...], ...]
    #: Virtual ties per provider against the reference (see the module's docstring).
    prior_ties: float
    iterations: int
    converged: bool
    #: Log-likelihood of the fitted votes (the prior's virtual ties not included).
    log_likelihood: float | None
    bootstrap: int
    seed: int
    #: Bootstrap replicates that did not converge and were left out of the intervals.
    bootstrap_failed: int
    method: str = "Bradley-Terry, Newton-Raphson; ties = half a win each"

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "votes_used": self.votes_used,
            "decisive": self.decisive,
            "ties": self.ties,
            "both_bad": self.both_bad,
            "self_votes_ignored": self.self_votes_ignored,
            "providers_fitted": self.providers_fitted,
            "connected": self.connected,
            "components": [list(group) for group in self.components],
            "prior_ties": self.prior_ties,
            "iterations": self.iterations,
            "converged": self.converged,
            "log_likelihood": _num(self.log_likelihood),
            "bootstrap": self.bootstrap,
            "seed": self.seed,
            "bootstrap_failed": self.bootstrap_failed,
        }


@dataclass(frozen=True)
class Agreement:
    """How much reviewers agree on pass/fail where several reviewed the same output."""

    #: "cohen" (exactly two reviewers), "fleiss" (more), None (no output reviewed twice).
    method: Literal["cohen", "fleiss"] | None
    kappa: float | None
    #: Outputs with verdicts from at least two reviewers, and how many reviewers in all.
    items: int
    reviewers: int
    #: Observed and chance agreement (kappa = (observed - expected) / (1 - expected)).
    observed: float | None
    expected: float | None
    #: Quadratic-weighted kappa on stars, when exactly two people starred the same outputs.
    stars_weighted_kappa: float | None
    stars_items: int
    #: A sentence for people: what was measured, or why nothing could be.
    note: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "kappa": _num(self.kappa),
            "items": self.items,
            "reviewers": self.reviewers,
            "observed": _num(self.observed),
            "expected": _num(self.expected),
            "stars_weighted_kappa": _num(self.stars_weighted_kappa),
            "stars_items": self.stars_items,
            "note": self.note,
        }


@dataclass(frozen=True)
class Rankings:
    """Everything `rank` found: provider rows (strongest first), the fit, the agreement."""

    providers: tuple[ProviderRanking, ...]
    fit: FitDiagnostics
    agreement: Agreement

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: finite numbers or null, intervals as [low, high]."""
        return {
            "providers": [row.to_dict() for row in self.providers],
            "fit": self.fit.to_dict(),
            "agreement": self.agreement.to_dict(),
        }


def _num(value: float | None) -> float | None:
    """A finite float for JSON, or None."""
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


# --------------------------------------------------------------------------- Bradley-Terry
