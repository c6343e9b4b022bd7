# Copyright: cloudimages.transfer contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# PRIVATE: this module_utils file is internal to cloudimages.transfer; it may change or go
# away in any release. Do not import it from outside this collection.
"""The Dynamic Large Object model: manifests, segments, their checks, and segment plans.

A DLO is a manifest object whose ``X-Object-Manifest`` names ``<container>/<prefix>``,
percent-encoded as UTF-8; Swift decodes it and a GET returns, in listing order, every object
in that container whose name starts with the prefix, whatever their sizes. Swift's HEAD
shows the summed Content-Length and the ETag-of-ETags (the MD5 of the segments' ETags
concatenated) only while the listing fits in one page (fewer segments than the cluster's
``container_listing_limit``); past that it shows the manifest's own headers. So the truth
of a DLO is its complete, paginated listing, and the HEAD's totals are a cross-check only
where Swift computed them.

Segments this collection writes are named ``<prefix>NNNNN`` (five digits). Only such names
are ever deleted as stale: other objects under the prefix belong to someone else, even
though Swift would serve them as part of the DLO. Everything here but read_dlo() and
choose_segment_size() is pure: plans are data the modules act on, show in check mode and
diff, and derive ``changed`` from.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import asdict, dataclass, field
from urllib.parse import quote, unquote

from ansible_collections.cloudimages.transfer.plugins.module_utils._errors import TransferError
from ansible_collections.cloudimages.transfer.plugins.module_utils._sizes import parse_size

SEGMENT_DIGITS = 5
MAX_SEGMENTS = 10 ** SEGMENT_DIGITS - 1
SWIFT_MAX_SEGMENT = 5 * 1024 ** 3  # Swift's default max_file_size is 5 GiB + 2 bytes
DEFAULT_LISTING_LIMIT = 10000  # Swift's default container_listing_limit
DEFAULT_SEGMENT_SIZE = 1024 ** 3
EMPTY_MD5 = hashlib.md5(b"", usedforsecurity=False).hexdigest()


@dataclass(frozen=True)
class Segment:
    """One piece of a large object: an object (or, in an SLO, a byte range of one, or inline data)."""

    name: str
    size: int  # the bytes this piece contributes
    etag: str  # the segment object's MD5, lower-case hex (of the whole object, even for a range)
    container: str = ""
    byte_range: tuple | None = None  # (first, last) inclusive, within the segment object
    data: bytes | None = None  # an SLO's inline data segment

    @property
    def range_header(self) -> dict | None:
        """The request headers that fetch just this piece of its segment object."""
        return {"Range": f"bytes={self.byte_range[0]}-{self.byte_range[1]}"} if self.byte_range else None

    @property
    def md5(self) -> str | None:
        """The MD5 of the bytes this piece contributes, where it is known before reading them."""
        if self.data is not None:
            return hashlib.md5(self.data, usedforsecurity=False).hexdigest()
        return None if self.byte_range is not None else self.etag


@dataclass
class Dlo:
    """A large object as Swift serves it, with what Swift's HEAD said beside it.

    For a DLO (``kind`` dlo) the pieces are its complete listing under segment_container and
    prefix; for an SLO (``kind`` slo, see _slo) the manifest's entries, nested SLOs flattened.
    """

    container: str
    name: str
    segment_container: str
    prefix: str
    segments: list = field(default_factory=list)
    headers: dict = field(default_factory=dict)  # the manifest's Content-Type and X-Object-Meta-*
    head_size: int | None = None
    head_etag: str | None = None
    summed_by_swift: bool = True  # the HEAD's totals are Swift's sums (the listing fit in one page)
    kind: str = "dlo"
    delete_at: str | None = None  # the manifest's X-Delete-At, which a POST of its metadata must repeat
    slo_etag: str | None = None  # an SLO's ETag, computed from its manifest's own entries

    @property
    def size(self) -> int:
        return sum(seg.size for seg in self.segments)

    @property
    def etag(self) -> str:
        return self.slo_etag if self.kind == "slo" else etag_of_etags(seg.etag for seg in self.segments)

    @property
    def manifest(self) -> str | None:
        return manifest_value(self.segment_container, self.prefix) if self.kind == "dlo" else None


def segment_name(prefix: str, number: int) -> str:
    return f"{prefix}{number:0{SEGMENT_DIGITS}d}"


def default_prefix(name: str) -> str:
    """The seeds' naming: segments of ``disk.vhd`` are ``disk.vhd-00001``, ``-00002``, ..."""
    return f"{name}-"


