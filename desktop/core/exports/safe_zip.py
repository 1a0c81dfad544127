"""Reading a zip file that nobody vouches for: member names, kinds and sizes checked before a
byte is inflated, and every read bounded.

Refused: a file that is not a zip; more members than `ZipCaps.max_members` (counted from the
end record, before the central directory is parsed); names that are absolute (`/x`, `C:x`),
climb (`..`), use backslashes, hold control characters or repeat; symbolic links; encrypted
members; compression other than stored or deflate; a total, a member or a compression ratio
over the caps (zip bombs). Nothing is ever extracted to disk: members are read into memory,
one at a time, within the size their caller allows.
"""

from __future__ import annotations

import os
import stat
import struct
import zipfile
from dataclasses import dataclass
from pathlib import Path

from desktop.core.humanize import human_bytes
from desktop.core.model import InvalidInput
from desktop.core.sources import shown

GIB = 1024 * 1024 * 1024
MIB = 1024 * 1024

_EOCD = b"PK\x05\x06"
_EOCD64_LOCATOR = b"PK\x06\x07"
_EOCD64 = b"PK\x06\x06"
#: The end record (22 bytes) plus the longest comment a zip can carry.
_TAIL = 22 + 0xFFFF
_COMPRESSIONS = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)
_READ_CHUNK = 1 << 20


@dataclass(frozen=True)
class ZipCaps:
    """How much a zip may hold before it is taken for a zip bomb."""

    max_members: int = 10_000
    #: The zip file itself and the sum of its members' sizes, uncompressed.
    max_total_bytes: int = 8 * GIB
    #: Uncompressed / compressed size of one member, and of the whole archive ...
    max_ratio: float = 100.0
    #: ... checked only above this size (a small JSON file may compress well).
    ratio_floor_bytes: int = 1 * MIB


class ZipRefused(InvalidInput):
    """The zip cannot be read safely; the message is the reason, as a clause. `not_a_bundle`:
    the file is not a zip at all (the user chose the wrong file), rather than a damaged or
    unsafe one."""

    def __init__(self, reason: str, *, not_a_bundle: bool = False) -> None:
        super().__init__(reason)
        self.not_a_bundle = not_a_bundle


def member_count(path: Path) -> int | None:
    """How many members the zip's end record announces (zip64 too), read from the file's
    tail; None when no end record is found (then it is not a zip)."""
    with path.open("rb") as fh:
        fh.seek(0, os.SEEK_END)
        size = fh.tell()
        fh.seek(max(0, size - _TAIL))
        tail = fh.read()
        at = tail.rfind(_EOCD)
        if at < 0 or len(tail) - at < 22:
            return None
        count = struct.unpack("<H", tail[at + 10:at + 12])[0]
        if count != 0xFFFF:
            return count
        locator = tail.rfind(_EOCD64_LOCATOR, 0, at)
        if locator < 0 or at - locator < 20:
            return count
        offset = struct.unpack("<Q", tail[locator + 8:locator + 16])[0]
        if offset >= size:
            return None
        fh.seek(offset)
        record = fh.read(56)
        if len(record) < 56 or not record.startswith(_EOCD64):
            return None
        return int(struct.unpack("<Q", record[32:40])[0])


def check_name(name: str) -> None:
    """ZipRefused for a member name that could point outside a folder it were extracted to,
    or that a file system could not hold."""
    if not name or name in ("/", "."):
        raise ZipRefused("it has a member without a name")
    if "\x00" in name or any(ord(ch) < 0x20 or 0x7F <= ord(ch) < 0xA0 for ch in name):
        raise ZipRefused(f"the member name {shown(name, 80)} contains a control character")
    if "\\" in name:
        raise ZipRefused(f"the member name {shown(name, 80)} contains a backslash (a Windows path "
                      "separator)")
    if name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        raise ZipRefused(f"the member {shown(name, 80)} has an absolute path")
    parts = name.rstrip("/").split("/")
    if ".." in parts:
        raise ZipRefused(f"the member {shown(name, 80)} climbs out of the bundle with '..'")
    if any(part in ("", ".") for part in parts):
        raise ZipRefused(f"the member name {shown(name, 80)} has an empty or '.' part")
    if any(len(part.encode("utf-8", "surrogateescape")) > 255 for part in parts):
        raise ZipRefused(f"the member name {shown(name, 80)} has a part longer than 255 bytes")


def _is_symlink(info: zipfile.ZipInfo) -> bool:
    mode = info.external_attr >> 16
    return info.create_system == 3 and stat.S_ISLNK(mode)


