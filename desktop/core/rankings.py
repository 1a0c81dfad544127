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
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from numbers import Integral, Real
from typing import Any, Literal

import numpy as np

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


@dataclass(frozen=True)
class BradleyTerryFit:
    """Log strengths (mean 0 over the players) of one or more win matrices."""

    log_strengths: np.ndarray  # (K,) or (B, K)
    iterations: int
    converged: np.ndarray  # () or (B,) bool
    log_likelihood: np.ndarray  # () or (B,), prior not included


def fit_bradley_terry(wins: np.ndarray, *, prior: float = 1.0) -> BradleyTerryFit:
    """Fit Bradley-Terry strengths to `wins[i, j]` (score of i against j; a tie adds 0.5 to
    both cells), or to a stack of such matrices (B, K, K) at once.

    prior > 0 adds `prior` virtual ties between each player and a fixed reference, so the
    fit always exists. prior == 0 is the plain maximum-likelihood estimate, which exists only
    when every player has beaten, directly or through others, every other player (the wins
    graph is strongly connected); otherwise ValueError.
    """
    wins = np.asarray(wins, dtype=float)
    single = wins.ndim == 2
    stack = wins[None] if single else wins
    if stack.ndim != 3 or stack.shape[1] != stack.shape[2]:
        raise ValueError("A win matrix must be square.")
    if not math.isfinite(prior) or prior < 0:
        raise ValueError(f"The prior must be a number of virtual ties, 0 or more, not {prior}.")
    if np.any(stack < 0) or not np.all(np.isfinite(stack)):
        raise ValueError("A win matrix must hold finite counts, 0 or more.")
    batch, k = stack.shape[0], stack.shape[1]
    # A player's score against itself carries no information.
    stack = stack * (1.0 - np.eye(k))
    if k <= 1:
        return _shape(single, np.zeros((batch, k)), 0, np.ones(batch, bool), np.zeros(batch))
    if prior == 0:
        for matrix in stack:
            if not _strongly_connected(matrix):
                raise ValueError("These votes have no maximum-likelihood strengths: some "
                                 "provider never beat (or never lost to) the others; "
                                 "use a prior.")
        augmented, anchor = stack, 0
    else:
        augmented = np.zeros((batch, k + 1, k + 1))
        augmented[:, :k, :k] = stack
        augmented[:, :k, k] = prior / 2.0
        augmented[:, k, :k] = prior / 2.0
        anchor = k
    theta, iterations, converged = _newton(augmented, anchor, k)
    loglik = _log_likelihood(stack, theta[:, :k])
    centred = theta[:, :k] - theta[:, :k].mean(axis=1, keepdims=True)
    return _shape(single, centred, iterations, converged, loglik)


def _shape(single: bool, theta: np.ndarray, iterations: int, converged: np.ndarray,
           loglik: np.ndarray) -> BradleyTerryFit:
    if single:
        return BradleyTerryFit(theta[0], iterations, converged[0], loglik[0])
    return BradleyTerryFit(theta, iterations, converged, loglik)


def _log_likelihood(wins: np.ndarray, theta: np.ndarray) -> np.ndarray:
    """sum_ij wins_ij * log(sigma(theta_i - theta_j)), per matrix of the stack."""
    diff = theta[:, :, None] - theta[:, None, :]
    return -(wins * np.logaddexp(0.0, -diff)).sum(axis=(1, 2))


