"""Shared fixtures: an isolated RESTYLE_HOME, an in-memory keyring, offscreen Qt."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import keyring
import keyring.backend
import numpy  # noqa: F401 - see below
import pytest

# Restyle imports numpy on first use, possibly in a worker thread; pytest.approx peeks at
# sys.modules["numpy"] and would find it half-initialised while that thread imports it. Tests
# load it up front (the start-up test runs in a process of its own).

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


class MemoryKeyring(keyring.backend.KeyringBackend):
    """A real keyring backend that keeps passwords in a dict."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.passwords: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.passwords.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.passwords[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        try:
            del self.passwords[(service, username)]
        except KeyError:
            raise keyring.errors.PasswordDeleteError("not found") from None


@pytest.fixture(autouse=True)
def _hermetic_keyring() -> Iterator[None]:
    """No test touches the machine's real keyring: each starts with the fail backend (as on a
    headless machine) and `memory_keyring` swaps in a working one where a test needs it."""
    import keyring.backends.fail

    old = keyring.get_keyring()
    keyring.set_keyring(keyring.backends.fail.Keyring())
    try:
        yield
    finally:
        keyring.set_keyring(old)


@pytest.fixture
def memory_keyring() -> Iterator[MemoryKeyring]:
    old = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    try:
        yield backend
    finally:
        keyring.set_keyring(old)


@pytest.fixture
def no_keyring() -> Iterator[None]:
    import keyring.backends.fail

    old = keyring.get_keyring()
    keyring.set_keyring(keyring.backends.fail.Keyring())
    try:
        yield
    finally:
        keyring.set_keyring(old)


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh RESTYLE_HOME, with no provider variables leaking in from the environment."""
    for name in list(os.environ):
        if name.startswith("RESTYLE_"):
            monkeypatch.delenv(name)
    folder = tmp_path / "restyle-home"
    monkeypatch.setenv("RESTYLE_HOME", str(folder))
    return folder


@pytest.fixture(scope="session", autouse=True)
def _release_clipboard() -> Iterator[None]:
    """What the app does when it quits (desktop/ui/clipboard.py): a file a test copied is
    taken off the clipboard before Qt shuts down, else PySide6 crashes at exit."""
    yield
    import sys

    if "desktop.ui.clipboard" in sys.modules:
        sys.modules["desktop.ui.clipboard"].release()


# -- PostgreSQL (team mode) -------------------------------------------------------------------
@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[object]:
    """One throwaway PostgreSQL server for the whole run (tests/pg_cluster.py), started on first
    use. Where PostgreSQL is not installed the tests that need it skip, except under
    RESTYLE_CI=1 (.ci/run installs it), where they fail."""
    from tests.pg_cluster import ClusterUnavailable, PgCluster

    try:
        cluster = PgCluster().start()
    except ClusterUnavailable as exc:
        if os.environ.get("RESTYLE_CI") == "1":
            pytest.fail(str(exc))
        pytest.skip(str(exc))
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
def pg_url(pg_cluster: object) -> str:
    """A new, empty PostgreSQL database for one test: its URL."""
    from tests.pg_cluster import PgCluster

    assert isinstance(pg_cluster, PgCluster)
    return pg_cluster.create_database()


@pytest.fixture(params=["sqlite", "postgresql"])
def history_target(request: pytest.FixtureRequest, tmp_path: Path) -> str | Path:
    """Where a store test keeps its history, once on each back-end: an SQLite file, then a
    new PostgreSQL database whose locale sorts text as people do (en-US, as many servers are
    set up), so a query that leans on the server's locale shows here."""
    if request.param == "sqlite":
        return tmp_path / "h.sqlite3"
    from tests.pg_cluster import PgCluster

    cluster = request.getfixturevalue("pg_cluster")
    assert isinstance(cluster, PgCluster)
    return cluster.create_database(icu_locale="en-US")
