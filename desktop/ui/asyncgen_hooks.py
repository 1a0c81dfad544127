"""asyncio's async-generator finaliser for the qasync loop.

asyncio installs it in `BaseEventLoop.run_forever`; qasync's loop runs Qt's event loop instead
and never does. Without it, an async generator left half way (httpx's body iterators, when a
download is refused as too large or abandoned at its time limit) is finalised by the garbage
collector, which cannot await the generator's cleanup: "async generator ignored GeneratorExit"
lands on stderr and the connection is closed late. The finaliser schedules the generator's
`aclose()` on the loop, as asyncio does.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncGenerator, Callable
from typing import Any


def install(loop: asyncio.AbstractEventLoop) -> Callable[[], None]:
    """Finalise abandoned async generators on `loop` (for the calling thread, where the loop
    runs); returns a function that puts the previous hooks back."""
    previous = sys.get_asyncgen_hooks()

    def finalizer(agen: AsyncGenerator[Any, Any]) -> None:
        if not loop.is_closed():
            loop.call_soon_threadsafe(_close_soon, loop, agen)

    sys.set_asyncgen_hooks(firstiter=previous.firstiter, finalizer=finalizer)
    return lambda: sys.set_asyncgen_hooks(*previous)


def _close_soon(loop: asyncio.AbstractEventLoop, agen: AsyncGenerator[Any, Any]) -> None:
    if not loop.is_closed():
        loop.create_task(agen.aclose())
