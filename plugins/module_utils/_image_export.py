# Copyright: cloudimages.transfer contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# PRIVATE: this module_utils file is internal to cloudimages.transfer; it may change or go
# away in any release. Do not import it from outside this collection.
"""image_export: an image into its region's object store as a DLO, by task or by stream.

``task``: the vendors' export task (``<container>/<image_id>.vhd`` plus ``-00001``...
segments). ``stream``: for clouds without one, GET /v2/images/{id}/file read once and cut
into segments; each segment's stored ETag is compared with the MD5 computed on the way (the
digest cannot precede bytes that are still arriving), and the whole with the image's
checksum and os_hash_value before the manifest is written. Either way the result is checked
(a consistent DLO of the image's size) and stamped on its manifest with the source image's
id and checksum, which is what makes a rerun find a finished export and change nothing.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from ansible_collections.cloudimages.transfer.plugins.module_utils import _leases
from ansible_collections.cloudimages.transfer.plugins.module_utils._dlo import (
    default_prefix,
    dlo_problems,
    layout_steps,
    layout_warnings,
    manifest_value,
    read_dlo,
    segment_size_for,
    stale_segments,
    unquote_etag,
)
from ansible_collections.cloudimages.transfer.plugins.module_utils._dlo_write import (
    WritePlan,
    expiry_headers,
    refuse_foreign,
    verify_written,
)
from ansible_collections.cloudimages.transfer.plugins.module_utils._errors import TransferError
from ansible_collections.cloudimages.transfer.plugins.module_utils._http import COPY_CHUNK
from ansible_collections.cloudimages.transfer.plugins.module_utils._options import from_params
from ansible_collections.cloudimages.transfer.plugins.module_utils._swift import refuse_public
from ansible_collections.cloudimages.transfer.plugins.module_utils._tasks import TasksApi, Waiting
from ansible_collections.cloudimages.transfer.plugins.module_utils._transfer import RATE, Progress, SegmentMismatch, StreamBody

META_IMAGE = "X-Object-Meta-Cloudimages-Source-Image"
META_CHECKSUM = "X-Object-Meta-Cloudimages-Source-Checksum"
META_IDENTICAL = "X-Object-Meta-Cloudimages-Bytes-Identical"


def check_container_name(name: str) -> None:
    if not name or "/" in name or len(name) > 256:
        raise TransferError(f"Container name {name!r} is not valid: 1 to 256 characters, no '/'")


def preflight(image: dict, where: str, max_size: int | None) -> None:
    if image.get("status") != "active":
        raise TransferError(f"{where} is {image.get('status')}, not active; only active images can be exported",
                            image_status=image.get("status"))
    if max_size is not None and (image.get("size") or 0) > max_size:
        raise TransferError(f"{where} is {image.get('size')} bytes, over max_size {max_size}")


def finished(swift, container: str, name: str, image: dict):
    """The existing export at container/name if it is complete and stamped for this image, else None."""
    dlo = read_dlo(swift, container, name)
    if dlo is None:
        return None
    stamped = dlo.headers.get(META_IMAGE.lower()) == image["id"] and \
        dlo.headers.get(META_CHECKSUM.lower()) == (image.get("checksum") or "")
    return dlo if stamped and not export_problems(dlo) else None


def export_problems(dlo) -> list:
    """An export is the collection's own (or the vendor's) numbered series: its layout is strict."""
    return dlo_problems(dlo) + layout_warnings(dlo.prefix, dlo.segments)


@dataclass(frozen=True)
class Options:
    """What image_export was asked to do, unpacked once from the module's parameters."""

    container: str
    image: str | None = None
    filters: dict = field(default_factory=dict)
    object: str | None = None
    method: str = "auto"
    create_container: bool = True
    allow_public_container: bool = False
    lease_holder: str | None = None
    lease_seconds: int = 22500
    segment_size: str | None = None
    expire_after: int | None = None

    waiting: Waiting = field(default_factory=Waiting)  # poll_interval, wait_timeout, task_retries, max_size, progress_file

    from_params = classmethod(from_params)


