"""Agreement between reviewers: Cohen's kappa, Fleiss' kappa, quadratic-weighted kappa."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

from desktop.core.rankings.model import (
    VERDICTS,
    Agreement,
    ReviewFact,
)

if TYPE_CHECKING:
    import numpy as np


def cohen_kappa(table: np.ndarray) -> tuple[float, float, float] | None:
    """Cohen's kappa of a k x k agreement table (rows: rater A's category, columns: rater
    B's). Returns (kappa, observed, expected), or None when it is undefined (no items, or
    both raters used one and the same category throughout, so chance agreement is 1)."""
    import numpy as np
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
    import numpy as np
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
    import numpy as np
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
    import numpy as np
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
    import numpy as np
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
