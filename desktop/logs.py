"""Logging set-up: a rotating file in the log directory, every line passed through redaction."""

from __future__ import annotations

import logging
import logging.handlers
from pathlib import Path

from desktop.core.redaction import redact_text

LOG_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"


class RedactingFormatter(logging.Formatter):
    """Formats as usual, then masks keys anywhere in the line, tracebacks included."""

    def format(self, record: logging.LogRecord) -> str:
        return redact_text(super().format(record))


def setup_logging(log_file: Path, *, level: int = logging.INFO, stderr_level: int | None = None
                  ) -> logging.Handler:
    """Attach a rotating, redacting file handler (1 MB x 5) to the `desktop` and `restyle`
    loggers; optionally also log to stderr at `stderr_level`. Returns the file handler."""
    log_file.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.handlers.RotatingFileHandler(
        log_file, maxBytes=1_000_000, backupCount=5, encoding="utf-8"
    )
    handler.setFormatter(RedactingFormatter(LOG_FORMAT))
    handler.setLevel(level)
    for name in ("desktop", "restyle"):
        logger = logging.getLogger(name)
        logger.setLevel(min(level, stderr_level or level))
        logger.addHandler(handler)
        if stderr_level is not None:
            console = logging.StreamHandler()
            console.setFormatter(RedactingFormatter("%(levelname)s %(name)s: %(message)s"))
            console.setLevel(stderr_level)
            logger.addHandler(console)
    return handler


def teardown_logging(handler: logging.Handler) -> None:
    for name in ("desktop", "restyle"):
        logging.getLogger(name).removeHandler(handler)
    handler.close()