def own_segment(prefix: str, name: str) -> bool:
    """Whether ``name`` is one this collection writes as a segment under ``prefix``."""
    return name.startswith(prefix) and re.fullmatch(r"\d{%d}" % SEGMENT_DIGITS, name[len(prefix):]) is not None


def deletable_segments(prefix: str, listing: list, any_width: bool = False) -> tuple[list, list]:
    """Split a listing under ``prefix`` into (segments this collection may delete, the others).

    Deletable: the collection's own numbering, or with ``any_width`` any all-digit name in a
    folder of the object's own (as the swift CLI and rclone lay out segments). Never an empty object: no segment written here is empty, but a
    neighbour's DLO manifest is.
    """
    mine, others = [], []
    for entry in listing:
        rest = entry["name"][len(prefix):] if entry["name"].startswith(prefix) else None
        numbered = rest is not None and (own_segment(prefix, entry["name"]) or (any_width and folder_number(prefix, rest)))
        (mine if numbered and int(entry.get("bytes", 0)) > 0 else others).append(entry["name"])
    return mine, others


def folder_number(prefix: str, rest: str) -> bool:
    """Whether ``rest`` is a number in a folder of the object's own: ``<prefix>/00000003`` or,
    for a prefix ending in ``/``, ``<prefix>00000003`` (the swift CLI's and rclone's layouts)."""
    if not prefix.endswith("/"):
        if not rest.startswith("/"):
            return False
        rest = rest[1:]
    return re.fullmatch(r"[0-9]+", rest) is not None


def etag_of_etags(etags) -> str:
    return hashlib.md5("".join(etags).encode("ascii"), usedforsecurity=False).hexdigest()


def unquote_etag(value: str | None) -> str:
    return (value or "").strip().strip('"').lower()


def split_manifest(value: str) -> tuple[str, str]:
    """``X-Object-Manifest`` as Swift reads it: percent-decoded (UTF-8), then container/prefix."""
    try:
        decoded = unquote(value, encoding="utf-8", errors="strict")
    except UnicodeDecodeError:
        raise TransferError(f"X-Object-Manifest {value!r} is not percent-encoded UTF-8") from None
    container, prefix = decoded.split("/", 1) if "/" in decoded else (decoded, "")
    if not container:
        raise TransferError(f"X-Object-Manifest {value!r} does not name a container")
    return container, prefix


def manifest_value(container: str, prefix: str) -> str:
    """The ``X-Object-Manifest`` value that Swift decodes back to container and prefix.

    Swift refuses a raw value with ``?`` or ``&`` or a prefix starting with ``/``: those are
    sent encoded, and so is every byte outside the unreserved set.
    """
    encoded = quote(prefix, safe="/")
    if encoded.startswith("/"):
        encoded = "%2F" + encoded[1:]
    return f"{quote(container, safe='')}/{encoded}"


