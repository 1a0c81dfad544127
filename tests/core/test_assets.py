"""Asset store: content addressing, atomic writes, thumbnails."""

from __future__ import annotations

import hashlib
import io
import os
import time
from pathlib import Path

import pytest
from PIL import Image

from desktop.core import files
from desktop.core.assets import AssetStore
from desktop.core.model import InvalidInput
from tests.big_images import solid_png
from tests.fakes import png_bytes


def test_put_is_content_addressed_and_idempotent(tmp_path: Path) -> None:
    store = AssetStore(tmp_path / "assets")
    data = png_bytes()
    a = store.put(data, "image/png", width=64, height=48)
    b = store.put(data, "image/png", width=64, height=48)
    assert a == b and a.sha256 == hashlib.sha256(data).hexdigest()
    path = store.path_for(a.sha256, "image/png")
    assert path.name == f"{a.sha256}.png" and path.parent.name == a.sha256[:2]
    assert store.read(a) == data
    assert [p for p in path.parent.iterdir() if p.name.startswith(".")] == []


def test_failed_write_leaves_no_partial_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                             ) -> None:
    target = tmp_path / "x" / "file.bin"
    target.parent.mkdir()
    target.write_bytes(b"old")

    def broken_fsync(fd: int) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(files.os, "fsync", broken_fsync)
    with pytest.raises(OSError, match="disk full"):
        files.atomic_write(target, b"new content")
    assert target.read_bytes() == b"old"
    assert sorted(p.name for p in target.parent.iterdir()) == ["file.bin"]