def _newton(wins: np.ndarray, anchor: int, players: int) -> tuple[np.ndarray, int, np.ndarray]:
    """Maximise the log-likelihood over theta with theta[anchor] = 0, for a stack of win
    matrices at once; the first `players` entries are the real players (the others: the
    prior's reference). Returns theta (B, n), iterations, converged (B,)."""
    batch, n = wins.shape[0], wins.shape[1]
    free = np.array([i for i in range(n) if i != anchor])
    theta = np.zeros((batch, n))
    losses = wins.transpose(0, 2, 1)
    games = wins + losses
    current = _log_likelihood(wins, theta)
    converged = np.zeros(batch, dtype=bool)
    idx = np.arange(n)
    iterations = 0
    while iterations < _MAX_NEWTON and not converged.all():
        iterations += 1
        diff = theta[:, :, None] - theta[:, None, :]
        # p[i, j] = P(i beats j) and its complement q = p[j, i], each computed directly: the
        # gradient as wins - games * p would lose all its digits once p is within 1e-12 of 1
        # (a provider that lost thousands of votes under a tiny prior).
        p = np.exp(-np.logaddexp(0.0, -diff))
        q = np.exp(-np.logaddexp(0.0, diff))
        grad = (wins * q).sum(axis=2) - (losses * p).sum(axis=2)
        weight = games * p * q
        info = -weight
        info[:, idx, idx] = weight.sum(axis=2) - weight[:, idx, idx]
        info_f = info[:, free][:, :, free]
        # A ridge far below the data's own weight keeps the solve defined if a weight
        # underflows; it changes the path, not the maximum (where the gradient is 0).
        ridge = 1e-12 * np.abs(info_f).max(axis=(1, 2), initial=1e-300)
        info_f += ridge[:, None, None] * np.eye(len(free))
        step = np.zeros_like(theta)
        step[:, free] = np.linalg.solve(info_f, grad[:, free, None])[..., 0]
        step[converged] = 0.0
        # Converged when the full Newton step is this small (quadratic convergence: what
        # remains after taking it is of the order of its square), measured on what is
        # reported, the players' log strengths relative to their mean; or when the Newton
        # decrement (the most the log-likelihood can still gain) is. The second matters when
        # a tiny prior is all that places one group of players against another: that
        # offset is then so flat that rounding keeps moving it, yet it gains nothing.
        real = step[:, :players]
        moved = np.abs(real - real.mean(axis=1, keepdims=True)).max(axis=1)
        slope = (grad * step).sum(axis=1)
        converged |= (moved < _NEWTON_TOL) | (slope < _DECREMENT_TOL)
        t = np.ones(batch)
        candidate = theta + step
        new = _log_likelihood(wins, candidate)
        for _ in range(50):  # backtracking (Armijo), per replicate
            short = new < current + 1e-4 * t * slope - 1e-12 * np.abs(current)
            if not short.any():
                break
            t[short] /= 2.0
            candidate[short] = theta[short] + t[short, None] * step[short]
            new[short] = _log_likelihood(wins[short], candidate[short])
        theta, current = candidate, new
    return theta, iterations, converged


def _strongly_connected(wins: np.ndarray) -> bool:
    """Every player reaches every other along 'beat' edges (wins[i, j] > 0)."""
    k = wins.shape[0]
    if k <= 1:
        return True
    beats = wins > 0
    return _reaches_all(beats) and _reaches_all(beats.T)


def _reaches_all(edges: np.ndarray) -> bool:
    seen = {0}
    todo = [0]
    while todo:
        node = todo.pop()
        for other in np.flatnonzero(edges[node]):
            if int(other) not in seen:
                seen.add(int(other))
                todo.append(int(other))
    return len(seen) == edges.shape[0]


