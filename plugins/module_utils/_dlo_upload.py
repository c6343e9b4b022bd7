# Copyright: cloudimages.transfer contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# PRIVATE: this module_utils file is internal to cloudimages.transfer; it may change or go
# away in any release. Do not import it from outside this collection.
"""swift_dlo_upload: a local file to a DLO, resumable; and state=absent for a DLO."""

from __future__ import annotations

import os
import re

from ansible_collections.cloudimages.transfer.plugins.module_utils._dlo import (
    default_prefix,
    layout_steps,
    split_manifest,
)
from ansible_collections.cloudimages.transfer.plugins.module_utils._dlo_write import apply_write, plan_write
from ansible_collections.cloudimages.transfer.plugins.module_utils._errors import TransferError
from ansible_collections.cloudimages.transfer.plugins.module_utils._swift import SWIFT_MAX_SEGMENT
from ansible_collections.cloudimages.transfer.plugins.module_utils._transfer import (
    Progress,
    SegmentMismatch,
    StreamBody,
    drop_cached,
    file_chunks,
    md5_of_file_range,
    recorded_segment_md5s,
    run_parallel,
    with_retries,
)

UNITS = {"": 1, "b": 1, "k": 1024, "kb": 1024, "kib": 1024, "m": 1024 ** 2, "mb": 1024 ** 2, "mib": 1024 ** 2,
         "g": 1024 ** 3, "gb": 1024 ** 3, "gib": 1024 ** 3, "t": 1024 ** 4, "tb": 1024 ** 4, "tib": 1024 ** 4}


def parse_size(value, option: str = "segment_size") -> int:
    """Bytes from an int or a string such as '128MiB' or '1G' (binary multiples)."""
    match = re.fullmatch(r"\s*(\d+)\s*([a-zA-Z]*)\s*", str(value))
    if not match or match.group(2).lower() not in UNITS:
        raise TransferError(f"{option} must be a whole number of bytes or a size such as 128MiB or 1GiB, "
                            f"got {value!r}")
    return int(match.group(1)) * UNITS[match.group(2).lower()]


def check_segment_size(swift, segment_size: int) -> None:
    limit = int(swift.info().get("max_file_size") or SWIFT_MAX_SEGMENT)
    if segment_size <= 0:
        raise TransferError(f"segment_size must be positive, got {segment_size}")
    if segment_size > min(limit, SWIFT_MAX_SEGMENT):
        raise TransferError(f"segment_size {segment_size} is larger than the largest object region "
                            f"{swift.region} accepts ({min(limit, SWIFT_MAX_SEGMENT)} bytes)")


def manifest_headers(params: dict) -> dict:
    headers = dict(params.get("headers") or {})
    for key, value in (params.get("metadata") or {}).items():
        headers[f"X-Object-Meta-{key}"] = str(value)
    return headers


def run(params: dict, swift, check_mode: bool) -> dict:
    if params["state"] == "absent":
        return delete(params, swift, check_mode)
    container, name = params["container"], params["object"]
    src = params["src"]
    if not src:
        raise TransferError("src is required with state=present")
    if not os.path.isfile(src) or not os.access(src, os.R_OK):
        raise TransferError(f"Cannot read the source file {src}: it does not exist, is not a file, or is not readable")
    segment_size = parse_size(params["segment_size"])
    check_segment_size(swift, segment_size)
    size = os.path.getsize(src)
    prefix = params["segment_prefix"] or default_prefix(name)
    seg_container = params["segment_container"] or container
    steps = layout_steps(prefix, size, segment_size)
    fd = os.open(src, os.O_RDONLY)
    try:
        plan = plan_write(swift, container, name, seg_container, prefix, steps, manifest_headers(params),
                          params["create_container"], params["stale_segments"],
                          resolve_hash=lambda step: md5_of_file_range(fd, step.offset, step.size))
        result = {"changed": plan.changed, "object": f"{container}/{name}", "region": swift.region,
                  "manifest": plan.after()["manifest"], "size": size, "segment_size": segment_size,
                  "plan": plan.summary(), "diff": {"before": plan.before or {}, "after": plan.after()}}
        if not plan.changed:
            result["msg"] = (f"{container}/{name} in region {swift.region} already holds this file "
                             f"({len(steps)} segments match by size and MD5); nothing to do")
        elif check_mode:
            result["msg"] = f"would upload {len(plan.to_transfer)} of {len(steps)} segments ({why(plan)})"
        else:
            progress = Progress(params.get("progress_file"), "upload", src, f"{swift.region}:{container}/{name}", steps)
            recorded = recorded_segment_md5s(fd, segment_size)
            apply_write(swift, plan, lambda step: upload_segment(swift, fd, seg_container, step, progress,
                                                                 recorded.get(step.offset)),
                        params["concurrency"], progress)
            result["md5s_from_record"] = len([s for s in plan.to_transfer if s.offset in recorded])
            result["msg"] = f"uploaded {len(plan.to_transfer)} of {len(steps)} segments to {container}/{name} ({why(plan)})"
        result["bytes_sent"] = 0 if check_mode else sum(s.size for s in plan.to_transfer)
        result["segments"] = [s.as_dict() for s in steps]
        return result
    finally:
        os.close(fd)


