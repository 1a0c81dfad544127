"""Rankings: Bradley-Terry strengths, review figures and reviewer agreement.

Known answers come from textbooks (Agresti's baseball table, the Cohen and Fleiss examples,
Newcombe's Wilson intervals) and from independent computations: choix's Bradley-Terry fit and
SciPy's optimiser on a log-likelihood written here from the model's definition.
"""

from __future__ import annotations

import json
import math
from itertools import combinations

import choix
import numpy as np
import pytest
from scipy.optimize import brentq, minimize

from desktop.core.rankings import (
    Interval,
    OutputFact,
    ReviewFact,
    Vote,
    cohen_kappa,
    fit_bradley_terry,
    fleiss_kappa,
    quadratic_weighted_kappa,
    rank,
    wilson_interval,
)

# Agresti, Categorical Data Analysis (2nd ed.), section 10.6: the 1987 American League East,
# games won by the row team against the column team (home and away together; 13 a pair).
BASEBALL_TEAMS = ("Milwaukee", "Detroit", "Toronto", "New York", "Boston", "Cleveland",
                  "Baltimore")
BASEBALL_WINS = np.array([
    [0, 7, 9, 7, 7, 9, 11],
    [6, 0, 7, 5, 11, 9, 9],
    [4, 6, 0, 7, 7, 8, 12],
    [6, 8, 6, 0, 6, 7, 10],
    [6, 2, 6, 7, 0, 7, 12],
    [4, 4, 5, 6, 6, 0, 6],
    [2, 4, 1, 3, 1, 7, 0],
], dtype=float)
# Agresti's Table 10.11 (log strengths, Baltimore = 0), as BradleyTerry2's BTm prints them.
BASEBALL_LOG_STRENGTHS = (1.5814, 1.4364, 1.2945, 1.2476, 1.1077, 0.6839, 0.0)


def votes_from_wins(names: tuple[str, ...], wins: np.ndarray) -> list[Vote]:
    votes = []
    for i, j in combinations(range(len(names)), 2):
        votes += [Vote(names[i], names[j], "left")] * int(wins[i, j])
        votes += [Vote(names[i], names[j], "right")] * int(wins[j, i])
    return votes


def simulate(strengths: dict[str, float], n: int, seed: int, *,
             ties: float = 0.0) -> list[Vote]:
    """n votes between random pairs; each decisive vote follows the Bradley-Terry model."""
    rng = np.random.default_rng(seed)
    names = list(strengths)
    votes = []
    for _ in range(n):
        i, j = rng.choice(len(names), 2, replace=False)
        left, right = names[i], names[j]
        if rng.random() < ties:
            votes.append(Vote(left, right, "tie"))
            continue
        p = strengths[left] / (strengths[left] + strengths[right])
        votes.append(Vote(left, right, "left" if rng.random() < p else "right"))
    return votes


def normalised(strengths: dict[str, float]) -> dict[str, float]:
    mean = np.mean(np.log(list(strengths.values())))
    return {name: math.exp(math.log(s) - mean) for name, s in strengths.items()}


def by_name(result) -> dict:
    return {row.provider: row for row in result.providers}


# --------------------------------------------------------------------------- Bradley-Terry


def test_baseball_table_gives_agrestis_strengths() -> None:
    fit = fit_bradley_terry(BASEBALL_WINS, prior=0)
    assert fit.converged
    relative = fit.log_strengths - fit.log_strengths[-1]
    assert relative == pytest.approx(BASEBALL_LOG_STRENGTHS, abs=5e-5)
    # The same through votes: a prior of a millionth of a tie leaves the estimate in place.
    result = rank(votes_from_wins(BASEBALL_TEAMS, BASEBALL_WINS), bootstrap=0, prior=1e-6)
    rows = by_name(result)
    assert [row.provider for row in result.providers] == list(BASEBALL_TEAMS)
    for team, expected in zip(BASEBALL_TEAMS, BASEBALL_LOG_STRENGTHS, strict=True):
        assert math.log(rows[team].strength / rows["Baltimore"].strength) == pytest.approx(
            expected, abs=5e-4)
    assert rows["Milwaukee"].wins == 50 and rows["Milwaukee"].votes == 78


