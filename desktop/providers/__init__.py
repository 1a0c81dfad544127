"""Provider adapters. httpx lives here and nowhere else."""

import sys

# httpx's package imports its command-line client (httpx._main) whenever click is installed
# (uvicorn, among others, brings it), and that loads click, rich and pygments: ~30 ms of a
# start-up for a CLI Restyle never runs. A None entry makes that import fail the way it does
# without click, so httpx falls back to its stub `main` that says what is missing.
if "httpx" not in sys.modules:
    sys.modules.setdefault("httpx._main", None)  # type: ignore[assignment]
