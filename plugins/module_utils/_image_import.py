# Copyright: cloudimages.transfer contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# PRIVATE: this module_utils file is internal to cloudimages.transfer; it may change or go
# away in any release. Do not import it from outside this collection.
"""image_import: a new image in a region, from an object of its object store or another region's image.

Methods: ``task`` (the vendors' import task), ``upload`` (a queued image, the object streamed
into PUT /file), ``web-download`` (Glance fetches a Swift TempURL of the object),
``glance-download`` (Glance copies the image from another region of the same Keystone; no
object store at all), ``direct`` (the source image's data streamed from the source Glance into
the target's, one pass, no object store: PUT /stage and the glance-direct import where the
target offers it, so that its import plugins run, else PUT /file). ``auto`` asks the target what
it offers and takes the cheapest.

The idempotency key is the set of properties the module stamps on the new image (the
source's region, image id and checksum, and any ``properties`` given); a server-side filter
on them finds what an earlier run made, so a rerun never makes a second image: it returns a
finished one, waits on one still importing, or feeds data to one left queued.

What "verified" means survives format conversion (the vendors store imports in another
format; Glance's image_conversion plugin turns qcow2 into raw): the image is active, its
virtual_size equals the source's (where both report one), and only where nothing was
converted (no conversion before the import, the vendor task not used, the disk_format kept)
its checksum, or its sha512 os_hash_value, equals the source's. The result says which checks
ran. Only then is the completion stamp (``cloudimages_transfer_verified``, the source
content's identity) written, which is what a later run takes as a finished transfer.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field, replace

from ansible_collections.cloudimages.transfer.plugins.module_utils import _disk_compare
from ansible_collections.cloudimages.transfer.plugins.module_utils._dlo import SegmentStep
from ansible_collections.cloudimages.transfer.plugins.module_utils._errors import TransferError
from ansible_collections.cloudimages.transfer.plugins.module_utils._formats import choose_import_method
from ansible_collections.cloudimages.transfer.plugins.module_utils._glance import pointer
from ansible_collections.cloudimages.transfer.plugins.module_utils._http import HttpError
from ansible_collections.cloudimages.transfer.plugins.module_utils._options import from_params
from ansible_collections.cloudimages.transfer.plugins.module_utils._tasks import TasksApi, Waiting
from ansible_collections.cloudimages.transfer.plugins.module_utils._transfer import Progress, StreamBody, response_chunks, with_retries

STAMPS = {"source_region": "cloudimages_source_region", "source_image_id": "cloudimages_source_image",
          "source_checksum": "cloudimages_source_checksum"}
COMPLETION_STAMP = "cloudimages_transfer_verified"

from ansible_collections.cloudimages.transfer.plugins.module_utils._tempurl import Lease, generate_temp_url


@dataclass(frozen=True)
class Options:
    """What image_import was asked to do, unpacked once from the module's parameters."""

    name: str | None = None
    method: str = "auto"
    container: str | None = None
    object: str | None = None
    disk_format: str | None = None
    container_format: str | None = None
    properties: dict = field(default_factory=dict)
    source_region: str | None = None
    source_image_id: str | None = None
    source_checksum: str | None = None
    source_virtual_size: int | None = None
    source_os_hash_algo: str | None = None
    source_os_hash_value: str | None = None
    source_converted: bool = False
    stores: list = field(default_factory=list)
    all_stores: bool = False
    all_stores_must_succeed: bool = True
    completion_stamp: str | None = None
    verify_content: bool = False
    verify_dir: str | None = None
    interface: str | None = None

    waiting: Waiting = field(default_factory=Waiting)  # poll_interval, wait_timeout, task_retries, max_size, progress_file

    from_params = classmethod(from_params)


def stamps(opts: Options) -> dict:
    found = {prop: str(getattr(opts, opt)) for opt, prop in STAMPS.items() if getattr(opts, opt)}
    found.update({k: str(v) for k, v in (opts.properties or {}).items()})
    return found


