"""Bradley-Terry strengths from votes: Newton on log strengths, seeded bootstrap intervals."""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from desktop.core.rankings.model import (
    _CI_PERCENTILES,
    _DECREMENT_TOL,
    _MAX_NEWTON,
    _NEWTON_TOL,
    FitDiagnostics,
    Interval,
    Vote,
)

if TYPE_CHECKING:
    import numpy as np


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
    import numpy as np
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
    import numpy as np
    diff = theta[:, :, None] - theta[:, None, :]
    return -(wins * np.logaddexp(0.0, -diff)).sum(axis=(1, 2))


def _newton(wins: np.ndarray, anchor: int, players: int) -> tuple[np.ndarray, int, np.ndarray]:
    """Maximise the log-likelihood over theta with theta[anchor] = 0, for a stack of win
    matrices at once; the first `players` entries are the real players (the others: the
    prior's reference). Returns theta (B, n), iterations, converged (B,)."""
    import numpy as np
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
    import numpy as np
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
    import numpy as np
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
    import numpy as np
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