def test_fit_matches_choix_with_and_without_the_prior() -> None:
    rng = np.random.default_rng(3)
    wins = rng.integers(1, 9, size=(6, 6)).astype(float)
    wins += 0.5 * rng.integers(0, 3, size=(6, 6))  # half-wins from ties
    np.fill_diagonal(wins, 0)
    ours = fit_bradley_terry(wins, prior=0).log_strengths
    theirs = choix.ilsr_pairwise_dense(wins, alpha=0.0, max_iter=1000, tol=1e-12)
    assert ours == pytest.approx(theirs - theirs.mean(), abs=1e-6)
    # The prior is one virtual tie with a reference player: give choix that player.
    augmented = np.zeros((7, 7))
    augmented[:6, :6] = wins
    augmented[:6, 6] = augmented[6, :6] = 0.5
    theirs = choix.ilsr_pairwise_dense(augmented, alpha=0.0, max_iter=1000, tol=1e-12)[:6]
    assert fit_bradley_terry(wins, prior=1.0).log_strengths == pytest.approx(
        theirs - theirs.mean(), abs=1e-6)


def test_rank_matches_an_independent_likelihood_maximised_by_scipy() -> None:
    truth = {"a": 3.0, "b": 1.5, "c": 1.0, "d": 0.3}
    votes = simulate(truth, 400, seed=11, ties=0.15)
    votes += [Vote("a", "d", "bad")] * 7
    names = sorted(truth)

    def negative_log_likelihood(theta: np.ndarray) -> float:
        strength = dict(zip(names, np.exp(theta), strict=True))
        total = 0.0
        for v in votes:
            p_left = strength[v.left] / (strength[v.left] + strength[v.right])
            if v.outcome == "left":
                total += math.log(p_left)
            elif v.outcome == "right":
                total += math.log(1 - p_left)
            elif v.outcome == "tie":
                total += 0.5 * math.log(p_left) + 0.5 * math.log(1 - p_left)
        for s in strength.values():  # one virtual tie against a reference of strength 1
            total += 0.5 * math.log(s / (s + 1)) + 0.5 * math.log(1 / (s + 1))
        return -total

    best = minimize(negative_log_likelihood, np.zeros(len(names)), method="BFGS",
                    options={"gtol": 1e-9})
    expected = best.x - best.x.mean()
    rows = by_name(rank(votes, bootstrap=0))
    for name, log_strength in zip(names, expected, strict=True):
        assert math.log(rows[name].strength) == pytest.approx(log_strength, abs=1e-4)


def test_many_votes_recover_the_strengths_they_were_drawn_from() -> None:
    truth = {"a": 4.0, "b": 2.0, "c": 1.0, "d": 0.5, "e": 0.25}
    result = rank(simulate(truth, 20000, seed=5), bootstrap=0)
    rows = by_name(result)
    for name, strength in normalised(truth).items():
        assert rows[name].strength == pytest.approx(strength, rel=0.06)
    assert [row.provider for row in result.providers] == ["a", "b", "c", "d", "e"]
    assert result.fit.converged and result.fit.connected
    assert math.prod(row.strength for row in result.providers) == pytest.approx(1.0)


def test_a_symmetric_vote_set_gives_equal_strengths() -> None:
    votes = []
    for left, right in combinations("abcd", 2):
        votes += [Vote(left, right, "left")] * 3 + [Vote(left, right, "right")] * 3
        votes += [Vote(left, right, "tie")] * 2
    result = rank(votes, bootstrap=200)
    for row in result.providers:
        assert row.strength == pytest.approx(1.0, abs=1e-9)
        assert row.p_beat_average == pytest.approx(0.5, abs=1e-9)
        assert row.win_rate == pytest.approx(0.5)
        assert row.strength_ci.low < 1.0 < row.strength_ci.high
        assert (row.wins, row.losses, row.ties, row.votes) == (9, 9, 6, 24)


