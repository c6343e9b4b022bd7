# Copyright: cloudimages.transfer contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# PRIVATE: this module_utils file is internal to cloudimages.transfer; it may change or go
# away in any release. Do not import it from outside this collection.
"""The Dynamic Large Object model: manifests, segments, their checks, and segment plans.

A DLO is a zero-byte manifest object whose ``X-Object-Manifest: <container>/<prefix>`` makes
a GET return, in listing order, every object under that prefix. Its HEAD shows the total
Content-Length and an ETag that is the MD5 of the segments' ETags concatenated (not of the
content). Everything here but read_dlo() is pure: plans are data the modules act on, show
in check mode and diff, and derive ``changed`` from.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import asdict, dataclass, field

from ansible_collections.cloudimages.transfer.plugins.module_utils._errors import TransferError

SEGMENT_DIGITS = 5
MAX_SEGMENTS = 10 ** SEGMENT_DIGITS - 1


@dataclass(frozen=True)
class Segment:
    name: str
    size: int
    etag: str  # the segment object's MD5, lower-case hex


@dataclass
class Dlo:
    container: str
    name: str
    segment_container: str
    prefix: str
    size: int
    etag: str
    segments: list = field(default_factory=list)
    headers: dict = field(default_factory=dict)  # the manifest's Content-Type and X-Object-Meta-*

    @property
    def manifest(self) -> str:
        return f"{self.segment_container}/{self.prefix}"


def segment_name(prefix: str, number: int) -> str:
    return f"{prefix}{number:0{SEGMENT_DIGITS}d}"


def default_prefix(name: str) -> str:
    """The seeds' naming: segments of ``disk.vhd`` are ``disk.vhd-00001``, ``-00002``, ..."""
    return f"{name}-"


def etag_of_etags(etags) -> str:
    return hashlib.md5("".join(etags).encode("ascii")).hexdigest()


def unquote_etag(value: str | None) -> str:
    return (value or "").strip().strip('"').lower()


def split_manifest(value: str) -> tuple[str, str]:
    container, prefix = value.split("/", 1) if "/" in value else (value, "")
    if not container:
        raise TransferError(f"X-Object-Manifest {value!r} does not name a container")
    return container, prefix


def layout_problems(segments: list) -> list[str]:
    """What is wrong with the segments' layout: equal sizes except a shorter last one, no gaps."""
    problems = []
    if not segments:
        return problems
    first = segments[0].size
    for seg in segments[1:-1]:
        if seg.size != first:
            problems.append(f"segment {seg.name} is {seg.size} bytes where the others are {first}")
    if len(segments) > 1 and not 0 < segments[-1].size <= first:
        problems.append(f"last segment {segments[-1].name} is {segments[-1].size} bytes (expected 1 to {first})")
    numbers = [re.search(r"(\d+)$", seg.name) for seg in segments]
    if all(numbers):
        values = [int(m.group(1)) for m in numbers]
        expected = list(range(values[0], values[0] + len(values)))
        if values != expected:
            missing = sorted(set(expected) - set(values))
            problems.append("segment numbers have a gap" + (f" (missing {missing[:5]})" if missing else ""))
    return problems


def dlo_problems(dlo: Dlo) -> list[str]:
    """Everything that makes this DLO's listing disagree with its manifest."""
    problems = layout_problems(dlo.segments)
    total = sum(seg.size for seg in dlo.segments)
    if total != dlo.size:
        problems.append(f"segments add up to {total} bytes but the manifest says {dlo.size}")
    if dlo.segments and etag_of_etags(seg.etag for seg in dlo.segments) != dlo.etag:
        problems.append("the manifest ETag is not the MD5 of the segment ETags")
    if not dlo.segments:  # a valid empty object to Swift, but never a disk image
        problems.append(f"the manifest points at {dlo.manifest} where there are no segments")
    return problems


def segments_from_listing(listing: list) -> list:
    return [Segment(o["name"], int(o["bytes"]), o["hash"].lower()) for o in listing]


def read_dlo(swift, container: str, name: str) -> Dlo | None:
    """The DLO at container/name with its segments (every listing page), or None if absent."""
    headers = swift.head_object(container, name)
    if headers is None:
        return None
    manifest = headers.get("x-object-manifest")
    if not manifest:
        raise TransferError(f"{swift.where(container, name)} is not a Dynamic Large Object (no X-Object-Manifest)",
                            not_dlo=True)
    seg_container, prefix = split_manifest(manifest)
    listing = swift.list_objects(seg_container, prefix)
    kept = {k: v for k, v in headers.items() if k.startswith("x-object-meta-") or k == "content-type"}
    return Dlo(container, name, seg_container, prefix, int(headers.get("content-length", 0)),
               unquote_etag(headers.get("etag")), segments_from_listing(listing), kept)


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


def stale_segments(existing: dict, wanted: list) -> list:
    """Target segments under the prefix that the new layout does not have (a DLO would serve them)."""
    names = {step.name for step in wanted}
    return sorted(name for name in existing if name not in names)


def summarize(steps: list) -> dict:
    transfer = [s for s in steps if s.action != "keep"]
    return {"segments": len(steps), "to_transfer": len(transfer), "to_keep": len(steps) - len(transfer),
            "bytes_to_transfer": sum(s.size for s in transfer)}
