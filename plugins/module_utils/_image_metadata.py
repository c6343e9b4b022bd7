# Copyright: cloudimages.transfer contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# PRIVATE: this module_utils file is internal to cloudimages.transfer; it may change or go
# away in any release. Do not import it from outside this collection.
"""image_metadata: desired properties and attributes of an image, as one JSON patch.

The patch is the plan: check mode returns it, diff shows before and after, and ``changed``
is whether it is empty.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ansible_collections.cloudimages.transfer.plugins.module_utils._errors import TransferError
from ansible_collections.cloudimages.transfer.plugins.module_utils._glance import pointer
from ansible_collections.cloudimages.transfer.plugins.module_utils._http import HttpError
from ansible_collections.cloudimages.transfer.plugins.module_utils._options import from_params

# Image attributes Glance itself defines; everything else on an image is a custom property.
BASE_ATTRIBUTES = frozenset({
    "id", "name", "status", "visibility", "protected", "checksum", "os_hash_algo", "os_hash_value", "owner",
    "size", "virtual_size", "min_ram", "min_disk", "created_at", "updated_at", "tags", "self", "file", "schema",
    "disk_format", "container_format", "locations", "direct_url", "stores", "os_hidden",
})
# Never written by this module, whether asked for or copied: read-only or reserved keys.
DENY_KEYS = frozenset({"checksum", "size", "virtual_size", "status", "owner", "id", "created_at", "updated_at",
                       "file", "schema", "self", "locations", "direct_url", "stores"})
DENY_PREFIXES = ("os_glance_", "os_hash_")
SETTABLE_ATTRIBUTES = ("name", "min_disk", "min_ram", "visibility", "protected")
# Never copied from another image: this collection's own stamps (they name *that* image's source).
COPY_NEVER_PREFIXES = ("cloudimages_",)
# Not copied unless an include names them: Nova's bookkeeping on snapshots, true only of the
# instance, project and user the snapshot came from.
COPY_EXCLUDED_BY_DEFAULT = frozenset({
    "instance_uuid", "base_image_ref", "image_location", "image_state", "image_type", "owner_id", "user_id",
    "boot_roles", "owner_project_name", "owner_user_name", "instance_type_id", "instance_type_name",
    "instance_type_flavorid", "instance_type_memory_mb", "instance_type_vcpus", "instance_type_root_gb",
    "instance_type_ephemeral_gb", "instance_type_swap", "instance_type_rxtx_factor", "clean_attempts",
    "bdm_v2", "block_device_mapping", "root_device_name",
})


# Never copied from another image, whatever include says: ids of images in the other image's
# region (a target that boots with them would name images that are not there, or someone
# else's); set them to the target's copies of those images with ``properties``.
COPY_NEVER_KEYS = frozenset({"kernel_id", "ramdisk_id"})
# A signature over the other image's bytes, checked with a certificate in the other cloud's key
# manager: copied only when copy_from.signatures says so (and the bytes were not converted).
SIGNATURE_PREFIX = "img_signature"


def denied(key: str) -> bool:
    return key in DENY_KEYS or key.startswith(DENY_PREFIXES)


def custom_properties(image: dict) -> dict:
    return {k: v for k, v in image.items() if k not in BASE_ATTRIBUTES and not denied(k)}


def selected(properties: dict, include: list | None, exclude: list | None) -> dict:
    """Properties whose key starts with an include prefix (all when none) and no exclude prefix."""
    return {k: v for k, v in properties.items()
            if (not include or k.startswith(tuple(include))) and not (exclude and k.startswith(tuple(exclude)))}


def copyable(properties: dict, include: list | None, exclude: list | None, signatures: bool = False) -> dict:
    """What copy_from takes: never the collection's stamps nor image ids of the other region; Nova's
    bookkeeping only when included by name; signatures only when asked for."""
    named = set(include or [])
    return {k: v for k, v in selected(properties, include, exclude).items()
            if not k.startswith(COPY_NEVER_PREFIXES) and k not in COPY_NEVER_KEYS
            and (signatures or not k.startswith(SIGNATURE_PREFIX))
            and (k not in COPY_EXCLUDED_BY_DEFAULT or k in named)}


def not_copied_warnings(properties: dict, signatures: bool) -> list:
    """Say what copy_from left behind that a user would miss on the copy."""
    warnings = []
    refs = sorted(k for k in properties if k in COPY_NEVER_KEYS)
    if refs:
        warnings.append(f"{', '.join(refs)} not copied: they name images of the source's region; set them to the "
                        "target's copies of those images with properties")
    signed = sorted(k for k in properties if k.startswith(SIGNATURE_PREFIX))
    if signed and not signatures:
        warnings.append(f"{', '.join(signed)} not copied: the signature is over the source's bytes and its certificate "
                        "is in the source cloud's key manager (copy_from.signatures: true copies it)")
    return warnings


def plan_patch(image: dict, properties: dict, absent: list, purge: bool, attributes: dict,
               tags: list | None, purge_tags: bool) -> list:
    """The JSON-patch operations that make the image as wanted; [] when it already is."""
    for key in list(properties) + list(absent):
        if denied(key) or key in BASE_ATTRIBUTES:
            raise TransferError(f"Property {key!r} is reserved or read-only (or an image attribute with its own "
                                "option); it cannot be set as a custom property")
    ops = []
    for key in sorted(properties):
        value = str(properties[key]) if not isinstance(properties[key], str) else properties[key]
        if key not in image:
            ops.append({"op": "add", "path": pointer(key), "value": value})
        elif image[key] != value:
            ops.append({"op": "replace", "path": pointer(key), "value": value})
    removable = set(absent)
    if purge:
        removable |= set(custom_properties(image)) - set(properties)
    for key in sorted(removable):
        if key in image and key not in properties:
            ops.append({"op": "remove", "path": pointer(key)})
    for key in SETTABLE_ATTRIBUTES:
        value = attributes.get(key)
        if value is not None and image.get(key) != value:
            ops.append({"op": "replace", "path": pointer(key), "value": value})
    if tags is not None:
        current = list(image.get("tags") or [])
        wanted = sorted(set(tags) if purge_tags else set(current) | set(tags))
        if sorted(current) != wanted:
            ops.append({"op": "replace", "path": "/tags", "value": wanted})
    return ops


def apply_ops(image: dict, ops: list) -> dict:
    """The image as it will be after the patch (for check mode's diff)."""
    after = dict(image)
    for op in ops:
        key = op["path"][1:].replace("~1", "/").replace("~0", "~")
        if op["op"] == "remove":
            after.pop(key, None)
        else:
            after[key] = op["value"]
    return after


def view(image: dict) -> dict:
    """What the diff shows: custom properties and the settable attributes and tags."""
    shown = {k: image.get(k) for k in SETTABLE_ATTRIBUTES}
    shown["tags"] = sorted(image.get("tags") or [])
    shown["properties"] = dict(sorted(custom_properties(image).items()))
    return shown


@dataclass(frozen=True)
class Options:
    """What image_metadata was asked to do, unpacked once from the module's parameters."""

    image: str | None = None
    filters: dict = field(default_factory=dict)
    properties: dict = field(default_factory=dict)
    absent_properties: list = field(default_factory=list)
    purge: bool = False
    tags: list | None = None  # None: leave the tags alone
    purge_tags: bool = False
    name: str | None = None
    min_disk: int | None = None
    min_ram: int | None = None
    visibility: str | None = None
    protected: bool | None = None
    copy_from: dict | None = None  # image, filters, include, exclude (its connection is the caller's business)

    from_params = classmethod(from_params)

    def attributes(self) -> dict:
        return {key: getattr(self, key) for key in SETTABLE_ATTRIBUTES}


def run(opts: Options, glance, source_glance, check_mode: bool) -> dict:
    image = glance.find_image(opts.image, opts.filters)
    properties, warnings = {}, []
    copy = opts.copy_from
    if copy:
        source = source_glance.find_image(copy.get("image"), copy.get("filters"))
        offered = custom_properties(source)
        signatures = bool(copy.get("signatures"))
        properties.update(copyable(offered, copy.get("include"), copy.get("exclude"), signatures))
        warnings += not_copied_warnings(offered, signatures)
    properties.update(opts.properties)
    absent = opts.absent_properties
    clash = sorted(set(absent) & set(properties))
    if clash:
        raise TransferError(f"Properties {', '.join(clash)} are both wanted and listed in absent_properties")
    ops = plan_patch(image, properties, absent, opts.purge, opts.attributes(), opts.tags, opts.purge_tags)
    where = glance.where(image["id"])
    result = {"changed": bool(ops), "patch": ops, "image": image, "warnings": warnings,
              "diff": {"before": view(image), "after": view(apply_ops(image, ops))}}
    if not ops:
        result["msg"] = f"{where} already has the wanted properties; nothing to do"
    elif check_mode:
        result["msg"] = f"would apply {len(ops)} patch operations to {where}"
        result["image"] = apply_ops(image, ops)
    else:
        copied = set(properties) - set(opts.properties)
        result["image"], refused = patch(glance, image["id"], ops, copied)
        if refused:
            result["patch"] = [op for op in ops if op not in refused]
            result["changed"] = bool(result["patch"])
            warnings.append(f"{where} refused the copied properties {', '.join(key_of(op) for op in refused)} "
                            "(403: the target cloud protects them); the rest were copied")
        result["msg"] = f"applied {len(result['patch'])} patch operations to {where}"
    return result


def key_of(op: dict) -> str:
    return op["path"][1:].replace("~1", "/").replace("~0", "~")


def patch(glance, image_id: str, ops: list, copied: set) -> tuple:
    """(the image after the patch, the copied properties' operations the cloud refused).

    Glance's property protections refuse a whole patch with 403 when it touches one protected
    key; a copied property is the user's only by inheritance, so the patch is then sent one
    operation at a time and a refused copied key is skipped. A key the user asked for by name
    still fails."""
    try:
        return glance.patch_image(image_id, ops), []
    except HttpError as exc:
        if exc.status != 403 or not any(key_of(op) in copied for op in ops):
            raise
    image, refused = None, []
    for op in ops:
        try:
            image = glance.patch_image(image_id, [op])
        except HttpError as exc:
            if exc.status != 403 or key_of(op) not in copied:
                raise
            refused.append(op)
    return image if image is not None else glance.get_image(image_id), refused