def test_hand_computed_pair_and_ties_as_half_a_win() -> None:
    # 3 wins to 1: the maximum-likelihood ratio is 3, so sqrt(3) and 1/sqrt(3).
    fit = fit_bradley_terry(np.array([[0.0, 3.0], [1.0, 0.0]]), prior=0)
    assert np.exp(fit.log_strengths) == pytest.approx([math.sqrt(3), 1 / math.sqrt(3)])
    # One win and two ties: 2 points of 3, ratio 2.
    votes = [Vote("x", "y", "left"), Vote("x", "y", "tie"), Vote("y", "x", "tie")]
    rows = by_name(rank(votes, bootstrap=0, prior=1e-9))
    assert rows["x"].strength / rows["y"].strength == pytest.approx(2.0, rel=1e-6)
    assert rows["x"].win_rate == pytest.approx(2 / 3)
    assert rows["x"].p_beat_average == pytest.approx(math.sqrt(2) / (1 + math.sqrt(2)))


def test_both_bad_votes_are_counted_but_do_not_move_the_strengths() -> None:
    votes = simulate({"a": 2.0, "b": 1.0, "c": 0.5}, 300, seed=2, ties=0.1)
    plain = rank(votes, bootstrap=300, seed=4)
    bad = [Vote("a", "b", "bad")] * 8 + [Vote("c", "a", "bad")] * 2
    with_bad = rank(votes[:100] + bad + votes[100:], bootstrap=300, seed=4)
    for before, after in zip(plain.providers, with_bad.providers, strict=True):
        assert after.strength == pytest.approx(before.strength, rel=1e-12)
        assert after.strength_ci == before.strength_ci
        assert after.win_rate == before.win_rate
    rows = by_name(with_bad)
    assert (rows["a"].both_bad, rows["b"].both_bad, rows["c"].both_bad) == (10, 8, 2)
    assert rows["a"].votes == by_name(plain)["a"].votes + 10
    assert rows["b"].both_bad_rate == pytest.approx(8 / rows["b"].votes)
    assert with_bad.fit.both_bad == 10 and with_bad.fit.votes_used == 300


def test_a_provider_that_never_won_gets_a_finite_strength_below_the_others() -> None:
    votes = [Vote("good", "loser", "left")] * 6 + [Vote("loser", "ok", "right")] * 4
    votes += [Vote("good", "ok", "left")] * 3 + [Vote("good", "ok", "right")] * 2
    result = rank(votes, bootstrap=300)
    rows = by_name(result)
    assert result.fit.converged and result.fit.bootstrap_failed == 0
    assert 0 < rows["loser"].strength < rows["ok"].strength < rows["good"].strength
    assert 0 < rows["loser"].strength_ci.low <= rows["loser"].strength_ci.high < 1
    assert rows["loser"].win_rate == 0.0
    # Without the prior there is no maximum-likelihood estimate, and the fit says so.
    wins = np.array([[0, 6, 3], [0, 0, 0], [2, 4, 0]], dtype=float)
    with pytest.raises(ValueError, match="never beat"):
        fit_bradley_terry(wins, prior=0)


def test_disconnected_groups_are_reported() -> None:
    votes = [Vote("a", "b", "left")] * 5 + [Vote("a", "b", "right")] * 2
    votes += [Vote("c", "d", "left")] * 4 + [Vote("d", "c", "left")] * 4
    votes += [Vote("e", "a", "bad")]  # "both bad" links nothing
    result = rank(votes, bootstrap=100)
    assert not result.fit.connected
    assert result.fit.components == (("a", "b"), ("c", "d"))
    rows = by_name(result)
    assert rows["a"].strength > rows["b"].strength
    assert rows["c"].strength == pytest.approx(rows["d"].strength)
    assert rows["e"].strength is None and rows["e"].both_bad == 1
    connected = rank([*votes, Vote("b", "c", "tie")], bootstrap=0)
    assert connected.fit.connected and connected.fit.components == (("a", "b", "c", "d"),)


