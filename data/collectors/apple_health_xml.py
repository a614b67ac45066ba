"""Safe byte-level feeding of expat: prolog checks, DTD removal, control characters.

An uploaded file is untrusted input. Expat is fast but would happily expand entities
declared in an internal DTD (billion laughs) and report external ones, so the DTD never
reaches it: the prolog is read here, refused when it declares entities or points outside
the file, and replaced by as many newlines as it had (line numbers in messages stay true).
Apple's DTD carries no data, and the iOS 16 one is not even well-formed, so dropping it
also fixes those exports. The same path serves export.xml and the GPX routes.
"""

from __future__ import annotations

import re
import sys
import xml.parsers.expat as expat
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import BinaryIO

from data.collectors.apple_health_types import ExportError

__all__ = ["CHUNK", "Prolog", "UnsafeXML", "chunks", "new_parser", "read_prolog"]

# Decompressed bytes per expat feed: large enough that the Python loop around it costs
# nothing, small enough that the chunk and the rows made from it stay in the CPU cache
# (cachegrind on a generated export: 256 KB misses the last-level cache ~40% less
# often than 2 MB).
CHUNK = 256 * 2**10
# Apple's DTD is about 12 KB; a prolog this long is not an export.
MAX_PROLOG = 8 * 2**20
# XML 1.0 forbids these; iOS 16 wrote \x0b into source names. Tab, LF and CR stay.
_CONTROL = bytes(range(0x00, 0x09)) + b"\x0b\x0c" + bytes(range(0x0E, 0x20))
_CONTROL_AT = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f]")
# 29 memchr passes over a cached 256 KB chunk take half the time of one translate pass,
# and almost every chunk has none.
_CONTROL_BYTES = tuple(bytes([b]) for b in _CONTROL)
_BOM = b"\xef\xbb\xbf"
_SPACE = b" \t\r\n"
_SUBSET_END = re.compile(rb"\]\s*>")
_DOCTYPE_BODY = re.compile(rb"[\[>]")
_EXTERNAL = re.compile(rb"\b(?:SYSTEM|PUBLIC)\b")
_ENTITY = re.compile(rb"<!ENTITY[^>]{0,60}")
_TAG = re.compile(rb"<([^\s/>!?]+)")
_STATISTICS = b"<WorkoutStatistics"
_STATISTICS_TAG = re.compile(rb"<WorkoutStatistics\b[^>]*>")
_ATTRIBUTE = re.compile(rb"""\s+([^\s=/>]+)\s*=\s*(?:"[^"]*"|'[^']*')""")
# Longest tail of a chunk held back for the next one (a tag is a few hundred bytes).
_HOLD = 64 * 2**10
_VERSION = re.compile(rb"HealthKit Export Version:\s*(\d+)")
_NAMES = (
    "Record", "type", "unit", "value", "sourceName", "device", "startDate", "endDate",
    "MetadataEntry", "key", "InstantaneousBeatsPerMinute", "Correlation", "Workout",
    "trkpt", "lat", "lon", "ele", "time",
)


class UnsafeXML(ExportError):
    """The file tries entity expansion or external references: refuse it outright."""


@dataclass
class Prolog:
    """The checked start of a document: bytes to feed expat first, and what it said."""

    data: bytes
    export_version: int | None


def _snippet(raw: bytes) -> str:
    return raw.decode("utf-8", "replace").replace("\n", " ")[:60]


def _check_dtd(dtd: bytes, name: str) -> None:
    """Refuse a DTD that could make any parser read files, fetch URLs or expand entities."""
    external = _EXTERNAL.search(dtd)
    if external:
        start = max(0, dtd.rfind(b"<", 0, external.start()))
        raise UnsafeXML(
            f"{name} refers to external XML entities or DTDs "
            f"({_snippet(dtd[start:external.end() + 40])}); refusing: external entities can "
            "read local files or fetch URLs (XXE), and Apple Health exports never use them."
        )
    entity = _ENTITY.search(dtd)
    if entity:
        raise UnsafeXML(
            f"{name} declares XML entities ({_snippet(entity.group())}); refusing: entity "
            "expansion attack (billion laughs) — Apple Health exports never declare entities."
        )


def _scan(buf: bytes, root: str, name: str, eof: bool) -> Prolog | None:
    """The prolog of `buf` with its DTD blanked, or None when more bytes are needed."""
    pos = 3 if buf.startswith(_BOM) else 0
    while pos < len(buf) and buf[pos] in _SPACE:
        pos += 1
    start = buf[pos:pos + 64]
    wanted = b"<" + root.encode()
    if not start.startswith(b"<?xml") and not start.startswith(wanted):
        if not eof and len(start) < 64 and (b"<?xml".startswith(start)
                                            or wanted.startswith(start)):
            return None
        what = _snippet(start) or "empty file"
        raise ExportError(f"{name} is not an Apple Health export (it starts with {what!r})")
    dtd_span: tuple[int, int] | None = None
    while True:
        while pos < len(buf) and buf[pos] in _SPACE:
            pos += 1
        if len(buf) - pos < 16 and not eof:
            return None
        if buf.startswith(b"<?", pos) or buf.startswith(b"<!--", pos):
            end = buf.find(b"?>" if buf[pos + 1] == ord("?") else b"-->", pos + 2)
            if end < 0:
                return None
            pos = end + (2 if buf[pos + 1] == ord("?") else 3)
        elif buf.startswith(b"<!DOCTYPE", pos):
            if dtd_span is not None:
                raise ExportError(f"{name} is not an Apple Health export (two DOCTYPEs)")
            body = _DOCTYPE_BODY.search(buf, pos)
            end_match = body
            if body is not None and body.group() == b"[":
                end_match = _SUBSET_END.search(buf, body.end())
            if end_match is None:
                return None
            _check_dtd(buf[pos:end_match.end()], name)
            dtd_span = (pos, end_match.end())
            pos = end_match.end()
        else:
            tag = _TAG.match(buf, pos)
            if tag is None or (tag.end() == len(buf) and not eof):
                if tag is None and (eof or len(buf) - pos >= 16):
                    raise ExportError(f"{name} is not an Apple Health export (unexpected "
                                      f"{_snippet(buf[pos:pos + 40])!r} before the data)")
                return None
            found = tag.group(1).decode("utf-8", "replace")
            if found != root:
                raise ExportError(f"{name} is not an Apple Health export (its root element "
                                  f"is <{found}>, expected <{root}>)")
            break
    version = None
    if dtd_span is None:
        data = buf
    else:
        dtd = buf[dtd_span[0]:dtd_span[1]]
        found_version = _VERSION.search(dtd)
        version = int(found_version.group(1)) if found_version else None
        data = buf[:dtd_span[0]] + b"\n" * dtd.count(b"\n") + buf[dtd_span[1]:]
    return Prolog(data, version)


