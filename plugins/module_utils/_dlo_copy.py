# Copyright: cloudimages.transfer contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# PRIVATE: this module_utils file is internal to cloudimages.transfer; it may change or go
# away in any release. Do not import it from outside this collection.
"""swift_dlo_copy: a DLO in one object store to a DLO in another, segment by segment.

No local disk: each segment is one streamed GET piped into one PUT whose ETag header is the
source listing's MD5. The target hashes exactly the bytes it stores and refuses a mismatch
(422), so bytes damaged on the way, or a source that serves other bytes than its listing
promises, never land; each byte is hashed once, by the server that keeps it. The source is
taken as Swift serves it: every object under its prefix in listing order, whatever their
sizes or names; what looks wrong for a disk image is reported as warnings (refused with
``layout: strict``). The target's segments keep the sizes and order and are numbered in the
collection's own naming under the target prefix.
"""

from __future__ import annotations

from ansible_collections.cloudimages.transfer.plugins.module_utils._dlo import (
    SegmentStep,
    default_prefix,
    read_verified_source,
    segment_name,
)
from ansible_collections.cloudimages.transfer.plugins.module_utils._dlo_write import apply_write, plan_write
from ansible_collections.cloudimages.transfer.plugins.module_utils._transfer import (
    Progress,
    SegmentMismatch,
    StreamBody,
    response_chunks,
    with_retries,
)


def run(params: dict, source, target, check_mode: bool) -> dict:
    dlo, warnings = read_verified_source(source, params["container"], params["object"], params.get("layout") or "any")
    dest = params.get("target") or {}
    container = dest.get("container") or dlo.container
    name = dest.get("object") or dlo.name
    seg_container = dest.get("segment_container") or container
    prefix = dest.get("segment_prefix") or default_prefix(name)
    steps, offset = [], 0
    for number, seg in enumerate(dlo.segments, 1):
        steps.append(SegmentStep(number, segment_name(prefix, number), seg.size, offset, md5=seg.etag))
        offset += seg.size
    sources = {step.name: seg for step, seg in zip(steps, dlo.segments)}
    headers = dict(dlo.headers)
    plan = plan_write(target, container, name, seg_container, prefix, steps, headers,
                      params["create_container"], params["stale_segments"])
    label = f"{source.region}:{dlo.container}/{dlo.name} -> {target.region}:{container}/{name}"
    result = {"changed": plan.changed, "source": f"{dlo.container}/{dlo.name}", "source_region": source.region,
              "object": f"{container}/{name}", "region": target.region, "manifest": plan.after()["manifest"],
              "size": dlo.size, "etag": dlo.etag, "plan": plan.summary(),
              "diff": {"before": plan.before or {}, "after": {**plan.after(), "etag": dlo.etag}}}
    if warnings:
        result["warnings"] = warnings
    if not plan.changed:
        result["msg"] = f"{label}: the target already holds every segment (size and MD5 match); nothing to do"
    elif check_mode:
        result["msg"] = f"{label}: would copy {len(plan.to_transfer)} of {len(steps)} segments"
    else:
        progress = Progress(params.get("progress_file"), "copy", f"{source.region}:{dlo.container}/{dlo.name}",
                            f"{target.region}:{container}/{name}", steps)
        apply_write(target, plan, lambda step: copy_segment(source, target, dlo.segment_container, sources[step.name],
                                                            seg_container, step, progress),
                    params["concurrency"], progress)
        result["msg"] = f"{label}: copied {len(plan.to_transfer)} of {len(steps)} segments, verified by MD5"
    result["bytes_copied"] = 0 if check_mode else sum(s.size for s in plan.to_transfer)
    result["segments"] = [s.as_dict() for s in steps]
    return result


def copy_segment(source, target, src_container: str, seg, dst_container: str, step, progress) -> None:
    what = f"copy segment {seg.name} ({source.region}) to {step.name} ({target.region})"

    def attempt():
        progress.segment(step.name, "transferring")
        resp = source.get_object(src_container, seg.name)
        body = StreamBody(response_chunks(resp), seg.size, progress)
        try:
            length = int(resp.headers.get("Content-Length", -1))
            if length != seg.size:
                raise SegmentMismatch(f"source segment {seg.name} is {length} bytes; its listing says {seg.size}")
            put = target.put_object(dst_container, step.name, body, length=seg.size, etag=seg.etag, retry=False,
                                    headers={"Content-Type": "application/octet-stream"}, what=what)
        except BaseException:
            progress.add(-body.sent)
            raise
        finally:
            resp.close()
        got = put.headers.get("Etag", "").strip('"')
        if got != seg.etag:
            raise SegmentMismatch(f"target stored {step.name} with ETag {got}, expected {seg.etag}")
        progress.segment(step.name, "verified")

    with_retries(step, attempt, target.http.policy, what, progress)