def test_extreme_votes_under_a_tiny_prior_still_converge() -> None:
    # One provider lost all of 1279 votes, with a millionth of a virtual tie each: by
    # symmetry log strengths are +x and -x around the reference, where x solves the
    # stationarity equation below (brentq: an independent scalar root).
    n, prior = 1279, 1e-6
    fit = fit_bradley_terry(np.array([[0.0, n], [0.0, 0.0]]), prior=prior)

    def gradient(x: float) -> float:
        return n / (1 + math.exp(2 * x)) + prior / 2 * (1 / (1 + math.exp(x))
                                                       - 1 / (1 + math.exp(-x)))

    x = brentq(gradient, 0.0, 50.0, xtol=1e-14)
    assert fit.converged
    assert fit.log_strengths == pytest.approx([x, -x], abs=1e-6)
    # Two groups that never met, placed against each other by that tiny prior alone.
    votes = [Vote("a", "b", "left")] * 1977 + [Vote("a", "b", "right")] * 325
    votes += [Vote("c", "d", "left")] * 900 + [Vote("c", "d", "right")] * 1100
    result = rank(votes, bootstrap=50, prior=prior)
    assert result.fit.converged and result.fit.bootstrap_failed == 0
    rows = by_name(result)
    assert rows["a"].strength / rows["b"].strength == pytest.approx(1977 / 325, rel=1e-5)
    assert rows["d"].strength / rows["c"].strength == pytest.approx(1100 / 900, rel=1e-5)


# Win matrices found by fuzzing that a plainer Newton gets wrong under a prior of a millionth
# of a tie: players who lost thousands of votes and never won (the gradient must not be
# computed as wins - games * p), a step that overshoots without the line search, a singular
# solve without the ridge, and one that needs 239 iterations.
HARD_CASES = [
    [[0, 0, 0, 0, 3598, 0], [2438, 0, 0, 0, 0, 2], [522, 0, 0, 0, 0, 0],
     [0, 0, 1940, 0, 942, 0], [0, 0, 0, 0, 0, 0], [1344, 0, 2086, 2323, 0, 0]],
    [[0, 3118, 0, 0, 4136, 0], [0, 0, 0, 0, 0, 0], [0, 1375, 0, 0, 0, 0],
     [1, 0, 0, 0, 899, 0], [0, 911, 0, 0, 0, 0], [3273, 0, 0, 4637, 0, 0]],
    [[0, 29, 11, 0], [0, 0, 1629, 0], [0, 932, 0, 0], [988, 83, 39, 0]],
    [[0, 4346, 0, 0, 3496, 0], [0, 0, 0, 0, 1759, 0], [2945, 0, 0, 793, 2076, 4312],
     [2879, 4369, 0, 0, 1733, 2405], [0, 1253, 0, 0, 0, 0], [4950, 1074, 0, 1, 0, 0]],
]


@pytest.mark.parametrize("wins", HARD_CASES)
def test_hard_win_matrices_reach_the_maximum(wins: list[list[int]]) -> None:
    matrix = np.array(wins, dtype=float)
    with np.errstate(over="raise", divide="raise", invalid="raise"):
        fit = fit_bradley_terry(matrix, prior=1e-6)
    assert fit.converged
    # At the maximum each player's expected score equals its score (the prior's share is a
    # millionth of a vote).
    theta = fit.log_strengths
    p = 1 / (1 + np.exp(theta[None, :] - theta[:, None]))
    games = matrix + matrix.T
    expected = (games * p).sum(axis=1)
    assert expected == pytest.approx(matrix.sum(axis=1), abs=1e-5)


def test_no_votes_one_provider_and_self_votes() -> None:
    empty = rank([])
    assert empty.providers == ()
    assert empty.fit.providers_fitted == 0 and empty.fit.connected
    assert empty.agreement.method is None
    json.dumps(empty.to_dict(), allow_nan=False)

    alone = rank([Vote("solo", "solo", "left")] * 3,
                 [ReviewFact("solo", "tryon", "pass", 4, (), "ann", "j1:0")])
    (row,) = alone.providers
    assert row.provider == "solo" and row.strength is None and row.strength_ci is None
    assert row.votes == 0 and row.win_rate is None and row.both_bad_rate is None
    assert alone.fit.self_votes_ignored == 3 and alone.fit.votes_used == 0
    assert row.review.pass_rate == 1.0

    only_bad = by_name(rank([Vote("a", "b", "bad")] * 2))
    assert only_bad["a"].strength is None and only_bad["a"].both_bad_rate == 1.0