def run(opts: Options, glance, swift, check_mode: bool) -> dict:
    """Find the image and an export already made of it; else plan the export, make it, verify
    and stamp it, and report."""
    image = glance.find_image(opts.image, opts.filters)
    where = glance.where(image["id"])
    check_container_name(opts.container)
    preflight(image, where, opts.waiting.max_size)
    vendor_name = f"{image['id']}.vhd"
    name = opts.object or vendor_name
    location = f"{opts.container}/{name}"
    result = {"image_id": image["id"], "export_location": location, "region": glance.region,
              "size": image.get("size"), "checksum": image.get("checksum")}
    done = finished(swift, opts.container, name, image)
    if done is not None:
        if opts.lease_holder and not check_mode:
            result["lease"] = _leases.take(swift, opts.container, name, opts.lease_holder, opts.lease_seconds)
        return {**result, "changed": False, "method": "none", "verification": verification(done, image),
                "bytes": done.size, "bytes_identical": done.headers.get(META_IDENTICAL.lower()) == "true",
                "msg": f"{location} in region {swift.region} already holds a verified export of {where}; "
                       "nothing to do"}
    method, creates = plan_export(opts, glance, swift, name, vendor_name)
    result.update(changed=True, method=method, diff={"before": {}, "after": {"export_location": location}})
    if check_mode:
        result["msg"] = (f"would export {where} to {location} with method {method}"
                         + (f" (creating container {opts.container})" if creates else ""))
        return result
    if creates:
        swift.put_container(opts.container)
    if opts.lease_holder:  # before the export is written: a cleanup of another run must not take it away
        result["lease"] = _leases.take(swift, opts.container, name, opts.lease_holder, opts.lease_seconds)
    if method == "task":
        result["task"] = task_export(opts, glance, image, location)
    else:
        stream_export(opts, glance, swift, image, opts.container, name)
    dlo = read_dlo(swift, opts.container, name)
    problems = export_problems(dlo) if dlo else ["no manifest"]
    if problems:
        raise TransferError(f"The export of {where} at {location} does not verify: {'; '.join(problems)}")
    identical = method == "stream"  # its whole MD5 (and hash) was checked against the image's
    stamp(swift, dlo, image, identical)
    result["verification"] = verification(dlo, image)
    result["bytes"], result["bytes_identical"] = dlo.size, identical
    result["msg"] = f"exported {where} to {location} ({dlo.size} bytes, method {method}); verified"
    return result


def plan_export(opts: Options, glance, swift, name: str, vendor_name: str) -> tuple[str, bool]:
    """(the method - auto picks the vendor's task where Glance has the tasks API -, whether the
    container must be created)."""
    method = opts.method
    if method == "auto":
        method = "task" if TasksApi(glance).available() else "stream"
    if method == "task" and name != vendor_name:
        raise TransferError(f"method task always writes {vendor_name}; leave object unset or use method stream")
    held = swift.head_container(opts.container)
    refuse_public(swift, opts.container, held, opts.allow_public_container)
    creates = held is None
    if creates and not opts.create_container:
        raise TransferError(f"Container {opts.container} does not exist in region {swift.region} "
                            "and create_container is false", missing=opts.container)
    return method, creates


def task_export(opts: Options, glance, image: dict, location: str) -> dict:
    """The vendor's export task (a running one for the same image and container is joined);
    the task, once it reports the expected location."""
    task = TasksApi(glance).run(
        "export", {"image_uuid": image["id"], "receiving_swift_container": opts.container}, opts.waiting.poller(),
        opts.waiting.task_retries,
        matches=lambda given: given.get("image_uuid") == image["id"]
        and given.get("receiving_swift_container") == opts.container)
    reported = (task.get("result") or {}).get("export_location")
    if reported != location:
        raise TransferError(f"The export task {task['id']} reports {reported}, expected {location}")
    return task


def verification(dlo, image: dict) -> dict:
    return {"segments": len(dlo.segments), "size": dlo.size, "etag": dlo.etag,
            "consistent": not export_problems(dlo), "source_checksum": image.get("checksum")}


def stamp(swift, dlo, image: dict, identical: bool) -> None:
    """Mark the manifest as this image's finished export (keeping the manifest header, and its
    expiry as read with the manifest: a POST without X-Delete-At would remove it)."""
    headers = {k: v for k, v in dlo.headers.items() if k.startswith("x-object-meta-")}
    if dlo.delete_at:
        headers["X-Delete-At"] = dlo.delete_at
    headers.update({"X-Object-Manifest": manifest_value(dlo.segment_container, dlo.prefix),
                    META_IMAGE: image["id"], META_CHECKSUM: image.get("checksum") or "",
                    META_IDENTICAL: "true" if identical else "false"})
    swift.post_object(dlo.container, dlo.name, headers)


