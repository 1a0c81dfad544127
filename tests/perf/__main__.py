"""`python -m tests.perf`: every benchmark, each in its own process, in one table.

  --quick        small sizes, seconds each (.ci/run runs this; it fails only on a crash)
  --check        exit 1 when a ratio misses its goal (ratios only, never wall times)
  --only NAME    run one benchmark (repeatable)
  --json FILE    write the rows as JSON
"""

from __future__ import annotations

import sys

from tests.perf.harness import main

if __name__ == "__main__":
    sys.exit(main())