def test_rows_come_strongest_first_then_reviewed_providers_by_pass_rate() -> None:
    votes = [Vote("weak", "strong", "right")] * 5 + [Vote("weak", "strong", "left")]
    reviews = [ReviewFact("unvoted-good", "tryon", "pass", None, (), "ann", "g1"),
               ReviewFact("unvoted-bad", "tryon", "fail", None, (), "ann", "b1")]
    order = [row.provider for row in rank(votes, reviews, bootstrap=0).providers]
    assert order == ["strong", "weak", "unvoted-good", "unvoted-bad"]


def test_bootstrap_intervals_are_reproducible_with_a_seed() -> None:
    votes = simulate({"a": 2.0, "b": 1.0, "c": 0.6}, 200, seed=8, ties=0.1)
    first = rank(votes, bootstrap=500, seed=42)
    again = rank(votes, bootstrap=500, seed=42)
    other = rank(votes, bootstrap=500, seed=43)
    assert [r.strength_ci for r in first.providers] == [r.strength_ci for r in again.providers]
    assert [r.strength_ci for r in first.providers] != [r.strength_ci for r in other.providers]
    for row in first.providers:
        assert row.strength_ci.low < row.strength < row.strength_ci.high
        assert row.p_beat_average_ci == Interval(
            row.strength_ci.low / (1 + row.strength_ci.low),
            row.strength_ci.high / (1 + row.strength_ci.high))
    assert all(row.strength_ci is None for row in rank(votes, bootstrap=0).providers)
    assert first.fit.bootstrap == 500 and first.fit.seed == 42


def test_bootstrap_intervals_cover_the_true_strength_about_95_percent_of_the_time() -> None:
    truth = {"a": 2.0, "b": 1.4, "c": 1.0, "d": 0.7, "e": 0.5}
    target = normalised(truth)
    hits = cases = 0
    for run in range(40):
        result = rank(simulate(truth, 300, seed=1000 + run), bootstrap=400, seed=run)
        for row in result.providers:
            cases += 1
            hits += row.strength_ci.low <= target[row.provider] <= row.strength_ci.high
    # Nominal 95 %: far fewer hits means intervals too narrow, nearly all means too wide.
    assert 0.85 <= hits / cases <= 0.99


def test_bootstrap_interval_width_matches_the_asymptotic_standard_error() -> None:
    truth = {"a": 2.0, "b": 1.4, "c": 1.0, "d": 0.7, "e": 0.5}
    votes = simulate(truth, 3000, seed=21)
    result = rank(votes, bootstrap=2000, seed=3)
    names = sorted(truth)
    theta = {row.provider: math.log(row.strength) for row in result.providers}
    # Fisher information of the log strengths at the estimate, from the model's definition;
    # its pseudo-inverse, (I + J/n)^-1 - J/n, is the covariance of log strengths centred on
    # their mean (the direction "all up by the same amount" is not measured).
    info = np.zeros((len(names), len(names)))
    for v in votes:
        i, j = names.index(v.left), names.index(v.right)
        p = 1 / (1 + math.exp(theta[v.right] - theta[v.left]))
        info[[i, j], [i, j]] += p * (1 - p)
        info[[i, j], [j, i]] -= p * (1 - p)
    centring = np.full_like(info, 1 / len(names))
    covariance = np.linalg.inv(info + centring) - centring
    for row in result.providers:
        k = names.index(row.provider)
        half_width = (math.log(row.strength_ci.high) - math.log(row.strength_ci.low)) / 2
        assert half_width == pytest.approx(1.96 * math.sqrt(covariance[k, k]), rel=0.1)


def test_rank_refuses_meaningless_settings_with_a_sentence() -> None:
    with pytest.raises(ValueError, match="bootstrap resamples"):
        rank([], bootstrap=-1)
    with pytest.raises(ValueError, match="prior"):
        rank([], prior=0)
    with pytest.raises(ValueError, match="outcome"):
        Vote("a", "b", "draw")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="verdict"):
        ReviewFact("a", "t", "ok", None, (), "ann", "i")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="stars"):
        ReviewFact("a", "t", None, 4.5, (), "ann", "i")  # type: ignore[arg-type]


# --------------------------------------------------------------------------- reviews


