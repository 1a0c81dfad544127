"""Benchmark: rankings.rank on simulated votes and reviews. Prints figures.

Run: python -m tests.perf.bench_rankings [repeats]
(or python tests/perf/bench_rankings.py). Nothing here passes or fails on time.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import numpy as np

if __package__ in (None, ""):  # run as a file: make `desktop` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from desktop.core.rankings import OutputFact, ReviewFact, Vote, rank

STRENGTHS = (3.0, 2.0, 1.2, 0.8, 0.4, 0.3, 0.25, 0.2, 0.15, 0.1)


def simulate(providers: int, votes: int, reviews: int,
             seed: int = 1) -> tuple[list[Vote], list[ReviewFact], list[OutputFact]]:
    rng = np.random.default_rng(seed)
    names = [f"provider-{i}" for i in range(providers)]
    strength = dict(zip(names, STRENGTHS, strict=False))
    out_votes = []
    for _ in range(votes):
        i, j = rng.choice(providers, 2, replace=False)
        left, right = names[i], names[j]
        u = rng.random()
        if u < 0.05:
            out_votes.append(Vote(left, right, "bad"))
        elif u < 0.15:
            out_votes.append(Vote(left, right, "tie"))
        else:
            p = strength[left] / (strength[left] + strength[right])
            out_votes.append(Vote(left, right, "left" if rng.random() < p else "right"))
    out_reviews, outputs = [], []
    for n in range(reviews):
        name = names[n % providers]
        item = f"job{n}:0"
        outputs.append(OutputFact(name, "tryon", item, float(rng.uniform(5, 60)), 1.0))
        for reviewer in ("ann", "bob")[: 1 + (n % 5 == 0)]:
            out_reviews.append(ReviewFact(name, "tryon",
                                          "pass" if rng.random() < 0.7 else "fail",
                                          int(rng.integers(1, 6)), ("seam",), reviewer, item))
    return out_votes, out_reviews, outputs


def measure(label: str, repeats: int, providers: int, votes: int, reviews: int,
            bootstrap: int) -> None:
    data = simulate(providers, votes, reviews)
    rank(*data, bootstrap=bootstrap)  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = rank(*data, bootstrap=bootstrap)
        times.append((time.perf_counter() - start) * 1000)
    print(f"  {label:<48}{statistics.median(times):>10.1f}{min(times):>10.1f}"
          f"   {result.fit.iterations} Newton steps, {result.fit.bootstrap_failed} failed")


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    repeats = int(args[0]) if args else 20
    print(f"rankings.rank, median and best of {repeats} runs, in ms")
    print(f"  {'case':<48}{'median':>10}{'best':>10}")
    measure("5 providers, 2000 votes, B=1000", repeats, 5, 2000, 0, 1000)
    measure("5 providers, 2000 votes, B=0", repeats, 5, 2000, 0, 0)
    measure("10 providers, 20000 votes, B=1000", repeats, 10, 20000, 0, 1000)
    measure("5 providers, 2000 votes, 2000 reviews, B=1000", repeats, 5, 2000, 2000, 1000)


if __name__ == "__main__":
    main()
