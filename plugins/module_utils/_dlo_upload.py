# Copyright: cloudimages.transfer contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# PRIVATE: this module_utils file is internal to cloudimages.transfer; it may change or go
# away in any release. Do not import it from outside this collection.
"""swift_dlo_upload: a local file to a large object (DLO or SLO), resumable; and state=absent for either kind."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from ansible_collections.cloudimages.transfer.plugins.module_utils import _leases
from ansible_collections.cloudimages.transfer.plugins.module_utils._dlo import (
    default_prefix,
    deletable_segments,
    layout_steps,
    segment_size_for,
    split_manifest,
)
from ansible_collections.cloudimages.transfer.plugins.module_utils._dlo_write import apply_write, expiry_headers, plan_write
from ansible_collections.cloudimages.transfer.plugins.module_utils._errors import TransferError
from ansible_collections.cloudimages.transfer.plugins.module_utils._options import from_params
from ansible_collections.cloudimages.transfer.plugins.module_utils._slo import is_slo, max_manifest_segments
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


@dataclass(frozen=True)
class Options:
    """What swift_dlo_upload was asked to do, unpacked once from the module's parameters."""

    container: str
    object: str
    state: str = "present"
    src: str | None = None
    manifest: str = "dlo"
    segment_size: str | None = None
    segment_container: str | None = None
    segment_prefix: str | None = None
    headers: dict = field(default_factory=dict)
    metadata: dict = field(default_factory=dict)
    expire_after: int | None = None
    create_container: bool = True
    allow_public_container: bool = False
    stale_segments: str = "delete"
    trust_manifest: bool = True
    stamp: dict = field(default_factory=dict)
    lease_holder: str | None = None
    concurrency: int = 4
    progress_file: str | None = None

    from_params = classmethod(from_params)


def manifest_headers(opts: Options) -> tuple[dict, list]:
    """The manifest's headers, and a warning for each metadata key that had to be renamed.

    Swift's server drops request headers whose names hold ``_`` (so ``build_id`` would never
    be stored and every rerun would differ): such keys are sent with ``-`` instead, which is
    how Swift then lists them (``X-Object-Meta-Build-Id``).
    """
    headers, warnings = dict(opts.headers), []
    for key, value in opts.metadata.items():
        sent = key.replace("_", "-")
        if sent != key:
            warnings.append(f"metadata key {key!r} is stored as {sent!r}: Swift drops header names with '_'")
        headers[f"X-Object-Meta-{sent}"] = str(value)
    return headers, warnings


def run(opts: Options, swift, check_mode: bool) -> dict:
    if opts.state == "absent":
        return delete(opts, swift, check_mode)
    container, name, src = opts.container, opts.object, opts.src
    if not src:
        raise TransferError("src is required with state=present")
    if not os.path.isfile(src) or not os.access(src, os.R_OK):
        raise TransferError(f"Cannot read the source file {src}: it does not exist, is not a file, or is not readable")
    size = os.path.getsize(src)
    segment_size = segment_size_for(swift, opts.segment_size, size,
                                    max_manifest_segments(swift) if opts.manifest == "slo" else None)
    prefix = opts.segment_prefix or default_prefix(name)
    seg_container = opts.segment_container or container
    steps = layout_steps(prefix, size, segment_size)
    headers, warnings = manifest_headers(opts)
    expiry = expiry_headers(opts.expire_after)
    headers.update(expiry)
    fd = os.open(src, os.O_RDONLY)
    try:
        plan = plan_write(swift, container, name, seg_container, prefix, steps, headers,
                          opts.create_container, opts.stale_segments,
                          resolve_hash=lambda step: md5_of_file_range(fd, step.offset, step.size), kind=opts.manifest,
                          allow_public=opts.allow_public_container)
        result = {"changed": plan.changed, "object": f"{container}/{name}", "region": swift.region,
                  "kind": opts.manifest, "manifest": plan.after()["manifest"], "size": size,
                  "segment_size": segment_size, "plan": plan.summary(),
                  "diff": {"before": plan.before or {}, "after": plan.after()}}
        if warnings:
            result["warnings"] = warnings
        if not plan.changed:
            result["msg"] = (f"{container}/{name} in region {swift.region} already holds this file "
                             f"({len(steps)} segments match by size and MD5); nothing to do")
        elif check_mode:
            result["msg"] = f"would upload {len(plan.to_transfer)} of {len(steps)} segments ({why(plan)})"
        else:
            progress = Progress(opts.progress_file, "upload", src, f"{swift.region}:{container}/{name}", steps)
            recorded = recorded_segment_md5s(fd, segment_size)
            apply_write(swift, plan, lambda step: upload_segment(swift, fd, seg_container, step, progress,
                                                                 recorded.get(step.offset), expiry),
                        opts.concurrency, progress)
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