def layout_warnings(prefix: str | None, segments: list) -> list[str]:
    """What looks wrong for a disk image, though Swift serves it: unequal middle segments, a
    last segment larger than the others, and for a DLO (``prefix`` given) names outside a
    numbered series or gaps in it (an SLO names its segments one by one)."""
    warnings = []
    if not segments:
        return warnings
    first = segments[0].size
    for seg in segments[1:-1]:
        if seg.size != first:
            warnings.append(f"segment {seg.name} is {seg.size} bytes where the first is {first}")
    if len(segments) > 1 and not 0 < segments[-1].size <= first:
        warnings.append(f"last segment {segments[-1].name} is {segments[-1].size} bytes (expected 1 to {first})")
    if prefix is None:
        return warnings
    suffixes = [seg.name[len(prefix):] for seg in segments]
    outside = [seg.name for seg, rest in zip(segments, suffixes) if not re.fullmatch(r"\d+", rest)]
    if outside:
        warnings.append(f"{len(outside)} segment names are outside the numbered series (first: {outside[0]})")
    else:
        values = [int(rest) for rest in suffixes]
        expected = list(range(values[0], values[0] + len(values)))
        if values != expected:
            missing = sorted(set(expected) - set(values))
            warnings.append("segment numbers have a gap" + (f" (missing {missing[:5]})" if missing else ""))
    return warnings


def dlo_problems(dlo: Dlo) -> list[str]:
    """What makes this large object unusable: no segments, or a HEAD whose sums disagree with
    the listing (or, for an SLO, with its manifest)."""
    problems = []
    if not dlo.segments:  # a valid empty object to Swift, but never a disk image
        where = f"{dlo.segment_container}/{dlo.prefix}" if dlo.kind == "dlo" else "a manifest with no entries"
        problems.append(f"the manifest points at {where} where there are no segments")
    elif dlo.summed_by_swift:
        if dlo.head_size is not None and dlo.head_size != dlo.size:
            problems.append(f"segments add up to {dlo.size} bytes but the manifest says {dlo.head_size}")
        if dlo.head_etag is not None and dlo.head_etag != dlo.etag:
            problems.append("the manifest ETag is not the MD5 of the segment ETags")
    return problems


def segments_from_listing(listing: list, container: str = "") -> list:
    return [Segment(o["name"], int(o["bytes"]), unquote_etag(o["hash"]), container) for o in listing]


def listing_limit(swift) -> int:
    """The cluster's container_listing_limit: a DLO with this many segments is not summed by HEAD."""
    try:
        return int(swift.info().get("container_listing_limit") or DEFAULT_LISTING_LIMIT)
    except (TypeError, ValueError):
        return DEFAULT_LISTING_LIMIT


def read_dlo(swift, container: str, name: str) -> Dlo | None:
    """The DLO at container/name with its segments (every listing page), or None if absent."""
    headers = swift.head_object(container, name)
    if headers is None:
        return None
    manifest = headers.get("x-object-manifest")
    if not manifest:
        raise TransferError(f"{swift.where(container, name)} is not a Dynamic Large Object (no X-Object-Manifest)",
                            not_dlo=True)
    return dlo_from_headers(swift, container, name, headers)


def kept_headers(headers: dict) -> dict:
    """What a copy carries over from a manifest: its Content-Type and X-Object-Meta-*."""
    return {k: v for k, v in headers.items() if k.startswith("x-object-meta-") or k == "content-type"}


def dlo_from_headers(swift, container: str, name: str, headers: dict) -> Dlo:
    seg_container, prefix = split_manifest(headers["x-object-manifest"])
    segments = segments_from_listing(swift.list_objects(seg_container, prefix), seg_container)
    return Dlo(container, name, seg_container, prefix, segments, kept_headers(headers),
               head_size=int(headers.get("content-length", 0)), head_etag=unquote_etag(headers.get("etag")),
               summed_by_swift=len(segments) < listing_limit(swift), delete_at=headers.get("x-delete-at"))