def choose(opts: Options, glance) -> str:
    """The method ``auto`` picks (see _formats.choose_import_method)."""
    has_object = bool(opts.object)
    return choose_import_method(has_object, bool(opts.source_image_id and opts.source_region),
                                has_object and TasksApi(glance).available(), glance.import_methods(),
                                can_sign=generate_temp_url is not None)


def run(opts: Options, glance, swift, source_glance, check_mode: bool, content_source=None) -> dict:
    """Find what an earlier run made; plan (size, method); import by the method; verify, stamp
    and report. content_source: (Glance, image id) of the source image, for verify_content."""
    if opts.method == "copy-image":
        return copy_image(opts, glance, check_mode)
    keys = stamps(opts)
    if not keys:
        raise TransferError("Give source_image_id (with source_region) or properties: they are the key a rerun "
                            "finds the imported image by")
    poller = opts.waiting.poller()
    content = content_reference(opts, content_source)
    image = find_earlier(glance, keys)
    if image and image["status"] == "active":
        checks = verify(opts, image, opts.method if opts.method != "auto" else choose(opts, glance), content, glance)
        stamped = complete(glance, opts, image, check_mode)
        return {"changed": stamped, "image": image, "image_id": image["id"], "method": "none",
                "region": glance.region, "verification": checks,
                "msg": f"{glance.where(image['id'])} already holds this import (active, verified"
                       + ("; completion stamp written)" if stamped else "); nothing to do")}
    size = expected_size(opts, swift, source_glance)
    if opts.waiting.max_size is not None and size > opts.waiting.max_size:
        raise TransferError(f"The source is {size} bytes, over max_size {opts.waiting.max_size}; nothing was imported")
    method = opts.method if opts.method != "auto" else choose(opts, glance)
    result = {"changed": True, "method": method, "region": glance.region, "bytes": size,
              "diff": {"before": {}, "after": {"name": opts.name, **keys}}}
    if check_mode:
        action = f"resume the import of {glance.where(image['id'])}" if image else f"create image {opts.name!r}"
        result["msg"] = f"would {action} in region {glance.region} with method {method} ({size} bytes)"
        return result
    image = import_by(method, opts, glance, swift, keys, image, size, poller, source_glance)
    verifying = time.monotonic()
    checks = verify(opts, image, method, content, glance)
    complete(glance, opts, image, check_mode)
    result.update(image=image, image_id=image["id"], verification=checks,
                  verification_seconds=round(time.monotonic() - verifying, 1),
                  msg=f"imported {glance.where(image['id'])} with method {method} ({image.get('size')} bytes); "
                      f"verified: {', '.join(k for k, v in checks.items() if v is True)}")
    return result