def upload_segment(swift, fd: int, container: str, step, progress, recorded: str | None = None,
                   headers: dict | None = None) -> None:
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
                                    headers={"Content-Type": "application/octet-stream", **(headers or {})},
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


def delete(opts: Options, swift, check_mode: bool) -> dict:
    """Delete the manifest first (no reader sees a partial object), then only its own segments.

    Its own: the numbered names this collection writes under the prefix, or, where the prefix
    is a folder of its own (ends in ``/``, as the swift CLI and rclone lay segments out), any
    all-digit name in it. Anything else under the prefix is another object's, and is left.
    Without a manifest, the segments an interrupted delete left under the collection's own
    naming (segment_container/segment_prefix, or ``<object>-``) are deleted.
    """
    container, name = opts.container, opts.object
    if opts.lease_holder:
        others = _leases.others(swift.head_container(container) or {}, name, opts.lease_holder) if check_mode \
            else _leases.release(swift, container, name, opts.lease_holder)
        if others:
            return {"changed": False, "object": f"{container}/{name}", "region": swift.region, "deleted": [],
                    "left": [f"{container}/{name}"], "leased_by": others,
                    "msg": f"{container}/{name} in region {swift.region} is still read by another run (lease "
                           f"{', '.join(others)}); left for the last of them to delete"}
    headers = swift.head_object(container, name)
    if headers is None:
        return delete_leftovers(opts, swift, check_mode)
    own = (opts.segment_container or container, opts.segment_prefix or default_prefix(name))
    if is_slo(headers):
        return delete_slo(swift, container, name, check_mode, None if opts.trust_manifest else own)
    manifest = headers.get("x-object-manifest")
    if not manifest:
        raise TransferError(f"{swift.where(container, name)} is not a Dynamic or Static Large Object; "
                            "state=absent deletes only large objects (manifest and segments)", not_dlo=True)
    seg_container, prefix = split_manifest(manifest)
    if not opts.trust_manifest and (seg_container, prefix) != own:
        return delete_manifest_alone(swift, container, name, f"{seg_container}/{prefix}", own, check_mode)
    missing = unstamped(headers, opts.stamp)
    if missing:
        return delete_manifest_alone(swift, container, name, f"{seg_container}/{prefix}", own, check_mode,
                                     why=f"it does not carry the stamp of what made it ({missing})")
    if not prefix:
        raise TransferError(f"The manifest of {container}/{name} names the whole container {seg_container}; "
                            "refusing to delete a container's every object")
    listing = swift.list_objects(seg_container, prefix) if swift.head_container(seg_container) else []
    segments, others = deletable_segments(prefix, listing, any_width=True)
    deleted = [f"{container}/{name}"] + [f"{seg_container}/{s}" for s in segments]
    result = {"changed": True, "object": f"{container}/{name}", "region": swift.region, "deleted": deleted,
              "left": [f"{seg_container}/{s}" for s in others],
              "diff": {"before": {"manifest": manifest, "segments": len(segments)}, "after": {}}}
    left = (f"; left {len(others)} other objects under {seg_container}/{prefix} that are not its numbered segments "
            f"(first: {others[0]})") if others else ""
    if others:
        result["warnings"] = [f"{len(others)} objects under {seg_container}/{prefix} are not numbered segments of "
                              f"{container}/{name} and were not deleted (first: {others[0]})"]
    if check_mode:
        result["msg"] = f"would delete the manifest {container}/{name} and its {len(segments)} segments{left}"
        return result
    swift.delete_object(container, name)
    run_parallel(segments, lambda seg: swift.delete_object(seg_container, seg), max(1, opts.concurrency))
    result["msg"] = f"deleted the manifest {container}/{name} and its {len(segments)} segments{left}"
    return result


