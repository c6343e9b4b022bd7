# Copyright: cloudimages.transfer contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# PRIVATE: this module_utils file is internal to cloudimages.transfer; it may change or go
# away in any release. Do not import it from outside this collection.
"""Static Large Objects: reading a manifest into pieces, and the manifest a write ends with.

An SLO is a manifest whose JSON body lists its segments one by one (``GET
?multipart-manifest=get``: ``name`` ``/container/object``, ``hash``, ``bytes``, and
optionally ``range`` or ``sub_slo``; or an inline ``data`` entry). Segments may live in any
container, may be other SLOs, and may contribute only a byte range. Swift's HEAD gives the
total Content-Length and an ETag that is the MD5 of the entries' ETags (``etag:range;`` for
a ranged entry, the MD5 of the data for inline data). Unlike a DLO it does not depend on a
container listing, and Swift checks every segment's size and ETag when the manifest is PUT.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json

from ansible_collections.cloudimages.transfer.plugins.module_utils._dlo import (
    Dlo,
    Segment,
    kept_headers,
    unquote_etag,
)
from ansible_collections.cloudimages.transfer.plugins.module_utils._errors import TransferError

MAX_NESTING = 10  # Swift's own limit on SLO recursion depth
DEFAULT_MAX_MANIFEST_SEGMENTS = 1000


def is_slo(headers: dict) -> bool:
    return str(headers.get("x-static-large-object", "")).lower() in ("true", "1", "yes", "on")


def parse_range(spec: str, size: int) -> tuple[int, int]:
    """A manifest entry's ``range`` (``a-b``, ``a-``, ``-n``) as inclusive (first, last) in an object of size."""
    try:
        first, last = spec.split("-", 1)
        if not first:
            start, end = max(size - int(last), 0), size - 1
        else:
            start, end = int(first), min(int(last), size - 1) if last else size - 1
    except ValueError:
        raise TransferError(f"SLO segment range {spec!r} is not a byte range") from None
    if start > end or start < 0:
        raise TransferError(f"SLO segment range {spec!r} selects nothing of a {size}-byte object")
    return start, end


def entry_etag(entry: dict) -> str:
    """What an entry contributes to the SLO's ETag."""
    if "data" in entry:
        return hashlib.md5(decode_data(entry), usedforsecurity=False).hexdigest()
    etag = unquote_etag(entry.get("hash"))
    return f"{etag}:{entry['range']};" if entry.get("range") else etag


def slo_etag(entries: list) -> str:
    return hashlib.md5("".join(entry_etag(e) for e in entries).encode(), usedforsecurity=False).hexdigest()


def decode_data(entry: dict) -> bytes:
    try:
        return base64.b64decode(entry["data"], validate=True)
    except (binascii.Error, ValueError, TypeError):
        raise TransferError("an SLO inline data segment is not valid base64") from None


def split_path(path: str) -> tuple[str, str]:
    """``/container/object`` (as the manifest has it, not percent-encoded) into its parts."""
    container, name = path.lstrip("/").split("/", 1) if "/" in path.lstrip("/") else (path, "")
    if not container or not name:
        raise TransferError(f"SLO segment path {path!r} does not name a container and an object")
    return container, name


def cut(pieces: list, first: int, last: int) -> list:
    """The pieces that make bytes first..last (inclusive) of their concatenation, trimmed."""
    kept, offset = [], 0
    for piece in pieces:
        start, end = offset, offset + piece.size - 1
        offset += piece.size
        if end < first or start > last:
            continue
        lo, hi = max(first, start) - start, min(last, end) - start
        if lo == 0 and hi == piece.size - 1:
            kept.append(piece)
        elif piece.data is not None:
            kept.append(Segment(piece.name, hi - lo + 1, piece.etag, data=piece.data[lo:hi + 1]))
        else:
            base = piece.byte_range[0] if piece.byte_range else 0
            kept.append(Segment(piece.name, hi - lo + 1, piece.etag, piece.container, (base + lo, base + hi)))
    return kept


def pieces_of(swift, entries: list, depth: int = 0) -> list:
    """The manifest's entries as the pieces Swift serves, in order, nested SLOs flattened."""
    if depth > MAX_NESTING:
        raise TransferError(f"SLO manifests nest more than {MAX_NESTING} deep")
    pieces = []
    for number, entry in enumerate(entries, 1):
        if "data" in entry:
            data = decode_data(entry)
            pieces.append(Segment(f"(inline data {number})", len(data), hashlib.md5(data, usedforsecurity=False).hexdigest(), data=data))
            continue
        container, name = split_path(entry["name"])
        size, etag = int(entry["bytes"]), unquote_etag(entry.get("hash"))
        if entry.get("sub_slo"):
            inner = pieces_of(swift, swift.get_slo_manifest(container, name), depth + 1)
        else:
            inner = [Segment(name, size, etag, container)]
        if entry.get("range"):
            first, last = parse_range(entry["range"], size)
            inner = cut(inner, first, last)
        pieces.extend(inner)
    return pieces


def slo_from_headers(swift, container: str, name: str, headers: dict) -> Dlo:
    entries = swift.get_slo_manifest(container, name)
    return Dlo(container, name, "", "", pieces_of(swift, entries), kept_headers(headers),
               head_size=int(headers.get("content-length", 0)), head_etag=unquote_etag(headers.get("etag")),
               summed_by_swift=True, kind="slo", slo_etag=slo_etag(entries), delete_at=headers.get("x-delete-at"))


# ---------------------------------------------------------------- writing

def manifest_entries(segment_container: str, steps: list) -> list:
    """The entries of the SLO that the written segments make, as a manifest GET lists them."""
    return [{"name": f"/{segment_container}/{step.name}", "hash": step.md5, "bytes": step.size} for step in steps]


def put_body(entries: list) -> bytes:
    return json.dumps([{"path": e["name"], "etag": e["hash"], "size_bytes": e["bytes"]} for e in entries]).encode()


def same_entries(held: list, wanted: list) -> bool:
    return [(e.get("name"), unquote_etag(e.get("hash")), int(e.get("bytes", -1)), e.get("range")) for e in held] == \
        [(e["name"], e["hash"], e["bytes"], None) for e in wanted]


def max_manifest_segments(swift) -> int:
    try:
        return int((swift.info_of("slo") or {}).get("max_manifest_segments") or DEFAULT_MAX_MANIFEST_SEGMENTS)
    except (TypeError, ValueError):
        return DEFAULT_MAX_MANIFEST_SEGMENTS