def why(plan) -> str:
    parts = [f"{s.name}: {s.reason}" for s in plan.to_transfer[:3]]
    if len(plan.to_transfer) > 3:
        parts.append(f"and {len(plan.to_transfer) - 3} more")
    if plan.stale:
        parts.append(f"{len(plan.stale)} stale segments to delete")
    if plan.manifest_action == "write":
        parts.append("manifest to write")
    return "; ".join(parts) or "nothing"


def upload_segment(swift, fd: int, container: str, step, progress, recorded: str | None = None) -> None:
    """Hash the chunk (the ETag must precede the body), then stream it; the server checks the MD5.

    A file that changes between the two reads is caught by the server too (422), and the
    segment is hashed and sent again. ``recorded`` is the MD5 swift_dlo_download noted for
    this chunk: the first attempt sends it as the ETag without hashing; were the file changed
    since, the server refuses the body (422) and the retry hashes the chunk.
    """
    claims = [recorded] if recorded else []

    def attempt():
        step.md5 = claims.pop() if claims else md5_of_file_range(fd, step.offset, step.size)
        body = StreamBody(file_chunks(fd, step.offset, step.size), step.size, progress)
        progress.segment(step.name, "transferring")
        try:
            resp = swift.put_object(container, step.name, body, length=step.size, etag=step.md5, retry=False,
                                    headers={"Content-Type": "application/octet-stream"},
                                    what=f"upload segment {step.name} to {swift.where(container)}")
        except BaseException:
            progress.add(-body.sent)
            raise
        got = resp.headers.get("Etag", "").strip('"')
        if got != step.md5:
            raise SegmentMismatch(f"segment {step.name} was stored with ETag {got}, expected {step.md5}")
        progress.segment(step.name, "verified")
        drop_cached(fd, step.offset, step.size)

    with_retries(step, attempt, swift.http.policy, f"upload segment {step.name} to {swift.where(container)}", progress)


def delete(params: dict, swift, check_mode: bool) -> dict:
    """Delete the manifest first (no reader sees a partial object), then only its own segments."""
    container, name = params["container"], params["object"]
    headers = swift.head_object(container, name)
    if headers is None:
        return {"changed": False, "object": f"{container}/{name}", "region": swift.region, "deleted": [],
                "msg": f"{container}/{name} does not exist in region {swift.region}; nothing to delete"}
    manifest = headers.get("x-object-manifest")
    if not manifest:
        raise TransferError(f"{swift.where(container, name)} is not a Dynamic Large Object; "
                            "state=absent deletes only DLOs (manifest and segments)", not_dlo=True)
    seg_container, prefix = split_manifest(manifest)
    if not prefix:
        raise TransferError(f"The manifest of {container}/{name} names the whole container {seg_container}; "
                            "refusing to delete a container's every object")
    segments = [o["name"] for o in swift.list_objects(seg_container, prefix)] if swift.head_container(seg_container) else []
    deleted = [f"{container}/{name}"] + [f"{seg_container}/{s}" for s in segments]
    result = {"changed": True, "object": f"{container}/{name}", "region": swift.region, "deleted": deleted,
              "diff": {"before": {"manifest": manifest, "segments": len(segments)}, "after": {}}}
    if check_mode:
        result["msg"] = f"would delete the manifest {container}/{name} and its {len(segments)} segments"
        return result
    swift.delete_object(container, name)
    run_parallel(segments, lambda seg: swift.delete_object(seg_container, seg), max(1, params["concurrency"]))
    result["msg"] = f"deleted the manifest {container}/{name} and its {len(segments)} segments under {manifest}"
    return result
