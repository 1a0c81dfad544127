"""Review figures per provider and task: pass rate (Wilson interval), stars, defects, cost."""

from __future__ import annotations

import math
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence

from desktop.core.rankings.model import (
    Z95,
    Interval,
    OutputFact,
    ReviewFact,
    ReviewStats,
)


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