class SafeZip:
    """An open zip whose directory passed the checks; `read` gives one member's bytes."""

    def __init__(self, path: Path, caps: ZipCaps | None = None) -> None:
        self.caps = caps or ZipCaps()
        self.path = path
        try:
            st = os.stat(path)
        except OSError as exc:
            raise ZipRefused(f"it cannot be opened ({exc.strerror or exc})",
                             not_a_bundle=True) from None
        if not stat.S_ISREG(st.st_mode):
            raise ZipRefused("it is not a regular file", not_a_bundle=True)
        if st.st_size > self.caps.max_total_bytes:
            raise ZipRefused(f"it is {human_bytes(st.st_size)}, more than the "
                          f"{human_bytes(self.caps.max_total_bytes)} a bundle may be")
        try:
            announced = member_count(path)
        except OSError as exc:
            raise ZipRefused(f"it cannot be read ({exc.strerror or exc})") from None
        if announced is None:
            raise ZipRefused("it is not a zip file", not_a_bundle=True)
        if announced > self.caps.max_members:
            raise ZipRefused(f"it has {announced} members, more than the "
                          f"{self.caps.max_members} a bundle may have")
        try:
            self._zip = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError) as exc:
            raise ZipRefused(f"it is not a readable zip file ({exc})", not_a_bundle=True
                             ) from None
        except OSError as exc:
            raise ZipRefused(f"it cannot be read ({exc.strerror or exc})") from None
        try:
            self._infos = self._check_directory(st.st_size)
        except BaseException:
            self._zip.close()
            raise

    def _check_directory(self, file_size: int) -> dict[str, zipfile.ZipInfo]:
        infos = self._zip.infolist()
        caps = self.caps
        if len(infos) > caps.max_members:
            raise ZipRefused(f"it has {len(infos)} members, more than the {caps.max_members} "
                          "a bundle may have")
        found: dict[str, zipfile.ZipInfo] = {}
        total = 0
        for info in infos:
            name = info.filename
            check_name(name)
            if _is_symlink(info):
                raise ZipRefused(f"the member {shown(name, 80)} is a symbolic link")
            if info.flag_bits & 0x1:
                raise ZipRefused(f"the member {shown(name, 80)} is encrypted")
            if info.compress_type not in _COMPRESSIONS:
                raise ZipRefused(f"the member {shown(name, 80)} uses a compression method Restyle "
                              "does not read (only stored and deflate)")
            if name in found or name.rstrip("/") in found:
                raise ZipRefused(f"the member {shown(name, 80)} appears twice")
            if info.is_dir():
                continue
            total += info.file_size
            if info.file_size > caps.ratio_floor_bytes and (
                    info.file_size > caps.max_ratio * max(info.compress_size, 1)):
                raise ZipRefused(f"the member {shown(name, 80)} inflates from "
                              f"{human_bytes(info.compress_size)} to "
                              f"{human_bytes(info.file_size)}, far more than any image does "
                              "(a zip bomb)")
            found[name] = info
        if total > caps.max_total_bytes:
            raise ZipRefused(f"its members add up to {human_bytes(total)}, more than the "
                          f"{human_bytes(caps.max_total_bytes)} a bundle may hold")
        if total > caps.ratio_floor_bytes and total > caps.max_ratio * max(file_size, 1):
            raise ZipRefused(f"it inflates from {human_bytes(file_size)} to {human_bytes(total)}, "
                          "far more than images do (a zip bomb)")
        return found

    @property
    def names(self) -> list[str]:
        """The file members (folders left out), in the order of the zip's directory."""
        return list(self._infos)

    def size(self, name: str) -> int:
        return self._infos[name].file_size

    def read(self, name: str, max_bytes: int) -> bytes:
        """The member's bytes; ZipRefused when it is larger than `max_bytes` (by its header
        or by what inflating it gives) or damaged."""
        info = self._infos.get(name)
        if info is None:
            raise ZipRefused(f"it has no member {shown(name, 80)}")
        if info.file_size > max_bytes:
            raise ZipRefused(f"the member {shown(name, 80)} is {human_bytes(info.file_size)}, "
                          f"more than the {human_bytes(max_bytes)} allowed for it")
        chunks: list[bytes] = []
        total = 0
        try:
            with self._zip.open(info) as fh:
                while True:
                    chunk = fh.read(min(_READ_CHUNK, max_bytes + 1 - total))
                    if not chunk:
                        break
                    total += len(chunk)
                    if total > max_bytes:
                        raise ZipRefused(f"the member {shown(name, 80)} inflates to more than "
                                      f"{human_bytes(max_bytes)}")
                    chunks.append(chunk)
        except (zipfile.BadZipFile, EOFError, ValueError, NotImplementedError) as exc:
            raise ZipRefused(f"the member {shown(name, 80)} is damaged ({exc})") from None
        except OSError as exc:
            raise ZipRefused(f"the member {shown(name, 80)} cannot be read "
                          f"({exc.strerror or exc})") from None
        except MemoryError:
            raise ZipRefused(f"the member {shown(name, 80)} does not fit in memory") from None
        return b"".join(chunks)

    def close(self) -> None:
        self._zip.close()

    def __enter__(self) -> SafeZip:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