def copy_image(opts: Options, glance, check_mode: bool) -> dict:
    """Glance's copy-image import, server side: the image (source_image_id, in this region)
    written to more stores of the same Glance. Nothing happens where it is in every store
    wanted; a copy an earlier run started is waited for; a store that failed is named."""
    if not opts.source_image_id:
        raise TransferError("method copy-image needs source_image_id: the image to copy to more stores")
    known = glance.stores()
    if not known:
        raise TransferError(f"Glance in region {glance.region} lists no stores (GET /v2/info/stores): copy-image "
                            "needs a Glance with several stores")
    wanted = set(known if opts.all_stores else opts.stores)
    if not wanted:
        raise TransferError("method copy-image needs stores, or all_stores: true")
    unknown = sorted(wanted - set(known))
    if unknown:
        raise TransferError(f"Glance in region {glance.region} has no store {', '.join(unknown)} (it has "
                            f"{', '.join(known)})")
    image = glance.get_image(opts.source_image_id)
    if image is None or image.get("status") != "active":
        raise TransferError(f"{glance.where(opts.source_image_id)} "
                            f"{'does not exist' if image is None else 'is ' + image['status'] + ', not active'}")
    poller = replace(opts.waiting.poller(), adaptive=True)
    if image.get("os_glance_import_task"):  # a copy an earlier run started: its end first
        image = wait_copied(glance, image["id"], poller)
    missing = sorted(wanted - held_stores(image))
    result = {"image": image, "image_id": image["id"], "method": "copy-image", "region": glance.region,
              "stores": sorted(held_stores(image)), "changed": bool(missing),
              "diff": {"before": {"stores": sorted(held_stores(image))},
                       "after": {"stores": sorted(held_stores(image) | wanted)}}}
    if not missing:
        result["msg"] = f"{glance.where(image['id'])} is already in the stores {', '.join(sorted(wanted))}"
        return result
    if check_mode:
        result["msg"] = f"would copy {glance.where(image['id'])} to the stores {', '.join(missing)}"
        return result
    failed_before = set(filter(None, (image.get("os_glance_failed_import") or "").split(",")))
    try:
        start_import(glance, image, {"method": {"name": "copy-image"}, "stores": missing,
                                     "all_stores_must_succeed": opts.all_stores_must_succeed})
    except HttpError as exc:
        if exc.status != 403:
            raise
        raise TransferError(f"{exc.msg}: Glance's default policy (copy_image) lets only admins copy an image "
                            "into more stores; run this with an admin's credentials, or ask the cloud's operators",
                            image=image) from None
    image = wait_copied(glance, image["id"], poller)
    held = held_stores(image)
    failed = sorted(set(filter(None, (image.get("os_glance_failed_import") or "").split(","))) - failed_before)
    left = sorted(wanted - held)
    result.update(image=image, stores=sorted(held), diff={**result["diff"], "after": {"stores": sorted(held)}})
    if left and opts.all_stores_must_succeed:
        raise TransferError(f"copy-image left {glance.where(image['id'])} without the stores {', '.join(left)}"
                            + (f" (failed: {', '.join(failed)})" if failed else ""), image=image, stores=sorted(held))
    if left:
        result["warnings"] = [f"copy-image did not reach the stores {', '.join(left)}"
                              + (f" (failed: {', '.join(failed)})" if failed else "")
                              + "; all_stores_must_succeed is false, so the others are kept"]
    result["msg"] = (f"copied {glance.where(image['id'])} to the stores {', '.join(sorted(set(missing) - set(left)))}"
                     if set(missing) - set(left) else f"copied {glance.where(image['id'])} to no store")
    return result


def held_stores(image: dict) -> set:
    return set(filter(None, (image.get("stores") or "").split(",")))


def wait_copied(glance, image_id: str, poller) -> dict:
    """Until Glance lets go of the image's import lock (the image stays active throughout a
    copy); a failed copy task ends the wait at that poll."""
    def check():
        image = glance.get_image(image_id)
        if image is None:
            raise TransferError(f"{glance.where(image_id)} disappeared while being copied")
        lock = image.get("os_glance_import_task")
        task = glance.import_task(image_id, lock) if lock else {}
        if task.get("status") == "failure":
            raise ImportEnded(f"The copy-image import of {glance.where(image_id)} failed: its task {lock} says "
                              f"{task.get('message') or '(no message)'}", image=image, locked=True)
        return not lock, image, import_state(image, task)

    return poller.wait(check, f"{glance.where(image_id)} to be copied to its stores")


def find_earlier(glance, keys: dict) -> dict | None:
    """The one image an earlier run made (found by its stamps), None; more than one, or one left
    deactivated, is for the user to resolve (a killed one holds nothing: a new import is made)."""
    existing = [i for i in glance.list_images(keys) if i.get("status") not in ("killed", "deleted")]
    if len(existing) > 1:
        raise TransferError(f"{len(existing)} images in region {glance.region} carry {keys}; resolve the duplicates "
                            f"({', '.join(i['id'] for i in existing[:5])})")
    image = existing[0] if existing else None
    if image and image["status"] == "deactivated":  # a killed one was left out above: a new import replaces it
        raise TransferError(f"{glance.where(image['id'])}, made by an earlier run of this import, is deactivated: "
                            "reactivate it (openstack image set --activate) or delete it, then run again", image=image)
    return image


