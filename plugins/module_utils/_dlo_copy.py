# Copyright: cloudimages.transfer contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# PRIVATE: this module_utils file is internal to cloudimages.transfer; it may change or go
# away in any release. Do not import it from outside this collection.
"""swift_dlo_copy: a large object (DLO or SLO) in one object store to one in another, by segments.

No local disk: each segment is one streamed GET piped into one PUT whose ETag header is the
source listing's (or SLO manifest's) MD5. The target hashes exactly the bytes it stores and refuses a mismatch
(422), so bytes damaged on the way, or a source that serves other bytes than its listing
promises, never land; each byte is hashed once, by the server that keeps it. The source is
taken as Swift serves it: for a DLO every object under its prefix in listing order, whatever
their sizes or names, for an SLO its manifest's entries (nested SLOs, byte ranges, inline
data); what looks wrong for a disk image is reported as warnings (refused with
``layout: strict``). The target's segments keep the sizes and order and are numbered in the
collection's own naming under the target prefix; the target's manifest is of the source's
kind unless ``manifest`` says otherwise.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from ansible_collections.cloudimages.transfer.plugins.module_utils._dlo import (
    default_prefix,
    segment_name,
    unquote_etag,
)
from ansible_collections.cloudimages.transfer.plugins.module_utils._dlo_write import apply_write, expiry_headers, plan_write
from ansible_collections.cloudimages.transfer.plugins.module_utils._large_object import piece_steps, read_verified_source
from ansible_collections.cloudimages.transfer.plugins.module_utils._options import from_params
from ansible_collections.cloudimages.transfer.plugins.module_utils._transfer import (
    Progress,
    SegmentMismatch,
    StreamBody,
    response_chunks,
    with_retries,
)


@dataclass(frozen=True)
class Options:
    """What swift_dlo_copy was asked to do, unpacked once from the module's parameters (the
    target's names from its ``target`` dictionary; its connection is the caller's business)."""

    container: str
    object: str
    target_container: str | None = None
    target_object: str | None = None
    target_segment_container: str | None = None
    target_segment_prefix: str | None = None
    manifest: str = "keep"
    layout: str = "any"
    expire_after: int | None = None
    create_container: bool = True
    allow_public_container: bool = False
    stale_segments: str = "delete"
    concurrency: int = 4
    progress_file: str | None = None

    @classmethod
    def from_params(cls, params: dict) -> Options:
        target = params.get("target") or {}
        flat = {**params, **{f"target_{key}": target.get(key)
                             for key in ("container", "object", "segment_container", "segment_prefix")}}
        return from_params(cls, flat)


def run(opts: Options, source, target, check_mode: bool) -> dict:
    dlo, warnings = read_verified_source(source, opts.container, opts.object, opts.layout)
    container = opts.target_container or dlo.container
    name = opts.target_object or dlo.name
    seg_container = opts.target_segment_container or container
    prefix = opts.target_segment_prefix or default_prefix(name)
    kind = dlo.kind if opts.manifest == "keep" else opts.manifest
    steps, sources = [], {}
    for step, piece in piece_steps(dlo):
        step.name = segment_name(prefix, step.number)
        steps.append(step)
        sources[step.name] = piece
    expiry = expiry_headers(opts.expire_after)
    plan = plan_write(target, container, name, seg_container, prefix, steps, {**dlo.headers, **expiry},
                      opts.create_container, opts.stale_segments, kind=kind,
                      allow_public=opts.allow_public_container)
    label = f"{source.region}:{dlo.container}/{dlo.name} -> {target.region}:{container}/{name}"
    result = {"changed": plan.changed, "source": f"{dlo.container}/{dlo.name}", "source_region": source.region,
              "source_kind": dlo.kind, "kind": kind, "object": f"{container}/{name}", "region": target.region,
              "manifest": plan.after()["manifest"], "size": dlo.size, "etag": dlo.etag, "plan": plan.summary(),
              "diff": {"before": plan.before or {}, "after": {**plan.after(), "etag": dlo.etag}}}
    if warnings:
        result["warnings"] = warnings
    if not plan.changed:
        result["msg"] = f"{label}: the target already holds every segment (size and MD5 match); nothing to do"
    elif check_mode:
        result["msg"] = f"{label}: would copy {len(plan.to_transfer)} of {len(steps)} segments"
    else:
        progress = Progress(opts.progress_file, "copy", f"{source.region}:{dlo.container}/{dlo.name}",
                            f"{target.region}:{container}/{name}", steps)
        apply_write(target, plan, lambda step: copy_segment(source, target, sources[step.name], seg_container, step,
                                                            progress, expiry),
                    opts.concurrency, progress)
        result["etag"] = plan.etag if kind == "dlo" else target.head_object(container, name).get("etag", "").strip('"')
        result["msg"] = f"{label}: copied {len(plan.to_transfer)} of {len(steps)} segments, verified by MD5"
    result["bytes_copied"] = 0 if check_mode else sum(s.size for s in plan.to_transfer)
    result["segments"] = [s.as_dict() for s in steps]
    return result


def copy_segment(source, target, piece, dst_container: str, step, progress, headers: dict | None = None) -> None:
    """One piece of the source (a segment, a byte range of one, or inline data) into one target
    segment, streamed. Where its MD5 is known it goes with the PUT and the target refuses other
    bytes; for a byte range it is computed on the way and compared with what the target stored."""
    what = f"copy segment {piece.name} ({source.region}) to {step.name} ({target.region})"

    def attempt():
        progress.segment(step.name, "transferring")
        if piece.data is not None:
            chunks, resp = iter([piece.data]), None
        else:
            resp = source.get_object(piece.container, piece.name, headers=piece.range_header)
            chunks = response_chunks(resp)
        digest = hashlib.md5(usedforsecurity=False)  # only where the MD5 is not known: otherwise the target checks it
        body = StreamBody(hashed(chunks, digest) if step.md5 is None else chunks, piece.size, progress)
        try:
            length = int(resp.headers.get("Content-Length", -1)) if resp is not None else piece.size
            if length != piece.size:
                raise SegmentMismatch(f"source segment {piece.name} is {length} bytes; its manifest says {piece.size}")
            if resp is not None and piece.byte_range and unquote_etag(resp.headers.get("Etag")) != piece.etag:
                raise SegmentMismatch(f"source segment {piece.name} has changed since its manifest was written")
            put = target.put_object(dst_container, step.name, body, length=piece.size, etag=step.md5, retry=False,
                                    headers={"Content-Type": "application/octet-stream", **(headers or {})}, what=what)
        except BaseException:
            progress.add(-body.sent)
            raise
        finally:
            if resp is not None:
                resp.close()
        got = unquote_etag(put.headers.get("Etag"))
        if got != (step.md5 or digest.hexdigest()):
            raise SegmentMismatch(f"target stored {step.name} with ETag {got}, expected {step.md5 or digest.hexdigest()}")
        step.md5 = got
        progress.segment(step.name, "verified")

    with_retries(step, attempt, target.http.policy, what, progress)


def hashed(chunks, digest):
    for chunk in chunks:
        digest.update(chunk)
        yield chunk
