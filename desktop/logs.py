"""Logging set-up: a rotating file in the log directory, every line passed through redaction."""

from __future__ import annotations

import logging
import logging.handlers
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from desktop.core.permissions import private_dir, private_file
from desktop.core.redaction import redact_text

LOG_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"
LOGGER_NAMES = ("desktop", "restyle")


class PrivateRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """A rotating log whose every file, the fresh one after each rollover too, is created
    readable by the user only (0600) before the handler opens it."""

    def _open(self) -> TextIO:
        private_file(Path(self.baseFilename))
        return super()._open()


class RedactingFormatter(logging.Formatter):
    """Formats as usual, then masks keys anywhere in the line, tracebacks included."""

    def format(self, record: logging.LogRecord) -> str:
        return redact_text(super().format(record))


@dataclass
class LogSetup:
    """What `setup_logging` changed, so `teardown_logging` can put it back exactly."""

    file_handler: logging.Handler
    handlers: dict[str, list[logging.Handler]] = field(default_factory=dict)
    previous_levels: dict[str, int] = field(default_factory=dict)


def setup_logging(log_file: Path, *, level: int = logging.INFO,
                  stderr_level: int | None = None) -> LogSetup:
    """Attach a rotating, redacting file handler (1 MB x 5) to the `desktop` and `restyle`
    loggers; optionally also log to stderr at `stderr_level`."""
    private_dir(log_file.parent)
    file_handler = PrivateRotatingFileHandler(
        log_file, maxBytes=1_000_000, backupCount=5, encoding="utf-8"
    )
    file_handler.setFormatter(RedactingFormatter(LOG_FORMAT))
    file_handler.setLevel(level)
    setup = LogSetup(file_handler)
    for name in LOGGER_NAMES:
        logger = logging.getLogger(name)
        setup.previous_levels[name] = logger.level
        logger.setLevel(min(level, stderr_level or level))
        attached: list[logging.Handler] = [file_handler]
        if stderr_level is not None:
            console = logging.StreamHandler()
            console.setFormatter(RedactingFormatter("%(levelname)s %(name)s: %(message)s"))
            console.setLevel(stderr_level)
            attached.append(console)
        for handler in attached:
            logger.addHandler(handler)
        setup.handlers[name] = attached
    return setup


def teardown_logging(setup: LogSetup) -> None:
    """Detach the handlers and restore the logger levels `setup_logging` changed."""
    for name, handlers in setup.handlers.items():
        logger = logging.getLogger(name)
        for handler in handlers:
            logger.removeHandler(handler)
            if handler is not setup.file_handler:
                handler.close()
        logger.setLevel(setup.previous_levels.get(name, logging.NOTSET))
    setup.file_handler.close()
