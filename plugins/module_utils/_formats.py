# Copyright: cloudimages.transfer contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# PRIVATE: this module_utils file is internal to cloudimages.transfer; it may change or go
# away in any release. Do not import it from outside this collection.
"""Which import method a target will use, and which disk format the data must travel in.

What a target takes, from what it says and what its vendor documents:
- the vendor's import task takes VHD only (the seeds' task input: ``import_from_format: vhd``);
- an upstream Glance takes the ``disk_format`` values its image schema lists;
- a Glance that runs the ``image_conversion`` import plugin cannot read VHD through an
  interoperable import (web-download, glance-download): the plugin asks qemu-img for Glance's
  format name, and qemu-img calls VHD ``vpc``. Glance publishes no list of its plugins, so this
  is configured (``target_converts``), never guessed. A plain upload (``PUT /file``) passes no
  plugin and takes VHD there too.
"""

from __future__ import annotations

from ansible_collections.cloudimages.transfer.plugins.module_utils._errors import TransferError

# formats this collection can write locally, best first: qcow2 is compact and random-access,
# raw the most widely readable, VHD what the vendors exchange
PREFERENCE = ("qcow2", "raw", "vhd", "vmdk")
GLANCE_DEFAULT = ("ami", "ari", "aki", "vhd", "vhdx", "vmdk", "raw", "qcow2", "vdi", "iso", "ploop")
INTEROPERABLE = ("web-download", "glance-download", "glance-direct", "direct")


def choose_import_method(has_object: bool, has_source: bool, tasks_api: bool, import_methods,
                         can_sign: bool = True) -> str:
    """With an object in the target's store: the task, then web-download, then upload; without:
    glance-download where the target offers it, else direct (the source image streamed through)."""
    if not has_object:
        if has_source and "glance-download" in import_methods:
            return "glance-download"
        if has_source:
            return "direct"
        raise TransferError("No method fits: glance-download and direct need source_image_id and source_region; "
                            "every other method needs container and object")
    if tasks_api:
        return "task"
    if "web-download" in import_methods and can_sign:
        return "web-download"
    return "upload"


def accepted(method: str, schema_formats, converts: bool) -> tuple:
    """The formats an import with this method can take, and why."""
    if method == "task":
        return ("vhd",), "the vendor's import task takes VHD only"
    formats = tuple(schema_formats or GLANCE_DEFAULT)
    why = "its image schema lists them" if schema_formats else "Glance's default list (the schema gave none)"
    if converts and method in INTEROPERABLE:
        formats = tuple(f for f in formats if f != "vhd")
        why += "; its image_conversion plugin cannot read VHD"
    return formats, why


def travel_format(staged: str, wanted: str, method: str, schema_formats, converts: bool) -> dict:
    """{"format", "convert", "why"}: the format the data is imported in.

    staged: the format of the data the export made (a vendor export task writes VHD; a stream
    export holds the image's own format); wanted: auto, keep, or a format."""
    formats, why = accepted(method, schema_formats, converts)
    if wanted in ("auto", "keep") and staged in formats:
        return {"format": staged, "convert": False,
                "why": f"the target's {method} import takes {staged} ({why})"}
    if wanted == "keep":
        raise TransferError(f"The target's {method} import cannot take {staged} ({why}); region_transfer_disk_format "
                            "keep forbids converting it")
    if wanted == "auto":
        choice = next((f for f in PREFERENCE if f in formats), None)
        if choice is None:
            raise TransferError(f"The target's {method} import takes none of the formats this collection writes "
                                f"({', '.join(formats)}; {why})")
    else:
        if wanted not in formats:
            raise TransferError(f"The target's {method} import cannot take {wanted} ({why}: {', '.join(formats)})")
        choice = wanted
    if choice != staged and method in ("glance-download", "direct"):
        raise TransferError(f"{method} {'copies the image inside Glance' if method == 'glance-download' else 'streams the source image as it is'} "
                            f"and cannot convert {staged} to {choice}: use the web-download or upload import with "
                            "region_transfer_staging disk")
    if choice == staged:
        return {"format": staged, "convert": False, "why": f"{staged} asked for, and the target's {method} import takes it"}
    reason = f"the target's {method} import cannot take {staged} ({why})" if staged not in formats \
        else f"{choice} asked for"
    return {"format": choice, "convert": True, "why": f"{reason}: converting {staged} to {choice}"}


def choose_path(requested: str, source: dict, capabilities: dict, same_keystone: bool, direct_max_size: int,
                wanted: str = "auto", converts: bool = False, staged_on_disk: bool = False,
                export_task: bool = False) -> dict:
    """{"method", "objects", "why"}: how the region_transfer role moves an image. ``method`` is
    the import method, or ``auto`` for the staged object-store path (export, copy, then the
    method plan.yml picks there); ``objects`` whether that path's objects are made.

    With ``auto``, the shortest the clouds allow: the staged path where the target's import is
    the vendor's tasks API, where staging on disk or the export task was asked for, or where the
    source's format must be converted on the way; else glance-download where both regions share
    a Keystone and the target offers it; else direct up to ``direct_max_size`` (a stream that
    breaks restarts from the first byte); else the staged path, which resumes."""
    if requested != "auto":
        return {"method": requested, "objects": requested not in ("glance-download", "direct"), "why": "asked for"}
    capabilities = capabilities or {}
    methods, size = capabilities.get("import_methods") or [], int(source.get("size") or 0)
    staged = {"method": "auto", "objects": True}
    if capabilities.get("tasks_api"):
        return {**staged, "why": "the target imports through the vendor's tasks API"}
    if staged_on_disk or export_task:
        return {**staged, "why": "staging on disk" if staged_on_disk else "the export task was asked for"}
    try:
        as_is = not travel_format(source.get("disk_format") or "raw", wanted, "direct",
                                  capabilities.get("disk_formats"), converts)["convert"]
    except TransferError:
        as_is = False
    if not as_is:
        return {**staged, "why": f"the target cannot take the source's {source.get('disk_format')} as it is: "
                                 "converting needs the staged path"}
    if same_keystone and "glance-download" in methods:
        return {"method": "glance-download", "objects": False,
                "why": "both regions share a Keystone and the target offers glance-download: Glance copies it"}
    if size <= direct_max_size:
        return {"method": "direct", "objects": False,
                "why": f"{size} bytes, up to region_transfer_direct_max_size ({direct_max_size}): streamed through "
                       "once, no object store"}
    return {**staged, "why": f"{size} bytes, over region_transfer_direct_max_size ({direct_max_size}): the staged "
                             "path resumes where a single stream would start again"}