def stream_export(opts: Options, glance, swift, image: dict, container: str, name: str) -> None:
    """One GET of the image, cut into segments; the manifest only after the whole is verified."""
    segment_size = segment_size_for(swift, opts.segment_size, image.get("size") or 0)
    expiry = expiry_headers(opts.expire_after)
    prefix = default_prefix(name)
    steps = layout_steps(prefix, image.get("size") or 0, segment_size)
    stale, foreign = stale_segments(prefix, swift.list_objects(container, prefix), steps)
    refuse_foreign(swift, container, prefix, name, foreign)
    for old in stale:
        swift.delete_object(container, old)
    where = glance.where(image["id"])
    progress = Progress(opts.waiting.progress_file, "stream export", where, swift.where(container, name), steps)
    whole = WholeHashes(image.get("os_hash_algo"))
    resp = glance.open_image_data(image["id"])
    try:
        cutter = Cutter(resp.raw.stream(COPY_CHUNK, decode_content=False), whole, progress)
        for step in steps:
            chunks, seg_md5 = cutter.segment(step.size)
            put = swift.put_object(container, step.name, StreamBody(chunks, step.size), length=step.size,
                                   retry=False, headers={"Content-Type": "application/octet-stream", **expiry},
                                   what=f"write segment {step.name} of the export of {where}")
            step.md5 = unquote_etag(put.headers.get("Etag"))
            if step.md5 != seg_md5.hexdigest():
                raise SegmentMismatch(f"segment {step.name} was stored with ETag {step.md5}; "
                                      f"the bytes sent hash to {seg_md5.hexdigest()}")
            progress.segment(step.name, "done")
    finally:
        resp.close()
    whole.check(image, where)
    swift.put_object(container, name, b"", length=0,
                     headers={"X-Object-Manifest": manifest_value(container, prefix), **expiry},
                     what=f"write the manifest {swift.where(container, name)}")
    # the manifest must read back as exactly these segments (not a stale one left beside them)
    verify_written(swift, WritePlan(container, name, container, prefix, steps))
    progress.finish("done")


class WholeHashes:
    """The whole image's MD5, and its os_hash_algo hash where this Python has that algorithm."""

    def __init__(self, algo: str | None):
        self.algo = algo
        self.md5 = hashlib.md5(usedforsecurity=False)
        self.hash = hashlib.new(algo) if algo in hashlib.algorithms_available else None

    def update(self, piece: bytes) -> None:
        self.md5.update(piece)
        if self.hash is not None:
            self.hash.update(piece)

    def check(self, image: dict, where: str) -> None:
        """The stream must be the image Glance describes: its checksum, and its os_hash_value."""
        if image.get("checksum") and self.md5.hexdigest() != image["checksum"]:
            raise TransferError(f"{where} streamed with MD5 {self.md5.hexdigest()}; its checksum is {image['checksum']}; "
                                "no manifest written")
        if self.hash is not None and image.get("os_hash_value") and self.hash.hexdigest() != image["os_hash_value"]:
            raise TransferError(f"{where} streamed with another {self.algo} than its os_hash_value; no manifest written")


class Cutter:
    """Cuts one stream of chunks into consecutive segments of given sizes, hashing each segment
    and the whole, counting progress and paying the bandwidth cap once per byte."""

    def __init__(self, source, whole: WholeHashes, progress):
        self.source, self.whole, self.progress = source, whole, progress
        self.carry = b""

    def segment(self, size: int):
        """(the segment's chunks - exactly ``size`` bytes unless the stream ends first -, its MD5 so far)."""
        seg_md5 = hashlib.md5(usedforsecurity=False)

        def chunks():
            left = size
            while left:
                piece = self.carry or next(self.source, b"")
                if piece and not self.carry:
                    RATE.take(len(piece))  # paid once, as it arrives
                self.carry = b""
                if not piece:
                    return
                piece, self.carry = piece[:left], piece[left:]
                seg_md5.update(piece)
                self.whole.update(piece)
                left -= len(piece)
                self.progress.add(len(piece))
                yield piece

        return chunks(), seg_md5
