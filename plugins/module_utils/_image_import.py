# Copyright: cloudimages.transfer contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# PRIVATE: this module_utils file is internal to cloudimages.transfer; it may change or go
# away in any release. Do not import it from outside this collection.
"""image_import: a new image in a region, from an object of its object store or another region's image.

Methods: ``task`` (the vendors' import task), ``upload`` (a queued image, the object streamed
into PUT /file), ``web-download`` (Glance fetches a Swift TempURL of the object),
``glance-download`` (Glance copies the image from another region of the same Keystone; no
object store at all). ``auto`` asks the target what it offers and takes the cheapest.

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

import time
from dataclasses import dataclass, field

from ansible_collections.cloudimages.transfer.plugins.module_utils import _disk_compare
from ansible_collections.cloudimages.transfer.plugins.module_utils._dlo import SegmentStep
from ansible_collections.cloudimages.transfer.plugins.module_utils._errors import TransferError
from ansible_collections.cloudimages.transfer.plugins.module_utils._formats import choose_import_method
from ansible_collections.cloudimages.transfer.plugins.module_utils._glance import pointer
from ansible_collections.cloudimages.transfer.plugins.module_utils._options import from_params
from ansible_collections.cloudimages.transfer.plugins.module_utils._tasks import TasksApi, Waiting
from ansible_collections.cloudimages.transfer.plugins.module_utils._transfer import StreamBody, response_chunks, with_retries

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
    image = import_by(method, opts, glance, swift, keys, image, size, poller)
    verifying = time.monotonic()
    checks = verify(opts, image, method, content, glance)
    complete(glance, opts, image, check_mode)
    result.update(image=image, image_id=image["id"], verification=checks,
                  verification_seconds=round(time.monotonic() - verifying, 1),
                  msg=f"imported {glance.where(image['id'])} with method {method} ({image.get('size')} bytes); "
                      f"verified: {', '.join(k for k, v in checks.items() if v is True)}")
    return result


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


def import_by(method: str, opts: Options, glance, swift, keys: dict, image: dict | None, size: int, poller) -> dict:
    """Make the image active by the method, or wait for the import an earlier run started."""
    if image and image["status"] in ("importing", "saving"):
        return wait_active(glance, image["id"], poller, started=image["status"] == "importing")
    if method == "task":
        return import_task(opts, glance, keys, poller, image)
    if image is None:
        image = create(glance, opts, keys)
    if method == "web-download":
        return web_download(glance, swift, opts, image, size, poller)
    if method == "upload":
        upload(glance, swift, opts, image, size)
    elif method == "glance-download":
        glance_download(glance, opts, image)
    else:
        raise TransferError(f"Unknown method {method}")
    return wait_active(glance, image["id"], poller, started=method == "glance-download")


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
            start_import(glance, image, body)
            try:
                return wait_active(glance, image["id"], poller, started=True)
            except ImportEnded:
                # signed anew when the key changed under it, or the URL expired before Glance read it
                if last or not (lease.refresh() or lease.url_expired()):
                    raise


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


def wait_active(glance, image_id: str, poller, started: bool = False) -> dict:
    """Poll until the image is active and Glance's import lock is gone. ``started``: an import
    (web-download, glance-download) was started and holds the lock, so a queued image without the
    lock means the import ended without success. A failure recorded by an earlier import
    (``os_glance_failed_import`` stays until the next import ends) counts only once the lock is gone."""
    def check():
        image = glance.get_image(image_id)
        if image is None:
            raise TransferError(f"{glance.where(image_id)} disappeared while importing")
        if image["status"] in ("killed", "deleted"):
            raise TransferError(f"{glance.where(image_id)} ended {image['status']}")
        # Glance's import flow holds its lock (os_glance_import_task) past 'active' and saves the
        # image once more when it lets go: a property written before then can be lost
        locked = bool(image.get("os_glance_import_task"))
        failed = image.get("os_glance_failed_import")
        if not locked and (failed or (started and image["status"] == "queued")):
            said = glance.import_failure(image_id)
            raise ImportEnded(f"The import of {glance.where(image_id)} failed: it is {image['status']} again"
                              + (f" (os_glance_failed_import: {failed})" if failed else "")
                              + (f"; Glance's {said}" if said else "")
                              + ("; a Glance that runs the image_conversion import plugin cannot read VHD (qemu-img calls "
                                 "it vpc): convert the data first (disk_image_convert; the region_transfer role's "
                                 "region_transfer_target_converts)" if image.get("disk_format") == "vhd" else ""),
                              image=image)
        return image["status"] == "active" and not locked, image, import_state(glance, image)

    return poller.wait(check, f"{glance.where(image_id)} to become active")


def import_state(glance, image: dict) -> str:
    """The image's status with what Glance exposes of a running import: the stores still to
    write and the import task's own message ("Copied 512 MiB")."""
    task_id = image.get("os_glance_import_task")
    if not task_id:
        return image["status"]
    details = [f"import task {task_id}"]
    stores = image.get("os_glance_importing_to_stores")
    if stores:
        details.append(f"stores left: {stores}")
    said = glance.import_message(image["id"], task_id)
    if said:
        details.append(said)
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
