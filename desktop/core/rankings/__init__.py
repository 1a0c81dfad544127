"""Provider rankings from blind A/B votes and reviews: pure statistics, plain dataclasses.

The window and restyle-cli turn what they stored into `Vote`, `ReviewFact` and `OutputFact`
values and call `rank`; nothing here reads a database or knows about Qt.

**Strength (Bradley-Terry).** Each provider i has a strength p_i; in one vote it beats j
with probability p_i / (p_i + p_j). The strengths are fitted by maximum likelihood with
Newton-Raphson on the log strengths. The log-likelihood is concave there, so Newton with a
backtracking line search converges from any start, typically in 5 to 15 steps (a provider
that lost thousands of votes under a tiny prior can take a few hundred); with a few
providers each step is one small linear solve, and the bootstrap solves all its replicates
at once with NumPy's batched `linalg.solve`. Hunter's (2004) MM algorithm reaches the same
maximum but converges only linearly, slowly when strengths are far apart.

- *Ties* count as half a win for each side. A tie is not thrown away (it says the two are
  close), and the model needs no extra parameter: Davidson's (1970) tie model has the same
  sufficient statistic for a provider's strength, wins + ties / 2, so it orders providers
  from the same information, at the price of a tie parameter that tens of votes per pair
  would fit poorly. It also matches the win rate shown beside the strength. Two half votes
  are not a proper probability model of a tie (the likelihood's own standard errors would
  be off), but the intervals come from the bootstrap over votes, not from the likelihood's
  curvature, so they do not depend on it.
- *"Both bad"* votes say nothing about which of the two is better: they do not enter the
  fit, and are counted per provider (`both_bad`, `both_bad_rate`).
- *Prior.* Every provider gets one virtual tie (`prior=1.0`) against a fixed reference of
  strength 1. Without it a provider that never won (or never lost) would get strength 0
  (or infinity), and providers in separate groups that never met would have no common
  scale. The virtual tie pulls every strength a little towards the middle; with tens of real
  votes per provider its effect is small.
- *Scale.* Strengths are divided by their geometric mean, so an average provider has 1, and
  a provider of strength s beats an average one with probability s / (1 + s)
  (`p_beat_average`). Ratios read directly: strength 2 against 1 wins 2 votes in 3.
- *Interval.* 95 % percentile interval over `bootstrap` (1000) resamples of the votes that
  enter the fit, drawn with a seeded generator, so the same data and seed give the same
  interval.
- *Disconnected votes.* When the providers fall into groups that were never compared with
  each other, `FitDiagnostics.connected` is False and `components` lists the groups: the
  order inside a group is measured, between groups it only reflects the prior.

**Reviews.** Per provider and per (provider, task): pass rate with a 95 % Wilson interval,
mean stars, the most given defect tags, median duration and credits per passed output. An
output reviewed by several people counts once, passing by the share of its reviewers who
passed it; a reviewer who reviewed the same output twice counts with the later review.

**Agreement.** On outputs reviewed by more than one person, for the pass/fail verdict:
Cohen's kappa when exactly two people reviewed them, otherwise Fleiss' kappa (in the form
that allows a different number of reviewers per output; with the same number it is Fleiss'
1971 kappa). With two people, quadratic-weighted kappa on their stars as well.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from numbers import Integral, Real

from desktop.core.rankings.agreement import (
    _agreement,
    cohen_kappa,
    fleiss_kappa,
    quadratic_weighted_kappa,
)
from desktop.core.rankings.bradley_terry import (
    BradleyTerryFit,
    _BradleyTerryResult,
    _fit_votes,
    _tally,
    _VoteTally,
    fit_bradley_terry,
)
from desktop.core.rankings.model import (
    OUTCOMES,
    VERDICTS,
    Agreement,
    FitDiagnostics,
    Interval,
    OutputFact,
    ProviderRanking,
    Rankings,
    ReviewFact,
    ReviewStats,
    Vote,
)
from desktop.core.rankings.review_stats import (
    _latest_reviews,
    _review_stats,
    wilson_interval,
)


def rank(votes: Iterable[Vote], reviews: Iterable[ReviewFact] = (),
         outputs: Iterable[OutputFact] = (), *, bootstrap: int = 1000, seed: int = 0,
         prior: float = 1.0, top_defects: int = 5) -> Rankings:
    """Rank providers from votes, reviews and output facts (see the module's docstring).

    `bootstrap` resamples for the strength intervals (0: no intervals), drawn with `seed`;
    `prior` virtual ties per provider (> 0); `top_defects` tags kept per row. Rows come
    strongest first; providers without fitted votes follow, by pass rate, then by name.
    """
    if isinstance(bootstrap, bool) or not isinstance(bootstrap, Integral) or bootstrap < 0:
        raise ValueError(f"The number of bootstrap resamples must be a whole number, 0 or "
                         f"more, not {bootstrap!r}.")
    if (isinstance(prior, bool) or not isinstance(prior, Real) or not math.isfinite(prior)
            or prior <= 0):
        raise ValueError(f"The prior must be a positive number of virtual ties, "
                         f"not {prior!r}.")
    if (isinstance(top_defects, bool) or not isinstance(top_defects, Integral)
            or top_defects < 0):
        raise ValueError(f"The number of defect tags to keep must be a whole number, 0 or "
                         f"more, not {top_defects!r}.")
    votes = list(votes)
    reviews = _latest_reviews(reviews)
    outputs = list(outputs)
    cost = {o.item: float(o.credits) for o in outputs
            if o.credits is not None and math.isfinite(o.credits)}
    bt = _fit_votes(votes, bootstrap=int(bootstrap), seed=seed, prior=float(prior))
    tallies = _tally(votes)
    names = (set(tallies) | {r.provider for r in reviews} | {o.provider for o in outputs}
             | {v.left for v in votes})
    rows = [_row(name, bt, tallies.get(name, _VoteTally()),
                 [r for r in reviews if r.provider == name],
                 [o for o in outputs if o.provider == name], cost, top_defects)
            for name in names]
    rows.sort(key=_order)
    return Rankings(providers=tuple(rows), fit=bt.fit, agreement=_agreement(reviews))


def _row(name: str, bt: _BradleyTerryResult, tally: _VoteTally, reviews: list[ReviewFact],
         outputs: list[OutputFact], cost: Mapping[str, float], top: int) -> ProviderRanking:
    strength = bt.strengths.get(name)
    interval = bt.intervals.get(name)
    fitted = tally.wins + tally.losses + tally.ties
    tasks = sorted({r.task for r in reviews} | {o.task for o in outputs})
    by_task = {task: _review_stats([r for r in reviews if r.task == task],
                                   [o for o in outputs if o.task == task], cost, top)
               for task in tasks}
    return ProviderRanking(
        provider=name,
        strength=strength,
        strength_ci=interval,
        p_beat_average=strength / (1.0 + strength) if strength is not None else None,
        p_beat_average_ci=(Interval(interval.low / (1.0 + interval.low),
                                    interval.high / (1.0 + interval.high))
                           if interval is not None else None),
        votes=tally.votes,
        wins=tally.wins,
        losses=tally.losses,
        ties=tally.ties,
        both_bad=tally.bad,
        win_rate=(tally.wins + tally.ties / 2) / fitted if fitted else None,
        both_bad_rate=tally.bad / tally.votes if tally.votes else None,
        review=_review_stats(reviews, outputs, cost, top),
        by_task=by_task,
    )


def _order(row: ProviderRanking) -> tuple[float, float, str]:
    strength = -math.inf if row.strength is None else row.strength
    rate = -1.0 if row.review.pass_rate is None else row.review.pass_rate
    return (-strength, -rate, row.provider)


__all__ = [
    "OUTCOMES",
    "VERDICTS",
    "Agreement",
    "BradleyTerryFit",
    "FitDiagnostics",
    "Interval",
    "OutputFact",
    "ProviderRanking",
    "Rankings",
    "ReviewFact",
    "ReviewStats",
    "Vote",
    "cohen_kappa",
    "fit_bradley_terry",
    "fleiss_kappa",
    "quadratic_weighted_kappa",
    "rank",
    "wilson_interval",
]
