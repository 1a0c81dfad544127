"""A team's shared assets folder (RESTYLE_ASSETS_DIR): several processes writing the same and
different files into one folder at once end with one intact file per content and no
temporary leftovers, and a reader never sees part of a file. Services.open uses the team's
folder and database when they are configured."""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import stat
import time
from pathlib import Path

import pytest

from desktop.core.assets import AssetStore

WRITERS = 4
ROUNDS = 6
SIZE = 3 * 1024 * 1024  # big enough that a write takes a while: the race has room


def content(tag: str, n: int) -> bytes:
    """SIZE bytes, different for each (tag, n)."""
    seed = hashlib.sha256(f"{tag}-{n}".encode()).digest()
    return (seed * (SIZE // len(seed) + 1))[:SIZE]


def writer(root: str, me: int, start: multiprocessing.synchronize.Barrier) -> None:
    store = AssetStore(Path(root), shared=True)
    start.wait()
    for n in range(ROUNDS):
        shared = content("same", n)
        store.put(shared, "image/png")  # every writer: the same bytes at the same moment
        own = content(f"writer{me}", n)
        with store.incoming() as part:  # a download's way in
            for i in range(0, len(own), 65536):
                part.write(own[i:i + 65536])
            store.commit(part, "image/png")
        with store.incoming() as part:  # ...and the same bytes as everyone, downloaded
            part.write(content("downloaded", n))
            store.commit(part, "image/png")


def reader(root: str, expected: dict[str, str], stop: multiprocessing.synchronize.Event,
           seen: multiprocessing.sharedctypes.Synchronized, bad: multiprocessing.Queue) -> None:
    """Read every file that exists under its final name while the writers run: each must be
    whole (its bytes hash to its name)."""
    paths = {sha: Path(root) / sha[:2] / f"{sha}.png" for sha in expected}
    while not stop.is_set():
        for sha, path in paths.items():
            try:
                data = path.read_bytes()
            except FileNotFoundError:
                continue
            with seen.get_lock():
                seen.value += 1
            if hashlib.sha256(data).hexdigest() != sha:
                bad.put(f"{path.name}: {len(data)} bytes")
        time.sleep(0.001)


def test_many_processes_writing_into_one_folder(tmp_path: Path) -> None:
    ctx = multiprocessing.get_context("spawn")
    root = tmp_path / "team-assets"
    tags = ["same", "downloaded", *(f"writer{w}" for w in range(WRITERS))]
    expected = {hashlib.sha256(content(tag, n)).hexdigest(): tag
                for tag in tags for n in range(ROUNDS)}
    start = ctx.Barrier(WRITERS)
    stop = ctx.Event()
    seen = ctx.Value("i", 0)
    bad: multiprocessing.Queue = ctx.Queue()
    AssetStore(root, shared=True)  # the folder exists before anyone reads it
    watcher = ctx.Process(target=reader, args=(str(root), expected, stop, seen, bad))
    watcher.start()
    writers = [ctx.Process(target=writer, args=(str(root), w, start)) for w in range(WRITERS)]
    for p in writers:
        p.start()
    for p in writers:
        p.join(120)
    stop.set()
    watcher.join(30)
    assert [p.exitcode for p in writers] == [0] * WRITERS and watcher.exitcode == 0
    problems = []
    while not bad.empty():
        problems.append(bad.get())
    assert problems == [], problems
    assert seen.value > 0  # the reader did read files while they were being written

    files = sorted(p for p in root.rglob("*") if p.is_file())
    assert len(files) == len(expected) == len(tags) * ROUNDS  # one per content
    for path in files:
        sha = path.name.split(".")[0]
        assert sha in expected and hashlib.sha256(path.read_bytes()).hexdigest() == sha
    # No temporary name is left: not beside the files, not in the incoming folder.
    assert not [p for p in root.rglob("*") if p.name.endswith(".tmp")]
    # A team's files are readable by the team (the user's usual mode, not owner-only).
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(files[0].stat().st_mode) == 0o666 & ~umask


def test_a_copied_in_file_is_checked_and_lands_whole(tmp_path: Path) -> None:
    """import_file (db copy --assets-from): hash checked, a damaged copy replaced."""
    from desktop.core.assets import AssetMismatch

    source = tmp_path / "a.png"
    source.write_bytes(content("copy", 0))
    sha = hashlib.sha256(source.read_bytes()).hexdigest()
    store = AssetStore(tmp_path / "team", shared=True)
    assert store.import_file(source, sha, "image/png") is True
    assert store.import_file(source, sha, "image/png") is False  # there, and intact
    target = store.path_for(sha, "image/png")
    target.write_bytes(b"half a file")  # a damaged copy from an earlier, broken tool
    assert store.import_file(source, sha, "image/png") is True
    assert target.read_bytes() == source.read_bytes()
    with pytest.raises(AssetMismatch, match="not the file its name says"):
        store.import_file(source, "0" * 64, "image/png")
    assert not store.path_for("0" * 64, "image/png").exists()
    assert not list((tmp_path / "team").rglob("*.tmp"))


def test_a_desks_own_store_stays_private(tmp_path: Path) -> None:
    store = AssetStore(tmp_path / "mine")
    asset = store.put(b"private bytes", "image/png")
    assert stat.S_IMODE((tmp_path / "mine").stat().st_mode) == 0o700
    assert stat.S_IMODE(store.path_for(asset.sha256, asset.mime).stat().st_mode) == 0o600


def test_services_open_uses_the_team_folder_and_database(
        home: Path, tmp_path: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from desktop.services import Services

    shared = tmp_path / "mnt" / "team-assets"
    monkeypatch.setenv("RESTYLE_ASSETS_DIR", str(shared))
    monkeypatch.setenv("RESTYLE_DATABASE_URL", pg_url)
    services = Services.open()
    try:
        assert services.history.dialect == "postgresql"
        assert services.history.where.startswith("PostgreSQL database t_")
        assert services.assets.root == shared and services.assets.shared
        asset = services.assets.put(b"team bytes", "image/png")
        assert services.assets.path_for(asset.sha256, asset.mime).is_file()
        assert str(services.assets.path_for(asset.sha256, asset.mime)).startswith(str(shared))
    finally:
        services.close()
    assert not (home / "data" / "history.sqlite3").exists()  # the desk's file was not made
    assert not list((home / "data" / "assets").rglob("*.png"))
