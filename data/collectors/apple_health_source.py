"""Where the export's bytes come from: a zip (possibly cut short) or a plain XML file.

The zip is read in place, member by member, never extracted: the main XML is streamed
through a guard that enforces the size and compression-ratio limits while reading
(declared sizes can lie), and GPX routes are looked up by file name when a workout names
them. A zip whose end (central directory) is missing, as after an interrupted upload, is
still readable from its local headers, so the part that arrived can be imported.
"""

from __future__ import annotations

import re
import struct
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from data.collectors.apple_health_types import ExportError
from data.collectors.apple_health_xml import CHUNK, read_prolog

__all__ = ["ExportSource", "open_export"]

# Below this many bytes a high ratio cannot hurt (and tiny test files compress well).
_RATIO_FLOOR = 2**20
_EXPORT_NAMES = ("export.xml", "导出.xml")
_NOT_EXPORT = re.compile(r"(^|/)(__MACOSX/|\._)|_cda\.xml$", re.IGNORECASE)


@dataclass
class _Member:
    """A zip entry as far as we need it, from the central directory or a local header."""

    name: str
    compressed: int | None  # None: unknown (data descriptor, cut-off zip)
    size: int | None
    method: int
    flags: int = 0
    data_offset: int | None = None  # only for members found by local headers
    info: zipfile.ZipInfo | None = None


def _rank(name: str) -> int | None:
    """Lower is a better main-XML candidate; None when `name` cannot be the export."""
    parts = name.split("/")
    if len(parts) > 2 or not parts[-1].lower().endswith(".xml") or _NOT_EXPORT.search(name):
        return None
    base = parts[-1].lower()
    in_folder = len(parts) == 2 and parts[0].lower() == "apple_health_export"
    if base in _EXPORT_NAMES:
        return 0 if in_folder else 2
    return 1 if in_folder else 3


class _Guard:
    """A read-only stream that refuses to inflate past the limits (zip-bomb guard)."""

    def __init__(self, inner: BinaryIO, name: str, limit: int, ratio: float,
                 consumed: Callable[[], int]) -> None:
        self.inner, self.name, self.limit, self.ratio = inner, name, limit, ratio
        self._consumed = consumed
        self.out = 0
        self.compressed = 0

    def read(self, n: int = -1) -> bytes:
        data = self.inner.read(n)
        self.out += len(data)
        self.compressed = max(self.compressed, self._consumed())
        if self.out > self.limit:
            raise ExportError(f"{self.name} unpacks to more than {self.limit:,} bytes; refusing "
                              "(raise the import size limit if this export is genuine)")
        if self.out > _RATIO_FLOOR and self.out > self.ratio * max(self.compressed, 1):
            raise ExportError(f"{self.name} unpacks more than {self.ratio:g} times its packed "
                              "size; refusing: this is how zip bombs look")
        return data

    def close(self) -> None:
        self.inner.close()


class _LocalStream:
    """A member read straight from its local header, for zips without a central directory.

    Ends quietly where the file ends: the XML parser then reports how far it got.
    """

    def __init__(self, fp: BinaryIO, member: _Member) -> None:
        self.fp = fp
        self.pos = member.data_offset or 0
        self.left = member.compressed
        self.inflate = zlib.decompressobj(-15) if member.method == zipfile.ZIP_DEFLATED else None
        self.tail = b""
        self.done = False
        self.consumed = 0

    def read(self, n: int = -1) -> bytes:
        n = CHUNK if n < 0 else n
        out = b""
        while len(out) < n and not self.done:
            data = self.tail
            if not data:
                want = CHUNK if self.left is None else min(CHUNK, self.left)
                self.fp.seek(self.pos)
                data = self.fp.read(want) if want else b""
                self.pos += len(data)
                self.consumed += len(data)
                if self.left is not None:
                    self.left -= len(data)
                if not data:
                    self.done = True
                    break
            if self.inflate is None:
                take = n - len(out)
                out += data[:take]
                self.tail = data[take:]
                continue
            out += self.inflate.decompress(data, n - len(out))
            self.tail = self.inflate.unconsumed_tail
            self.done = self.inflate.eof
        return out

    def close(self) -> None:
        """The file belongs to the ExportSource."""


