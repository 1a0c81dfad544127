"""The history: jobs, their assets, batches, reviews and votes, in SQLite (WAL mode).

`History` (history.py) owns the connection, the migrations (schema.py) and the jobs; the
batch and review stores use its transactions. Methods block: callers on an event loop run
them in a worker thread.
"""

from desktop.core.store.errors import HistoryError, LeaseLost
from desktop.core.store.filters import JobFilter
from desktop.core.store.history import History
from desktop.core.store.paging import PageCursor
from desktop.core.store.schema import MIGRATIONS, SCHEMA_VERSION

__all__ = ["MIGRATIONS", "SCHEMA_VERSION", "History", "HistoryError", "JobFilter", "LeaseLost",
           "PageCursor"]