def _components(names: Sequence[str], games: np.ndarray) -> tuple[tuple[str, ...], ...]:
    """Groups of players linked by votes (either direction), each sorted, largest first."""
    parent = list(range(len(names)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, j in zip(*np.nonzero(games), strict=True):
        parent[root(int(i))] = root(int(j))
    groups: dict[int, list[str]] = defaultdict(list)
    for i, name in enumerate(names):
        groups[root(i)].append(name)
    return tuple(sorted((tuple(sorted(g)) for g in groups.values()),
                        key=lambda g: (-len(g), g)))


# --------------------------------------------------------------------------- votes


@dataclass
class _VoteTally:
    votes: int = 0
    wins: int = 0
    losses: int = 0
    ties: int = 0
    bad: int = 0


@dataclass(frozen=True)
class _BradleyTerryResult:
    strengths: dict[str, float]
    intervals: dict[str, Interval]
    fit: FitDiagnostics


def _fit_votes(votes: Sequence[Vote], *, bootstrap: int, seed: int,
               prior: float) -> _BradleyTerryResult:
    fitted = [v for v in votes if v.outcome != "bad" and v.left != v.right]
    names = sorted({v.left for v in fitted} | {v.right for v in fitted})
    index = {name: i for i, name in enumerate(names)}
    k = len(names)
    # Each fitted vote falls in a category: (pair i < j, i won / j won / tie).
    cells: Counter[tuple[int, int, str]] = Counter()
    for v in fitted:
        i, j = index[v.left], index[v.right]
        result = {"left": "first", "right": "second", "tie": "tie"}[v.outcome]
        if i > j:
            i, j = j, i
            result = {"first": "second", "second": "first", "tie": "tie"}[result]
        cells[(i, j, result)] += 1
    categories = sorted(cells)
    counts = np.array([cells[c] for c in categories], dtype=float)
    # spread[c] is what one vote of category c adds to the (flattened) win matrix.
    spread = np.zeros((len(categories), k * k))
    for c, (i, j, result) in enumerate(categories):
        if result == "first":
            spread[c, i * k + j] = 1.0
        elif result == "second":
            spread[c, j * k + i] = 1.0
        else:
            spread[c, i * k + j] = spread[c, j * k + i] = 0.5
    wins = (counts @ spread).reshape(k, k) if k else np.zeros((0, 0))
    decisive = sum(1 for v in fitted if v.outcome != "tie")
    diagnostics = {
        "votes_used": len(fitted),
        "decisive": decisive,
        "ties": len(fitted) - decisive,
        "both_bad": sum(1 for v in votes if v.outcome == "bad" and v.left != v.right),
        "self_votes_ignored": sum(1 for v in votes if v.left == v.right),
        "providers_fitted": k,
        "prior_ties": prior,
        "bootstrap": bootstrap,
        "seed": seed,
    }
    components = _components(names, wins + wins.T) if k else ()
    if k == 0:
        fit = FitDiagnostics(connected=True, components=(), iterations=0, converged=True,
                             log_likelihood=None, bootstrap_failed=0, **diagnostics)
        return _BradleyTerryResult({}, {}, fit)
    point = fit_bradley_terry(wins, prior=prior)
    strengths = {name: float(math.exp(point.log_strengths[i])) for name, i in index.items()}
    intervals: dict[str, Interval] = {}
    failed = 0
    if bootstrap > 0:
        rng = np.random.default_rng(seed)
        draws = rng.multinomial(len(fitted), counts / counts.sum(), size=bootstrap)
        stack = (draws.astype(float) @ spread).reshape(bootstrap, k, k)
        replicates = fit_bradley_terry(stack, prior=prior)
        ok = replicates.converged
        failed = int((~ok).sum())
        if ok.any():
            low, high = np.percentile(np.exp(replicates.log_strengths[ok]), _CI_PERCENTILES,
                                      axis=0)
            intervals = {name: Interval(float(low[i]), float(high[i]))
                         for name, i in index.items()}
    fit = FitDiagnostics(connected=len(components) <= 1, components=components,
                         iterations=point.iterations, converged=bool(point.converged),
                         log_likelihood=float(point.log_likelihood),
                         bootstrap_failed=failed, **diagnostics)
    return _BradleyTerryResult(strengths, intervals, fit)


def _tally(votes: Sequence[Vote]) -> dict[str, _VoteTally]:
    tallies: dict[str, _VoteTally] = defaultdict(_VoteTally)
    for v in votes:
        if v.left == v.right:
            continue
        left, right = tallies[v.left], tallies[v.right]
        left.votes += 1
        right.votes += 1
        if v.outcome == "left":
            left.wins += 1
            right.losses += 1
        elif v.outcome == "right":
            right.wins += 1
            left.losses += 1
        elif v.outcome == "tie":
            left.ties += 1
            right.ties += 1
        else:
            left.bad += 1
            right.bad += 1
    return tallies


# --------------------------------------------------------------------------- reviews


def wilson_interval(successes: float, n: float, *, z: float = Z95) -> Interval | None:
    """Wilson score interval for a proportion successes / n (None when n is 0). Better than
    p ± z·se for small n and for rates near 0 or 1, where that interval leaves [0, 1]."""
    if n <= 0:
        return None
    p = successes / n
    z2 = z * z
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = z / (1 + z2 / n) * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    return Interval(max(0.0, centre - half), min(1.0, centre + half))


def _latest_reviews(reviews: Iterable[ReviewFact]) -> list[ReviewFact]:
    """One review per (item, reviewer): the later one given."""
    latest: dict[tuple[str, str], ReviewFact] = {}
    for review in reviews:
        latest.pop((review.item, review.reviewer), None)
        latest[(review.item, review.reviewer)] = review
    return list(latest.values())


def _review_stats(reviews: Sequence[ReviewFact], outputs: Sequence[OutputFact],
                  cost: Mapping[str, float], top: int) -> ReviewStats:
    verdicts: dict[str, list[bool]] = defaultdict(list)
    for r in reviews:
        if r.verdict is not None:
            verdicts[r.item].append(r.verdict == "pass")
    share = {item: sum(passed) / len(passed) for item, passed in verdicts.items()}
    reviewed = len(share)
    passes = float(sum(share.values()))
    stars = [r.stars for r in reviews if r.stars is not None]
    defects = Counter(tag for r in reviews for tag in set(r.tags))
    durations = [o.duration_s for o in outputs
                 if o.duration_s is not None and math.isfinite(o.duration_s)]
    costed = [item for item in share if item in cost]
    credits = float(sum(cost[item] for item in costed)) if costed else None
    passes_costed = sum(share[item] for item in costed)
    return ReviewStats(
        outputs_reviewed=reviewed,
        reviews=len(reviews),
        passes=passes,
        pass_rate=passes / reviewed if reviewed else None,
        pass_rate_ci=wilson_interval(passes, reviewed),
        mean_stars=statistics.fmean(stars) if stars else None,
        stars_count=len(stars),
        top_defects=tuple(sorted(defects.items(), key=lambda kv: (-kv[1], kv[0]))[:top]),
        outputs_timed=len(durations),
        median_duration_s=statistics.median(durations) if durations else None,
        credits_reviewed=credits,
        credits_per_pass=(credits / passes_costed
                          if credits is not None and passes_costed > 0 else None),
    )


# --------------------------------------------------------------------------- agreement


def cohen_kappa(table: np.ndarray) -> tuple[float, float, float] | None:
    """Cohen's kappa of a k x k agreement table (rows: rater A's category, columns: rater
    B's). Returns (kappa, observed, expected), or None when it is undefined (no items, or
    both raters used one and the same category throughout, so chance agreement is 1)."""
    table = np.asarray(table, dtype=float)
    total = table.sum()
    if total <= 0:
        return None
    observed = float(np.trace(table) / total)
    expected = float((table.sum(axis=1) * table.sum(axis=0)).sum() / (total * total))
    if expected >= 1.0:
        return None
    return (observed - expected) / (1.0 - expected), observed, expected


def fleiss_kappa(counts: np.ndarray) -> tuple[float, float, float] | None:
    """Fleiss' kappa of an items x categories table of how many raters put each item in
    each category. Items may have different numbers of raters (at least 2 each): each item's
    agreement is the share of agreeing rater pairs, and category shares pool all ratings;
    with the same number everywhere this is Fleiss (1971). Returns (kappa, observed,
    expected) or None when undefined (no items, or every rating in one category)."""
    counts = np.asarray(counts, dtype=float)
    if counts.ndim != 2 or counts.shape[0] == 0:
        return None
    raters = counts.sum(axis=1)
    if np.any(raters < 2):
        raise ValueError("Every item needs at least two ratings for Fleiss' kappa.")
    per_item = ((counts * counts).sum(axis=1) - raters) / (raters * (raters - 1))
    observed = float(per_item.mean())
    shares = counts.sum(axis=0) / raters.sum()
    expected = float((shares * shares).sum())
    if expected >= 1.0:
        return None
    return (observed - expected) / (1.0 - expected), observed, expected


def quadratic_weighted_kappa(table: np.ndarray) -> float | None:
    """Cohen's kappa with quadratic weights on a k x k table of ordered categories (stars):
    a 4-against-5 disagreement costs less than 1-against-5. None when undefined."""
    table = np.asarray(table, dtype=float)
    k = table.shape[0]
    total = table.sum()
    if k < 2 or total <= 0:
        return None
    idx = np.arange(k)
    weights = (idx[:, None] - idx[None, :]) ** 2 / (k - 1) ** 2
    expected = np.outer(table.sum(axis=1), table.sum(axis=0)) / total
    chance = float((weights * expected).sum())
    if chance <= 0:
        return None
    return 1.0 - float((weights * table).sum()) / chance


def _multi_rated(reviews: Sequence[ReviewFact],
                 value: str) -> dict[str, dict[str, Any]]:
    """item -> {reviewer: value} for items that at least two reviewers gave a value."""
    by_item: dict[str, dict[str, Any]] = defaultdict(dict)
    for r in reviews:
        v = getattr(r, value)
        if v is not None:
            by_item[r.item][r.reviewer] = v
    return {item: rated for item, rated in by_item.items() if len(rated) >= 2}


def _agreement(reviews: Sequence[ReviewFact]) -> Agreement:
    verdicts = _multi_rated(reviews, "verdict")
    stars = _multi_rated(reviews, "stars")
    stars_kappa, stars_items = _stars_kappa(stars)
    reviewers = sorted({name for rated in verdicts.values() for name in rated})
    common = {"stars_weighted_kappa": stars_kappa, "stars_items": stars_items}
    if not verdicts:
        return Agreement(method=None, kappa=None, items=0, reviewers=0, observed=None,
                         expected=None, note="No output has a pass/fail verdict from more "
                         "than one reviewer, so agreement cannot be measured.", **common)
    items = len(verdicts)
    if len(reviewers) == 2:
        first, second = reviewers
        table = np.zeros((2, 2))
        for rated in verdicts.values():
            table[VERDICTS.index(rated[first]), VERDICTS.index(rated[second])] += 1
        result = cohen_kappa(table)
        method: Literal["cohen", "fleiss"] = "cohen"
        measured = (f"Cohen's kappa between {first} and {second} on the pass/fail verdicts "
                    f"of {items} output{'s' if items != 1 else ''}")
    else:
        counts = np.array([[sum(1 for v in rated.values() if v == cat) for cat in VERDICTS]
                           for rated in verdicts.values()], dtype=float)
        result = fleiss_kappa(counts)
        method = "fleiss"
        measured = (f"Fleiss' kappa among {len(reviewers)} reviewers on the pass/fail "
                    f"verdicts of {items} output{'s' if items != 1 else ''}")
    if result is None:
        return Agreement(method=method, kappa=None, items=items, reviewers=len(reviewers),
                         observed=1.0, expected=1.0, note=f"{measured}: every verdict was "
                         "the same, so agreement beyond chance cannot be measured.", **common)
    kappa, observed, expected = result
    return Agreement(method=method, kappa=kappa, items=items, reviewers=len(reviewers),
                     observed=observed, expected=expected,
                     note=f"{measured}: {kappa:.2f}.", **common)


def _stars_kappa(stars: Mapping[str, Mapping[str, int]]) -> tuple[float | None, int]:
    """Quadratic-weighted kappa when exactly two people starred the same outputs."""
    people = sorted({name for rated in stars.values() for name in rated})
    if len(people) != 2:
        return None, len(stars)
    low = min(v for rated in stars.values() for v in rated.values())
    high = max(v for rated in stars.values() for v in rated.values())
    table = np.zeros((high - low + 1, high - low + 1))
    for rated in stars.values():
        table[rated[people[0]] - low, rated[people[1]] - low] += 1
    return quadratic_weighted_kappa(table), len(stars)


# --------------------------------------------------------------------------- entry point


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