def import_by(method: str, opts: Options, glance, swift, keys: dict, image: dict | None, size: int, poller,
              source_glance=None) -> dict:
    """Make the image active by the method, or wait for the import an earlier run started."""
    if image and image["status"] in ("importing", "saving"):
        return wait_active(glance, image["id"], poller, started=image["status"] == "importing")
    if method == "task":
        return import_task(opts, glance, keys, poller, image)
    made = image is None
    if image is None:
        image = create(glance, opts, keys)
    if method == "direct":
        return direct(glance, source_glance, opts, image, size, poller, made)
    if method == "web-download":
        return web_download(glance, swift, opts, image, size, poller)
    if method == "upload":
        upload(glance, swift, opts, image, size)
    elif method == "glance-download":
        glance_download(glance, opts, image)
        return wait_active(glance, image["id"], poller, started=True,
                           failed_before=image.get("os_glance_failed_import", ""))
    else:
        raise TransferError(f"Unknown method {method}")
    return wait_active(glance, image["id"], poller)


def expected_size(opts: Options, swift, source_glance) -> int:
    if opts.object:
        headers = swift.head_object(opts.container, opts.object)
        if headers is None:
            raise TransferError(f"Source object {swift.where(opts.container, opts.object)} does not exist",
                                missing=f"{opts.container}/{opts.object}")
        return int(headers.get("content-length", 0))
    if source_glance is None:
        raise TransferError("Give container and object, or source_image_id and source_region")
    source = source_glance.get_image(opts.source_image_id)
    if source is None or source.get("status") != "active":
        raise TransferError(f"Source {source_glance.where(opts.source_image_id)} "
                            f"{'does not exist' if source is None else 'is ' + source.get('status') + ', not active'}")
    return source.get("size") or 0


def create(glance, opts: Options, keys: dict) -> dict:
    body = {"name": opts.name, "disk_format": opts.disk_format, "container_format": opts.container_format, **keys}
    return glance.create_image(body, keys)


def upload(glance, swift, opts: Options, image: dict, size: int) -> None:
    """Stream the object into the image; a passing failure (Glance puts the image back to
    queued) is retried from the start, per the retry policy."""
    what = f"upload data into {glance.where(image['id'])}"

    def attempt():
        resp = swift.get_object(opts.container, opts.object)
        try:
            glance.upload_image_data(image["id"], StreamBody(response_chunks(resp), size))
        finally:
            resp.close()

    with_retries(SegmentStep(0, opts.object, size), attempt, glance.http.policy, what, None)


def direct(glance, source_glance, opts: Options, image: dict, size: int, poller, made: bool) -> dict:
    """The source image's bytes streamed into the target in one pass: PUT /stage and the
    glance-direct import where the target offers it (its import plugins run, conversion
    included), else PUT /file. MD5 and SHA-512 are computed on the way and compared with the
    source's before the import starts; a stream that failed restarts from the first byte (Glance
    puts the image back to queued), per the retry policy. A stage an earlier run finished (the
    image is 'uploading': Glance took every byte it was told of) is imported as it is; what it
    holds is checked against the source once active, as every import is."""
    if source_glance is None:
        raise TransferError("method direct needs source_image_id and source_region")
    staged = "glance-direct" in glance.import_methods()
    if image["status"] == "uploading" and staged:
        return glance_direct(glance, image, poller)
    source = source_glance.get_image(opts.source_image_id) or {}
    where = f"{source_glance.where(opts.source_image_id)} to {glance.where(image['id'])}"
    progress = Progress(opts.waiting.progress_file, "direct", source_glance.where(opts.source_image_id),
                        glance.where(image["id"]), [SegmentStep(0, "image data", size)])
    sums = {}

    def attempt():
        now = glance.get_image(image["id"]) or {}
        if now.get("status") in ("uploading", "saving", "importing", "active"):
            return  # the attempt before arrived whole although its answer was lost
        md5, sha512 = hashlib.md5(usedforsecurity=False), hashlib.sha512()

        def hashed(chunks):
            for chunk in chunks:
                md5.update(chunk)
                sha512.update(chunk)
                yield chunk

        resp = source_glance.open_image_data(opts.source_image_id)
        try:
            body = StreamBody(hashed(response_chunks(resp)), size, progress)
            (glance.stage_image_data if staged else glance.upload_image_data)(image["id"], body)
        finally:
            resp.close()
        sums.update(md5=md5.hexdigest(), sha512=sha512.hexdigest())

    with_retries(SegmentStep(0, "image data", size), attempt, glance.http.policy,
                 f"stream {where} ({'PUT /stage' if staged else 'PUT /file'})", progress)
    progress.finish("done")
    wrong = stream_mismatch(sums, opts.source_checksum or source.get("checksum"),
                            opts.source_os_hash_algo or source.get("os_hash_algo"),
                            opts.source_os_hash_value or source.get("os_hash_value"))
    if wrong:
        if made:  # made by this run and holding what is not the source: nothing to keep
            glance.delete_image(image["id"])
        raise TransferError(f"The data streamed from {where} is not the source's: {wrong}"
                            + ("; the image this run made was deleted" if made else ""), image=image)
    if staged:
        return glance_direct(glance, image, poller)
    return wait_active(glance, image["id"], poller)