def choose_segment_size(swift, requested: int | None, total: int, most_segments: int | None = None) -> int:
    """The segment size to cut ``total`` bytes into for this cluster.

    An explicit size must fit the cluster's max_file_size (from /info) and Swift's 5 GiB
    ceiling. Without one: 1 GiB or the cluster's max_file_size if smaller, grown (up to that
    maximum) so that the object stays under one listing page, where Swift's HEAD sums it (or
    under ``most_segments``, an SLO manifest's limit).
    """
    largest = min(int(swift.info().get("max_file_size") or SWIFT_MAX_SEGMENT), SWIFT_MAX_SEGMENT)
    if requested is not None:
        if requested <= 0:
            raise TransferError(f"segment_size must be positive, got {requested}")
        if requested > largest:
            raise TransferError(f"segment_size {requested} is larger than the largest object region "
                                f"{swift.region} accepts ({largest} bytes)")
        return requested
    size = min(DEFAULT_SEGMENT_SIZE, largest)
    wanted_segments = most_segments or listing_limit(swift) - 1
    if total > size * wanted_segments:
        size = min(largest, -(-total // wanted_segments))
    return size


def segment_size_for(swift, value, total: int, most_segments: int | None = None) -> int:
    """The segment size option (None or 'auto': chosen from the cluster's /info) in bytes."""
    requested = None if value in (None, "", "auto") else parse_size(value)
    return choose_segment_size(swift, requested, total, most_segments)


# ---------------------------------------------------------------- plans

@dataclass
class SegmentStep:
    """One segment of a plan: what is wanted there and what must happen."""

    number: int
    name: str
    size: int
    offset: int = 0
    md5: str | None = None  # known up front for copies and resumed uploads
    action: str = "transfer"  # transfer | keep
    reason: str = ""

    def as_dict(self) -> dict:
        return {k: v for k, v in asdict(self).items() if v is not None}


def chunk_layout(total: int, segment_size: int) -> list[tuple[int, int]]:
    """(offset, size) of each segment of a file; an empty file has no segments."""
    if segment_size <= 0:
        raise TransferError(f"segment_size must be positive, got {segment_size}")
    layout = [(offset, min(segment_size, total - offset)) for offset in range(0, total, segment_size)]
    if len(layout) > MAX_SEGMENTS:
        raise TransferError(f"{total} bytes in segments of {segment_size} would make {len(layout)} segments; "
                            f"at most {MAX_SEGMENTS} fit the naming: use a larger segment_size")
    return layout


def layout_steps(prefix: str, total: int, segment_size: int) -> list:
    """The SegmentSteps that cut ``total`` bytes into segments named ``<prefix>00001``, ..."""
    return [SegmentStep(n, segment_name(prefix, n), size, offset)
            for n, (offset, size) in enumerate(chunk_layout(total, segment_size), 1)]


def plan_segments(wanted: list, existing: dict) -> list:
    """Compare wanted SegmentSteps with the target's segments by name; mark what can be kept.

    A target segment is kept only when its size and MD5 equal what is wanted. Where the wanted
    MD5 is not known yet (an upload not hashed), only a size match is recorded, as 'hash'.
    """
    for step in wanted:
        have = existing.get(step.name)
        if have is None:
            step.action, step.reason = "transfer", "missing"
        elif have.size != step.size:
            step.action, step.reason = "transfer", f"size {have.size} differs from {step.size}"
        elif step.md5 is None:
            step.action, step.reason = "hash", "same size; compare MD5"
        elif have.etag == step.md5:
            step.action, step.reason = "keep", "same size and MD5"
        else:
            step.action, step.reason = "transfer", "MD5 differs"
    return wanted


def stale_segments(prefix: str, listing: list, wanted: list) -> tuple[list, list]:
    """Objects under the prefix that the new layout has no place for (a DLO would serve them):
    (the collection's own segments, to delete; anything else, never touched)."""
    names = {step.name for step in wanted}
    mine, others = deletable_segments(prefix, [o for o in listing if o["name"] not in names])
    return sorted(mine), sorted(others)


def summarize(steps: list) -> dict:
    transfer = [s for s in steps if s.action != "keep"]
    return {"segments": len(steps), "to_transfer": len(transfer), "to_keep": len(steps) - len(transfer),
            "bytes_to_transfer": sum(s.size for s in transfer)}