def _files_under(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


def test_put_that_crashes_before_the_bytes_are_durable_leaves_nothing(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """put writes elsewhere, makes the bytes durable, and only then gives them the asset's
    name: at the moment of the fsync nothing is under the final name yet, and a crash there
    leaves no file at all, partial or not."""
    store = AssetStore(tmp_path / "assets")
    data = png_bytes()
    path = store.path_for(hashlib.sha256(data).hexdigest(), "image/png")
    final_name_seen: list[bool] = []

    def crash(fd: int) -> None:
        final_name_seen.append(path.exists())
        raise OSError("disk full")

    monkeypatch.setattr(os, "fsync", crash)
    with pytest.raises(OSError, match="disk full"):
        store.put(data, "image/png")
    assert final_name_seen == [False]  # fsynced before it had the name; failed at the first
    assert not path.exists() and _files_under(store.root) == []
    monkeypatch.undo()
    asset = store.put(data, "image/png")
    assert store.read(asset) == data and _files_under(store.root) == [path]


def test_put_never_truncates_an_existing_file(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """A good asset already stored is left alone (same file, no write at all); a damaged one
    (wrong size, from an older crash) keeps its bytes until the replacement is durable."""
    store = AssetStore(tmp_path / "assets")
    data = png_bytes()
    good = store.put(data, "image/png")
    path = store.path_for(good.sha256, "image/png")
    before = path.stat()
    seen_at_fsync: list[bytes] = []

    def crash(fd: int) -> None:
        seen_at_fsync.append(path.read_bytes())
        raise OSError("disk full")

    monkeypatch.setattr(os, "fsync", crash)
    assert store.put(data, "image/png") == good
    after = path.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    assert path.read_bytes() == data and seen_at_fsync == []

    damaged = data[: len(data) // 2]
    path.write_bytes(damaged)
    with pytest.raises(OSError, match="disk full"):
        store.put(data, "image/png")
    assert seen_at_fsync == [damaged] and path.read_bytes() == damaged
    assert _files_under(store.root) == [path]
    monkeypatch.undo()
    store.put(data, "image/png")
    assert path.read_bytes() == data


def test_thumbnail_is_cached_and_small(tmp_path: Path) -> None:
    store = AssetStore(tmp_path / "assets")
    buf = io.BytesIO()
    Image.new("RGB", (1200, 600), (0, 128, 0)).save(buf, "JPEG")
    asset = store.put(buf.getvalue(), "image/jpeg", width=1200, height=600)
    thumb = store.thumbnail(asset, 128)
    with Image.open(thumb) as img:
        assert max(img.size) == 128 and img.size == (128, 64)
    mtime = thumb.stat().st_mtime_ns
    assert store.thumbnail(asset, 128) == thumb and thumb.stat().st_mtime_ns == mtime
    assert store.remove([asset]) == 1
    assert not thumb.exists() and not store.exists(asset)


def test_thumbnail_of_a_result_over_the_input_limit(tmp_path: Path) -> None:
    store = AssetStore(tmp_path / "assets")
    asset = store.put(solid_png(8200, 8200), "image/png", width=8200, height=8200)
    thumb = Image.open(store.thumbnail(asset, 128))
    assert thumb.size == (128, 128) and thumb.format == "JPEG"
    small = AssetStore(tmp_path / "other", max_pixels=64_000_000)
    with pytest.raises(InvalidInput, match="64-megapixel limit"):
        small.thumbnail(small.put(solid_png(8200, 8200), "image/png"), 128)


# -- results on their way in: part files, hashed as written, renamed into place -----------------
def test_an_incoming_file_is_hashed_as_written_and_renamed_into_place(tmp_path: Path) -> None:
    store = AssetStore(tmp_path / "assets")
    data = bytes(range(256)) * 4000
    incoming = store.incoming()
    assert incoming.path.parent == store.root / ".incoming"  # same filesystem: atomic rename
    for start in range(0, len(data), 65536):
        incoming.write(data[start:start + 65536])
    assert incoming.size == len(data)
    assert incoming.sha256 == hashlib.sha256(data).hexdigest()
    assert incoming.head(4) == data[:4] and incoming.read() == data
    inode = incoming.path.stat().st_ino
    asset = store.commit(incoming, "image/png", width=3, height=4)
    stored = store.path_for(asset.sha256, "image/png")
    assert (asset.sha256, asset.size, asset.width, asset.height) == (
        hashlib.sha256(data).hexdigest(), len(data), 3, 4)
    assert stored.read_bytes() == data
    assert stored.stat().st_ino == inode  # the part file itself, renamed: never copied
    assert not incoming.path.exists() and list((store.root / ".incoming").iterdir()) == []


def test_a_reset_starts_the_file_and_its_hash_over(tmp_path: Path) -> None:
    store = AssetStore(tmp_path / "assets")
    incoming = store.incoming()
    incoming.write(b"half of a first attempt")
    incoming.reset()
    incoming.write(b"the body")
    assert incoming.size == 8 and incoming.sha256 == hashlib.sha256(b"the body").hexdigest()
    asset = store.commit(incoming, "image/png")
    assert store.read(asset) == b"the body"


def test_committing_bytes_already_stored_keeps_the_stored_file(tmp_path: Path) -> None:
    store = AssetStore(tmp_path / "assets")
    first = store.put(b"same bytes", "image/png")
    path = store.path_for(first.sha256, "image/png")
    inode = path.stat().st_ino
    incoming = store.incoming()
    incoming.write(b"same bytes")
    again = store.commit(incoming, "image/png")
    assert again.sha256 == first.sha256 and path.stat().st_ino == inode
    assert list((store.root / ".incoming").iterdir()) == []


def test_a_discarded_incoming_file_leaves_nothing(tmp_path: Path) -> None:
    store = AssetStore(tmp_path / "assets")
    with store.incoming() as incoming:
        incoming.write(b"partial")
    assert not incoming.path.exists()
    assert list((store.root / ".incoming").iterdir()) == []
    assert [p for p in store.root.rglob("*") if p.is_file()] == []


def test_part_files_left_by_a_crash_are_removed_a_day_later(tmp_path: Path) -> None:
    folder = tmp_path / "assets" / ".incoming"
    folder.mkdir(parents=True)
    old = folder / "part-old.tmp"
    fresh = folder / "part-fresh.tmp"  # another process's download in progress
    old.write_bytes(b"x")
    fresh.write_bytes(b"y")
    day_ago = time.time() - 25 * 3600
    os.utime(old, (day_ago, day_ago))
    AssetStore(tmp_path / "assets").incoming().discard()
    assert not old.exists() and fresh.exists()


def test_put_takes_a_digest_just_computed_instead_of_hashing_again(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from desktop.core import assets as assets_module

    store = AssetStore(tmp_path / "assets")
    data = b"prepared input bytes"
    digest = hashlib.sha256(data).hexdigest()

    def no_hashing(_data: bytes) -> str:
        raise AssertionError("hashed again")

    monkeypatch.setattr(assets_module, "sha256_hex", no_hashing)
    asset = store.put(data, "image/png", width=1, height=1, sha256=digest)
    assert asset.sha256 == digest and store.read(asset) == data
    monkeypatch.undo()
    assert store.put(data, "image/png").sha256 == digest  # without it, hashed as before


def test_import_file_checks_the_hash_and_replaces_a_damaged_copy(tmp_path: Path) -> None:
    """`db copy --assets-from`: a file comes in under its content address only when its
    SHA-256 is the one named; a damaged copy already there is replaced, an intact one kept;
    no part file is ever left behind."""
    from desktop.core.assets import AssetMismatch

    store = AssetStore(tmp_path / "assets")
    data = png_bytes(size=(300, 200))
    sha = hashlib.sha256(data).hexdigest()
    source = tmp_path / "source.png"
    source.write_bytes(data)
    path = store.path_for(sha, "image/png")

    wrong = tmp_path / "wrong.png"
    wrong.write_bytes(data[:-5])
    with pytest.raises(AssetMismatch, match="is not the file its name says"):
        store.import_file(wrong, sha, "image/png")
    assert not path.exists()

    assert store.import_file(source, sha, "image/png") is True
    assert path.read_bytes() == data
    assert store.import_file(source, sha, "image/png") is False  # intact: kept as it is

    path.write_bytes(data[:-10])  # damaged on the disk since
    assert store.import_file(source, sha, "image/png") is True
    assert path.read_bytes() == data
    leftovers = [p for p in (tmp_path / "assets").rglob("*") if p.suffix == ".tmp"]
    assert leftovers == []