@pytest.mark.parametrize(("successes", "n", "low", "high"), [
    (5, 10, 0.2366, 0.7634),   # R: prop.test(5, 10, correct = FALSE)
    (81, 263, 0.2553, 0.3662),  # Newcombe (1998), example (i)
    (15, 148, 0.0624, 0.1605),  # Newcombe (1998), example (ii)
    (0, 20, 0.0, 0.1611),       # Newcombe (1998), example (iii)
    (1, 29, 0.0061, 0.1718),    # Newcombe (1998), example (iv)
])
def test_wilson_interval_known_values(successes: int, n: int, low: float,
                                      high: float) -> None:
    interval = wilson_interval(successes, n)
    assert (interval.low, interval.high) == pytest.approx((low, high), abs=6e-5)


def test_wilson_interval_of_nothing_is_none() -> None:
    assert wilson_interval(0, 0) is None


def test_review_figures_per_provider_and_task() -> None:
    reviews = [
        ReviewFact("p", "tryon", "pass", 5, ("seam",), "ann", "j1:0"),
        ReviewFact("p", "tryon", "fail", 2, ("hands", "seam", "seam"), "ann", "j1:1"),
        ReviewFact("p", "tryon", "pass", 4, (), "ann", "j2:0"),
        # Two people on one output: half passed.
        ReviewFact("p", "staging", "pass", 3, ("light",), "ann", "j3:0"),
        ReviewFact("p", "staging", "fail", 1, ("light", "hands"), "bob", "j3:0"),
        # A changed mind: only the later review of ann on j4:0 counts.
        ReviewFact("p", "staging", "pass", 5, ("hands",), "ann", "j4:0"),
        ReviewFact("p", "staging", "fail", 1, (), "ann", "j4:0"),
        ReviewFact("p", "staging", None, 4, ("light",), "cid", "j5:0"),  # stars only
        ReviewFact("q", "tryon", "fail", None, (), "ann", "k1:0"),
    ]
    outputs = [
        OutputFact("p", "tryon", "j1:0", 10.0, 2.0),
        OutputFact("p", "tryon", "j1:1", 10.0, 2.0),
        OutputFact("p", "tryon", "j2:0", 30.0, 3.0),
        OutputFact("p", "staging", "j3:0", 20.0, 4.0),
        OutputFact("p", "staging", "j4:0", None, None),
        OutputFact("p", "staging", "j5:0", 50.0, 9.0),
        OutputFact("p", "staging", "j6:0", 40.0, 1.0),  # not reviewed
        OutputFact("q", "tryon", "k1:0", 5.0, 1.0),
    ]
    rows = by_name(rank([], reviews, outputs))
    p = rows["p"].review
    assert p.outputs_reviewed == 5 and p.reviews == 7
    assert p.passes == pytest.approx(2.5)
    assert p.pass_rate == pytest.approx(0.5)
    assert p.pass_rate_ci == wilson_interval(2.5, 5)
    assert p.mean_stars == pytest.approx((5 + 2 + 4 + 3 + 1 + 1 + 4) / 7)
    assert p.stars_count == 7
    assert p.top_defects == (("light", 3), ("hands", 2), ("seam", 2))
    assert p.median_duration_s == pytest.approx(25.0) and p.outputs_timed == 6
    # Reviewed outputs with a known cost: j1:0, j1:1, j2:0, j3:0 (11 credits, 2.5 passes).
    assert p.credits_reviewed == pytest.approx(11.0)
    assert p.credits_per_pass == pytest.approx(11.0 / 2.5)

    tryon, staging = rows["p"].by_task["tryon"], rows["p"].by_task["staging"]
    assert (tryon.outputs_reviewed, tryon.passes, tryon.pass_rate) == (3, 2.0, 2 / 3)
    assert tryon.credits_per_pass == pytest.approx(7.0 / 2)
    assert tryon.top_defects == (("seam", 2), ("hands", 1))
    assert tryon.median_duration_s == 10.0
    assert (staging.outputs_reviewed, staging.passes) == (2, 0.5)
    assert staging.credits_per_pass == pytest.approx(4.0 / 0.5)
    assert staging.median_duration_s == pytest.approx(40.0)

    q = rows["q"].review
    assert q.pass_rate == 0.0 and q.credits_per_pass is None and q.mean_stars is None
    assert rank([], reviews, outputs, top_defects=1).providers[0].review.top_defects == (
        ("light", 3),)