def read_prolog(stream: BinaryIO, root: str, name: str, chunk: int = CHUNK) -> Prolog:
    """Read until the root start tag; check and blank the DTD. Raises ExportError."""
    buf = b""
    while True:
        more = stream.read(chunk)
        buf += more
        found = _scan(buf, root, name, eof=not more)
        if found is not None:
            return found
        if not more:
            raise ExportError(f"{name} is not an Apple Health export (no <{root}> element)")
        if len(buf) > MAX_PROLOG:
            raise ExportError(f"{name} is not an Apple Health export (no <{root}> element "
                              f"in its first {MAX_PROLOG // 2**20} MB)")


def chunks(
    stream: BinaryIO, prolog: Prolog, chunk: int | None = None,
    on_control: Callable[[int, int], None] | None = None,
    on_repair: Callable[[int, int], None] | None = None,
) -> Iterator[bytes]:
    """The document for expat: the checked prolog, then the rest, control bytes removed.

    `on_control(count, newlines)` is called for each chunk that had any, with the number
    of line breaks in the chunk before the first one (the caller knows where it starts);
    `on_repair` likewise for repeated WorkoutStatistics attributes that were dropped.
    """
    data, carry, eof = prolog.data, b"", False
    while data or carry:
        if carry:  # a tag held back from the previous chunk goes first
            data, carry = carry + data, b""
        if any(byte in data for byte in _CONTROL_BYTES):
            clean = data.translate(None, _CONTROL)
            if on_control is not None:
                first = _CONTROL_AT.search(data).start()  # type: ignore[union-attr]
                on_control(len(data) - len(clean), data.count(b"\n", 0, first))
            data = clean
        # A workout tag cut by the chunk end waits for the rest, so it can be repaired.
        # (Searching the short tail, not the chunk: a scan of every chunk for "<W" would
        # cost more than all the other byte handling together.)
        cut = data.rfind(b">") + 1
        if not eof and len(data) - cut < _HOLD:
            tail = data[cut:]
            if b"<W" in tail or tail.endswith(b"<"):
                data, carry = data[:cut], tail
        if _STATISTICS in data:
            data = _repair(data, on_repair)
        if data:
            yield data
        if eof:
            break
        data = stream.read(chunk or CHUNK)
        eof = not data


def _repair(data: bytes, on_repair: Callable[[int, int], None] | None) -> bytes:
    """Drop the second copy of an attribute in WorkoutStatistics tags.

    iOS 16 is reported to write `startDate` twice there (DATA-SOURCES.md §1.7); expat
    stops the whole file at a repeated attribute. The copy's line breaks are kept, so
    line numbers do not move.
    """
    parts, done, dropped, first = [], 0, 0, -1
    at = data.find(_STATISTICS)
    while at >= 0:
        tag = _STATISTICS_TAG.match(data, at)
        if tag is not None:
            text, names, pieces, pos = tag.group(), set(), [], 0
            for found in _ATTRIBUTE.finditer(text):
                pieces.append(text[pos:found.start()])
                if found.group(1) in names:
                    dropped += 1
                    first = at if first < 0 else first
                    pieces.append(b" " + b"\n" * found.group().count(b"\n"))
                else:
                    names.add(found.group(1))
                    pieces.append(found.group())
                pos = found.end()
            if len(pieces) // 2 != len(names):
                parts += (data[done:at], *pieces, text[pos:])
                done = tag.end()
        at = data.find(_STATISTICS, at + 1)
    if not dropped:
        return data
    if on_repair is not None:
        on_repair(dropped, data.count(b"\n", 0, first))
    return b"".join([*parts, data[done:]])


def _refuse_external(*_args: object) -> int:
    raise UnsafeXML("the file refers to an external XML entity; refusing (XXE)")


def _refuse_entity(*_args: object) -> None:
    raise UnsafeXML("the file declares XML entities; refusing (billion laughs)")


def _refuse_doctype(*_args: object) -> None:
    raise UnsafeXML("the file has a second DOCTYPE; refusing")


def new_parser() -> expat.XMLParserType:
    """An expat parser that can never expand declared entities or fetch anything.

    The DTD is already gone when expat sees the bytes; these settings are the second line
    of defence should one slip through.
    """
    # Pre-interned names: expat then hands out the very string objects the handlers
    # compare and look up with, so those hits are identity checks.
    parser = expat.ParserCreate(intern={name: sys.intern(name) for name in _NAMES})
    parser.buffer_text = True
    parser.ordered_attributes = False
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.ExternalEntityRefHandler = _refuse_external
    parser.EntityDeclHandler = _refuse_entity
    parser.StartDoctypeDeclHandler = _refuse_doctype
    return parser