def _local_members(fp: BinaryIO) -> Iterator[_Member]:
    """Entries of a zip read from its local headers, front to back, until they stop."""
    pos = 0
    while True:
        fp.seek(pos)
        head = fp.read(30)
        if len(head) < 30 or head[:4] != b"PK\x03\x04":
            return
        _, _, flags, method, _, _, _, csize, usize, nlen, xlen = struct.unpack(
            "<4sHHHHHIIIHH", head)
        raw = fp.read(nlen)
        extra = fp.read(xlen)
        name = raw.decode("utf-8" if flags & 0x800 else "cp437", "replace")
        if 0xFFFFFFFF in (csize, usize):
            usize, csize = _zip64_sizes(extra, usize, csize)
        data = pos + 30 + nlen + xlen
        known = not (flags & 0x08) or csize > 0
        yield _Member(name, csize if known else None, usize if known else None, method, flags,
                      data)
        if not known or flags & 0x01:
            return
        pos = data + csize


def _zip64_sizes(extra: bytes, usize: int, csize: int) -> tuple[int, int]:
    at = 0
    while at + 4 <= len(extra):
        tag, size = struct.unpack_from("<HH", extra, at)
        if tag == 0x0001:
            values = iter(struct.unpack_from(f"<{size // 8}Q", extra, at + 4))
            usize = next(values, usize) if usize == 0xFFFFFFFF else usize
            csize = next(values, csize) if csize == 0xFFFFFFFF else csize
            break
        at += 4 + size
    return usize, csize