# --------------------------------------------------------------------------- agreement


def test_cohen_kappa_wikipedia_examples() -> None:
    kappa, observed, expected = cohen_kappa(np.array([[20, 5], [10, 15]]))
    assert (kappa, observed, expected) == pytest.approx((0.4, 0.7, 0.5))
    # Same observed agreement (0.6), different marginals, different kappa.
    assert cohen_kappa(np.array([[45, 15], [25, 15]]))[0] == pytest.approx(0.1304, abs=5e-5)
    assert cohen_kappa(np.array([[25, 35], [5, 35]]))[0] == pytest.approx(0.2593, abs=5e-5)
    # The same 50 outputs reviewed by two people, through rank().
    reviews = []
    cells = [("pass", "pass", 20), ("pass", "fail", 5), ("fail", "pass", 10),
             ("fail", "fail", 15)]
    n = 0
    for a, b, count in cells:
        for _ in range(count):
            n += 1
            reviews.append(ReviewFact("p", "tryon", a, None, (), "ann", f"j{n}:0"))
            reviews.append(ReviewFact("p", "tryon", b, None, (), "bob", f"j{n}:0"))
    reviews.append(ReviewFact("p", "tryon", "pass", None, (), "ann", "single:0"))
    agreement = rank([], reviews).agreement
    assert agreement.method == "cohen" and agreement.items == 50 and agreement.reviewers == 2
    assert agreement.kappa == pytest.approx(0.4)
    assert "Cohen" in agreement.note and "50 outputs" in agreement.note


def test_fleiss_kappa_wikipedia_example() -> None:
    # Fleiss (1971) as on Wikipedia: 10 subjects, 14 raters, 5 categories.
    counts = np.array([
        [0, 0, 0, 0, 14], [0, 2, 6, 4, 2], [0, 0, 3, 5, 6], [0, 3, 9, 2, 0],
        [2, 2, 8, 1, 1], [7, 7, 0, 0, 0], [3, 2, 6, 3, 0], [2, 5, 3, 2, 2],
        [6, 5, 2, 1, 0], [0, 2, 2, 3, 7],
    ])
    kappa, observed, expected = fleiss_kappa(counts)
    assert round(kappa, 3) == 0.210
    assert round(observed, 3) == 0.378 and round(expected, 3) == 0.213


def test_fleiss_kappa_through_rank_with_three_reviewers() -> None:
    verdicts = {"i1": "ppp", "i2": "fff", "i3": "ppf", "i4": "fpf"}
    reviews = [ReviewFact("p", "t", {"p": "pass", "f": "fail"}[v], None, (), who, item)
               for item, given in verdicts.items()
               for who, v in zip(("ann", "bob", "cid"), given, strict=True)]
    agreement = rank([], reviews).agreement
    # Per item agreement 1, 1, 1/3, 1/3 -> 2/3; pass share 1/2 -> chance 1/2; kappa 1/3.
    assert agreement.method == "fleiss" and agreement.items == 4 and agreement.reviewers == 3
    assert agreement.kappa == pytest.approx(1 / 3)
    assert agreement.observed == pytest.approx(2 / 3) and agreement.expected == 0.5
    assert "Fleiss" in agreement.note


def test_fleiss_kappa_with_different_numbers_of_reviewers_per_output() -> None:
    # Two people agree on i1; three split on i2; three agree on i3.
    reviews = [ReviewFact("p", "t", "pass", None, (), "ann", "i1"),
               ReviewFact("p", "t", "pass", None, (), "bob", "i1"),
               ReviewFact("p", "t", "pass", None, (), "ann", "i2"),
               ReviewFact("p", "t", "fail", None, (), "bob", "i2"),
               ReviewFact("p", "t", "fail", None, (), "cid", "i2"),
               ReviewFact("p", "t", "fail", None, (), "bob", "i3"),
               ReviewFact("p", "t", "fail", None, (), "cid", "i3"),
               ReviewFact("p", "t", "fail", None, (), "dan", "i3")]
    agreement = rank([], reviews).agreement
    observed = (1 + 1 / 3 + 1) / 3
    expected = (3 / 8) ** 2 + (5 / 8) ** 2
    assert agreement.method == "fleiss" and agreement.reviewers == 4
    assert agreement.kappa == pytest.approx((observed - expected) / (1 - expected))