def stream_mismatch(sums: dict, checksum, algo, value) -> str:
    """Why the bytes streamed are not the source's, or '' (nothing streamed, or they are)."""
    if not sums:
        return ""
    if checksum and sums["md5"] != checksum:
        return f"MD5 {sums['md5']}, the source's checksum {checksum}"
    if algo == "sha512" and value and sums["sha512"] != value:
        return f"SHA-512 {sums['sha512'][:16]}..., the source's os_hash_value {value[:16]}..."
    return ""


def glance_direct(glance, image: dict, poller) -> dict:
    failed_before = image.get("os_glance_failed_import", "")
    start_import(glance, image, {"method": {"name": "glance-direct"}})
    return wait_active(glance, image["id"], poller, started=True, failed_before=failed_before)


def web_download(glance, swift, opts: Options, image: dict, size: int, poller) -> dict:
    """Glance fetches a TempURL of the object; the account's key is held by a lease until the
    import ended (active or failed), then removed if this collection set it and no other import
    of the collection still needs it. An import that failed while the account's key changed
    (another transfer set its own at the same moment) is signed anew and started once more."""
    if generate_temp_url is None:
        raise TransferError("method web-download needs python-swiftclient on the host that runs the module")
    with Lease(swift, poller.deadline + 900) as lease:
        for last in (False, True):
            body = {"method": {"name": "web-download", "uri": lease.sign(opts.container, opts.object, size)}}
            failed_before = image.get("os_glance_failed_import", "")
            start_import(glance, image, body)
            try:
                return wait_active(glance, image["id"], poller, started=True, failed_before=failed_before)
            except ImportEnded as exc:
                # signed anew when the key changed under it, or the URL expired before Glance read it
                # (not while Glance still holds the failed import's lock: a new import would be refused)
                if last or exc.details.get("locked") or not (lease.refresh() or lease.url_expired()):
                    raise
                image = exc.details["image"]


def glance_download(glance, opts: Options, image: dict) -> None:
    body = {"method": {"name": "glance-download", "glance_image_id": opts.source_image_id,
                       "glance_region": opts.source_region, "glance_service_interface": opts.interface or "public"}}
    start_import(glance, image, body)


def start_import(glance, image: dict, body: dict) -> None:
    glance.start_import(image["id"], body)