class ExportSource:
    """An opened export: `open_xml()` streams the main XML, `open_route()` a GPX.

    Use as a context manager (or call `close`); `size` is the main XML's stored size,
    the denominator for `Batch.bytes_done`.
    """

    def __init__(self, path: Path, max_uncompressed: int, max_ratio: float) -> None:
        self.path = path
        self.name = path.name
        self.member: str | None = None
        self.max_uncompressed = max_uncompressed
        self.max_ratio = max_ratio
        self._fp: BinaryIO = path.open("rb")
        self._zip: zipfile.ZipFile | None = None
        self._members: dict[str, _Member] = {}
        self._main: _Member | None = None
        self._stream: _Guard | _LocalStream | BinaryIO | None = None
        self.size = path.stat().st_size
        self.is_zip = False

    # --- opening ------------------------------------------------------------------------

    def _setup(self) -> None:
        head = self._fp.read(4)
        if head[:2] == b"PK":
            self.is_zip = True
            self._setup_zip(head)
        self._fp.seek(0)
        try:
            with self.open_xml() as stream:
                read_prolog(stream, "HealthData", self.display)
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as exc:
            raise ExportError(f"{self.display} cannot be unpacked ({exc})") from None

    def _setup_zip(self, head: bytes) -> None:
        try:
            self._zip = zipfile.ZipFile(self._fp)
            infos = [i for i in self._zip.infolist() if not i.is_dir()]
            members = [_Member(i.filename, i.compress_size, i.file_size, i.compress_type,
                               i.flag_bits, info=i) for i in infos]
        except (zipfile.BadZipFile, OSError, EOFError) as exc:
            if head != b"PK\x03\x04":
                raise ExportError(f"{self.name} is not an Apple Health export (a damaged zip "
                                  f"file: {exc})") from None
            members = list(_local_members(self._fp))
        self._members = {m.name.rsplit("/", 1)[-1].lower(): m for m in members
                         if m.name.lower().endswith(".gpx")}
        ranked = sorted(((r, -(m.size or 0), m.name, m) for m in members
                         if (r := _rank(m.name)) is not None), key=lambda t: t[:3])
        if not ranked:
            found = ", ".join(m.name for m in members[:5]) or "nothing"
            raise ExportError(f"{self.name} is not an Apple Health export (the zip holds no "
                              f"apple_health_export/export.xml; found: {found})")
        self._main = ranked[0][3]
        self.member = self._main.name
        self._check_declared(self._main)
        self.size = self._main.compressed or self.size

    def _check_declared(self, member: _Member) -> None:
        size, packed = member.size or 0, member.compressed or 0
        where = f"{self.name}:{member.name}"
        if member.flags & 0x01:
            raise ExportError(f"{where} is encrypted; export again without a password")
        if member.method not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise ExportError(f"{where} uses a compression method Apple never writes "
                              f"({member.method}); refusing")
        if size > self.max_uncompressed:
            raise ExportError(f"{where} unpacks to {size:,} bytes, more than the limit of "
                              f"{self.max_uncompressed:,}; refusing")
        if size > _RATIO_FLOOR and size > self.max_ratio * max(packed, 1):
            raise ExportError(f"{where} unpacks {size / max(packed, 1):,.0f} times its packed "
                              f"size (limit {self.max_ratio:g}); refusing: this is how zip "
                              "bombs look")

    @property
    def display(self) -> str:
        """How messages name the main XML: 'export.zip:apple_health_export/export.xml'."""
        return f"{self.name}:{self.member}" if self.member else self.name

    # --- reading --------------------------------------------------------------------------

    def _open_member(self, member: _Member) -> _Guard:
        where = f"{self.name}:{member.name}"
        if member.info is not None and self._zip is not None:
            inner = self._zip.open(member.info)
            start = member.info.header_offset
            fp = self._fp

            def consumed() -> int:
                return max(0, fp.tell() - start)

            return _Guard(inner, where, self.max_uncompressed, self.max_ratio, consumed)
        local = _LocalStream(self._fp, member)
        return _Guard(local, where, self.max_uncompressed, self.max_ratio,  # type: ignore[arg-type]
                      lambda: local.consumed)

    def open_xml(self) -> _Closing:
        """The main XML from its first byte (a fresh stream each call)."""
        if self._main is None:
            self._fp.seek(0)
            fp = self._fp
            self._stream = fp
            return _Closing(fp, own=False)
        self._stream = self._open_member(self._main)
        return _Closing(self._stream, own=True)

    def bytes_done(self) -> int:
        """Stored bytes of the main XML consumed so far (of `size`)."""
        stream = self._stream
        if isinstance(stream, _Guard):
            return min(self.size, stream.compressed)
        return self._fp.tell() if stream is not None else 0

    def open_route(self, reference: str) -> tuple[_Closing, str] | None:
        """The GPX a workout's FileReference names, matched by file name, or None."""
        member = self._members.get(reference.rsplit("/", 1)[-1].lower())
        if member is not None:
            self._check_declared(member)
            return _Closing(self._open_member(member), own=True), f"{self.name}:{member.name}"
        if self.is_zip:
            return None
        base = reference.replace("\\", "/").rsplit("/", 1)[-1]
        candidate = self.path.parent / "workout-routes" / base
        if base and candidate.is_file():
            return _Closing(candidate.open("rb"), own=True), str(candidate.name)
        return None

    def close(self) -> None:
        """Release the file (and the zip's handle on it)."""
        if self._zip is not None:
            self._zip.close()
        self._fp.close()

    def __enter__(self) -> ExportSource:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


class _Closing:
    """Context-manager wrapper so callers can `with source.open_xml() as stream`."""

    def __init__(self, stream: object, own: bool) -> None:
        self.stream = stream
        self.own = own

    def read(self, n: int = -1) -> bytes:
        return self.stream.read(n)  # type: ignore[attr-defined]

    def __enter__(self) -> _Closing:
        return self

    def __exit__(self, *_exc: object) -> None:
        if self.own:
            self.stream.close()  # type: ignore[attr-defined]


def open_export(path: str | Path, *, max_uncompressed: int = 64 * 2**30,
                max_ratio: float = 200.0) -> ExportSource:
    """Open a zip or plain XML export and check it can be imported safely.

    In a zip, the main XML is found by name (`apple_health_export/export.xml`, any case,
    or a localized name; never `export_cda.xml`); members that declare more than
    `max_uncompressed` bytes or a compression ratio above `max_ratio` are refused, and
    the same limits hold while reading. The prolog is read and checked here, so a file
    that is not an export, or declares entities, fails before any import starts.
    Raises ExportError.
    """
    path = Path(path)
    try:
        source = ExportSource(path, max_uncompressed, max_ratio)
    except OSError as exc:
        raise ExportError(f"{path.name} cannot be read ({exc.strerror or exc})") from None
    try:
        source._setup()
    except BaseException:
        source.close()
        raise
    return source