def test_two_reviewers_per_output_but_three_people_use_fleiss() -> None:
    reviews = [ReviewFact("p", "t", "pass", None, (), "ann", "i1"),
               ReviewFact("p", "t", "pass", None, (), "bob", "i1"),
               ReviewFact("p", "t", "fail", None, (), "bob", "i2"),
               ReviewFact("p", "t", "pass", None, (), "cid", "i2")]
    agreement = rank([], reviews).agreement
    assert agreement.method == "fleiss" and agreement.items == 2 and agreement.reviewers == 3


def test_agreement_that_cannot_be_measured_says_why() -> None:
    single = rank([], [ReviewFact("p", "t", "pass", 3, (), "ann", "i1"),
                       ReviewFact("p", "t", "pass", 3, (), "bob", "i2")]).agreement
    assert single.method is None and single.kappa is None and single.items == 0
    assert "more than one reviewer" in single.note
    unanimous = rank([], [ReviewFact("p", "t", "pass", None, (), who, item)
                          for who in ("ann", "bob") for item in ("i1", "i2")]).agreement
    assert unanimous.method == "cohen" and unanimous.kappa is None and unanimous.items == 2
    assert "every verdict was the same" in unanimous.note


def test_weighted_kappa_on_stars_matches_the_covariance_formula() -> None:
    ann = [1, 2, 3, 4, 5, 5, 4, 3, 2, 2, 4, 5]
    bob = [1, 3, 3, 5, 4, 5, 2, 3, 1, 2, 5, 4]
    reviews = [ReviewFact("p", "t", None, s, (), who, f"i{n}")
               for who, stars in (("ann", ann), ("bob", bob)) for n, s in enumerate(stars)]
    agreement = rank([], reviews).agreement
    x, y = np.array(ann, float), np.array(bob, float)
    covariance = ((x - x.mean()) * (y - y.mean())).mean()
    # Quadratic-weighted kappa = 2 cov / (var x + var y + (mean x - mean y)^2).
    expected = 2 * covariance / (x.var() + y.var() + (x.mean() - y.mean()) ** 2)
    assert agreement.stars_weighted_kappa == pytest.approx(expected)
    assert agreement.stars_items == 12
    assert quadratic_weighted_kappa(np.diag([3, 1, 4])) == pytest.approx(1.0)
    three = [*reviews, ReviewFact("p", "t", None, 3, (), "cid", "i0")]
    assert rank([], three).agreement.stars_weighted_kappa is None


# --------------------------------------------------------------------------- JSON


def test_to_dict_is_plain_json_with_the_cli_fields() -> None:
    votes = [*simulate({"a": 2.0, "b": 1.0}, 60, seed=1, ties=0.2), Vote("a", "b", "bad")]
    reviews = [ReviewFact("a", "tryon", "pass", 5, ("seam",), "ann", "j1:0"),
               ReviewFact("b", "tryon", "fail", 2, ("hands",), "ann", "j2:0")]
    outputs = [OutputFact("a", "tryon", "j1:0", 12.5, 3.0),
               OutputFact("b", "tryon", "j2:0", 8.0, 1.0)]
    data = json.loads(json.dumps(rank(votes, reviews, outputs, bootstrap=100).to_dict(),
                                 allow_nan=False))
    first = data["providers"][0]
    assert first["provider"] == "a"
    assert first["strength"] > 1 and first["strength_ci"][0] < first["strength_ci"][1]
    assert first["wins"] + first["losses"] + first["ties"] + first["both_bad"] == first["votes"]
    assert first["review"]["pass_rate"] == 1.0 and first["review"]["mean_stars"] == 5.0
    assert first["review"]["top_defects"] == [{"tag": "seam", "count": 1}]
    assert first["review"]["credits_per_passed_output"] == 3.0
    assert first["by_task"]["tryon"]["median_duration_s"] == 12.5
    assert data["providers"][1]["review"]["credits_per_passed_output"] is None
    assert data["fit"]["connected"] is True and data["fit"]["bootstrap"] == 100
    assert data["agreement"]["method"] is None