def unstamped(headers: dict, stamp: dict) -> str:
    """The first ``stamp`` key (object metadata) the manifest does not carry with its value, as a
    message; empty when it carries them all."""
    for key, value in (stamp or {}).items():
        held = headers.get(f"x-object-meta-{key.lower()}")
        if held != str(value):
            return f"X-Object-Meta-{key}: {held!r}, not {str(value)!r}"
    return ""


def delete_manifest_alone(swift, container: str, name: str, names: str, own: tuple, check_mode: bool,
                          why: str = "") -> dict:
    """A manifest whose segments are not ours to delete: it names them where this collection does
    not write them (anyone who can write the container can re-point a manifest), or it is not
    the object this collection made (its stamp is missing or names another source)."""
    reason = why or f"it names segments at {names}, not where this collection writes them ({own[0]}/{own[1]})"
    warning = (f"The manifest {container}/{name}: {reason}; only the manifest is deleted, and the segments are left "
               "as they are")
    result = {"changed": True, "object": f"{container}/{name}", "region": swift.region,
              "deleted": [f"{container}/{name}"], "left": [names], "warnings": [warning],
              "diff": {"before": {"manifest": names}, "after": {}}}
    if check_mode:
        result["msg"] = f"would delete the manifest {container}/{name} alone: {warning}"
        return result
    swift.delete_object(container, name)  # a plain DELETE removes an SLO's manifest alone too
    result["msg"] = f"deleted the manifest {container}/{name} alone: {warning}"
    return result


def delete_slo(swift, container: str, name: str, check_mode: bool, own: tuple | None = None) -> dict:
    """An SLO names its segments: Swift deletes exactly those, then the manifest. With ``own``
    (segment container, prefix), only when every segment it lists is there."""
    entries = swift.get_slo_manifest(container, name)
    segments = [e["name"].lstrip("/") for e in entries if "name" in e]
    if own and any(not segment.startswith(f"{own[0]}/{own[1]}") for segment in segments):
        return delete_manifest_alone(swift, container, name, "other places", own, check_mode)
    result = {"changed": True, "object": f"{container}/{name}", "region": swift.region, "kind": "slo",
              "deleted": [f"{container}/{name}"] + segments, "left": [],
              "diff": {"before": {"kind": "slo", "segments": len(segments)}, "after": {}}}
    if check_mode:
        result["msg"] = f"would delete the SLO {container}/{name} and the {len(segments)} segments its manifest lists"
        return result
    swift.delete_slo(container, name)
    result["msg"] = f"deleted the SLO {container}/{name} and the {len(segments)} segments its manifest lists"
    return result


def delete_leftovers(opts: Options, swift, check_mode: bool) -> dict:
    """No manifest: only the collection's own numbered segments of this object may be left over."""
    container, name = opts.container, opts.object
    seg_container = opts.segment_container or container
    prefix = opts.segment_prefix or default_prefix(name)
    listing = swift.list_objects(seg_container, prefix) if swift.head_container(seg_container) else []
    leftovers, _others = deletable_segments(prefix, listing)
    result = {"changed": bool(leftovers), "object": f"{container}/{name}", "region": swift.region,
              "deleted": [f"{seg_container}/{s}" for s in leftovers], "left": []}
    if not leftovers:
        result["msg"] = f"{container}/{name} does not exist in region {swift.region}; nothing to delete"
        return result
    result["diff"] = {"before": {"manifest": None, "segments": len(leftovers)}, "after": {}}
    verb = "would delete" if check_mode else "deleted"
    if not check_mode:
        run_parallel(leftovers, lambda seg: swift.delete_object(seg_container, seg), max(1, opts.concurrency))
    result["msg"] = (f"{container}/{name} has no manifest in region {swift.region}; {verb} the {len(leftovers)} "
                     f"segments an interrupted delete or upload left under {seg_container}/{prefix}")
    return result