def import_task(opts: Options, glance, keys: dict, poller, image) -> dict:
    """The vendor task makes the image itself; the stamps go on afterwards (its input takes a name only)."""
    if image is not None:  # stamped by an earlier run whose task failed after creating it
        return wait_active(glance, image["id"], poller)
    source = f"{opts.container}/{opts.object}"
    tasks = TasksApi(glance)

    def same_input(given):
        return given.get("import_from") == source and (given.get("image_properties") or {}).get("name") == opts.name

    # a run stopped between the task's success and the stamping left an unstamped image: adopt it
    image_id = None
    for done in tasks.find_succeeded("import", same_input):
        made = glance.get_image((done.get("result") or {}).get("image_id") or "")
        if made and made.get("status") == "active" and not any(k in made for k in keys):
            image_id = made["id"]
            break
    if image_id is None:
        task = tasks.run("import", {"import_from": source, "import_from_format": opts.disk_format,
                                    "image_properties": {"name": opts.name}},
                         poller, opts.waiting.task_retries, matches=same_input)
        image_id = (task.get("result") or {}).get("image_id")
        if not image_id:
            raise TransferError(f"The import task {task['id']} succeeded without an image_id")
    ops = [{"op": "add", "path": pointer(k), "value": v} for k, v in keys.items()]
    glance.patch_image(image_id, ops)
    return wait_active(glance, image_id, poller)


class ImportEnded(TransferError):
    """An interoperable import that ended without making the image active."""


VHD_HINT = ("; a Glance that runs the image_conversion import plugin cannot read VHD (qemu-img calls it vpc): "
            "convert the data first (disk_image_convert; the region_transfer role's region_transfer_target_converts)")


def wait_active(glance, image_id: str, poller, started: bool = False, failed_before: str | None = None) -> dict:
    """Poll (adaptively: a wait on Glance, not on a vendor task) until the image is active and
    Glance's import lock is gone.

    The import has failed, and the wait ends at this poll, when: the task holding the lock
    (os_glance_import_task) says failure (Glance keeps that lock for 60 minutes after); a store
    is listed in os_glance_failed_import that was not before this import started
    (``failed_before``: the property then, None when unknown); or, once the lock is gone, a
    started import (web-download, glance-download) left the image queued, or a failure is
    recorded (os_glance_failed_import stays until the next import ends, so while a lock is held
    an earlier failure does not count)."""
    before = set(filter(None, (failed_before or "").split(",")))

    def ended(image, detail):
        return ImportEnded(f"The import of {glance.where(image_id)} failed: it is {image['status']}" + detail
                           + (VHD_HINT if image.get("disk_format") == "vhd" else ""), image=image,
                           locked=bool(image.get("os_glance_import_task")))

    def check():
        image = glance.get_image(image_id)
        if image is None:
            raise TransferError(f"{glance.where(image_id)} disappeared while importing")
        if image["status"] in ("killed", "deleted"):
            raise TransferError(f"{glance.where(image_id)} ended {image['status']}")
        # Glance's import flow holds its lock (os_glance_import_task) past 'active' and saves the
        # image once more when it lets go: a property written before then can be lost
        lock = image.get("os_glance_import_task")
        failed = image.get("os_glance_failed_import")
        task = glance.import_task(image_id, lock) if lock else {}
        if task.get("status") == "failure":
            raise ended(image, f" and its import task {lock} failed: {task.get('message') or '(no message)'} (Glance "
                               "holds the image's import lock for 60 minutes after a failure; delete this image, "
                               "which holds no data, to import again sooner)")
        new = set(filter(None, (failed or "").split(","))) - before
        if lock and failed_before is not None and new:
            raise ended(image, f"; the import task {lock} failed to write to the store(s) {', '.join(sorted(new))} "
                               f"(os_glance_failed_import: {failed})")
        if not lock and (failed or (started and image["status"] == "queued")):
            said = glance.import_failure(image_id)
            raise ended(image, " again" + (f" (os_glance_failed_import: {failed})" if failed else "")
                        + (f"; Glance's {said}" if said else ""))
        return image["status"] == "active" and not lock, image, import_state(image, task)

    return replace(poller, adaptive=True).wait(check, f"{glance.where(image_id)} to become active")


def import_state(image: dict, task: dict) -> str:
    """The image's status with what Glance exposes of a running import: the stores still to
    write and the import task's own message ("Copied 512 MiB")."""
    task_id = image.get("os_glance_import_task")
    if not task_id:
        return image["status"]
    details = [f"import task {task_id}"]
    stores = image.get("os_glance_importing_to_stores")
    if stores:
        details.append(f"stores left: {stores}")
    if task.get("message"):
        details.append(task["message"])
    return f"{image['status']} ({'; '.join(details)})"


def content_reference(opts: Options, content_source) -> tuple | None:
    """(Glance, source image) for verify=content, checked before anything is imported."""
    if not opts.verify_content:
        return None
    source_glance, image_id = content_source or (None, None)
    if source_glance is None or not image_id:
        raise TransferError("verify_content needs the source image: give source_image_id (or verify_content_source.image)")
    source = source_glance.get_image(image_id)
    if source is None or source.get("status") != "active":
        raise TransferError(f"verify_content compares with {source_glance.where(image_id)}, which is "
                            + ("not there" if source is None else source.get("status")))
    _disk_compare.check_possible(source)
    return source_glance, source


def verify(opts: Options, image: dict, method: str, content=None, glance=None) -> dict:
    """Check what survives conversion; say which checks ran. A failed check raises."""
    checks, problems = {"active": image.get("status") == "active"}, []
    want, have = opts.source_virtual_size, image.get("virtual_size")
    if want and have:
        # in whole 512-byte sectors: a VM sees no partial sector, and VHD or qcow2 round a raw size up
        checks["virtual_size"] = -(-want // 512) == -(-have // 512)
        if not checks["virtual_size"]:
            problems.append(f"virtual_size {have} where the source has {want}")
    else:
        checks["virtual_size"] = f"not checked: the {'source' if not want else 'target'} reports no virtual_size"
    converted = conversion(opts, image, method)
    if converted:
        checks["checksum"] = f"skipped: converted ({converted})"
    else:
        checks["checksum"], problem = compare_content(opts, image)
        if problem:
            problems.append(problem)
    if problems:
        raise TransferError(f"The imported image {image['id']} does not match its source: {'; '.join(problems)}",
                            image=image, verification=checks)
    if content is None:
        checks["content"] = "not checked: verify_content not asked"
    else:
        try:
            _disk_compare.compare(content[0], content[1], glance, image, opts.verify_dir)
        except TransferError as exc:
            checks["content"] = False
            exc.details.setdefault("verification", checks)
            raise
        checks["content"] = True
    return checks


def conversion(opts: Options, image: dict, method: str) -> str:
    """Why the image's bytes are not the source's, or '' when nothing converted them."""
    if opts.source_converted:
        return "the data imported is not the source image's own bytes (a vendor export converts)"
    if method == "task":
        return "the vendor's import task stores its own format"
    if opts.disk_format and image.get("disk_format") != opts.disk_format:
        return f"{opts.disk_format} -> {image.get('disk_format')} by the target's import"
    return ""


def compare_content(opts: Options, image: dict) -> tuple:
    """(the checksum check's result, a problem or None): sha512 where both have it, else MD5."""
    if opts.source_os_hash_algo == "sha512" and image.get("os_hash_algo") == "sha512" and opts.source_os_hash_value:
        same = image.get("os_hash_value") == opts.source_os_hash_value
        return same, None if same else "os_hash_value (sha512) differs from the source's"
    if opts.source_checksum:
        same = image.get("checksum") == opts.source_checksum
        return same, None if same else f"checksum {image.get('checksum')} where the source has {opts.source_checksum}"
    return "not checked: the source has no checksum or hash", None


def complete(glance, opts: Options, image: dict, check_mode: bool) -> bool:
    """Write the completion stamp (after verification only); True when it was (or would be) written."""
    value = opts.completion_stamp
    if not value or image.get(COMPLETION_STAMP) == value:
        return False
    if not check_mode:
        op = "replace" if COMPLETION_STAMP in image else "add"
        image.update(glance.patch_image(image["id"], [{"op": op, "path": pointer(COMPLETION_STAMP), "value": value}]))
    return True
