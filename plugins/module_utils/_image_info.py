# Copyright: cloudimages.transfer contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# PRIVATE: this module_utils file is internal to cloudimages.transfer; it may change or go
# away in any release. Do not import it from outside this collection.
"""image_info: images by id, name, property filters, tags, status, visibility, member status, owner."""

from __future__ import annotations

from dataclasses import dataclass, field

from ansible_collections.cloudimages.transfer.plugins.module_utils._glance import UUID
from ansible_collections.cloudimages.transfer.plugins.module_utils._options import from_params
from ansible_collections.cloudimages.transfer.plugins.module_utils._tasks import TasksApi

FILTER_OPTIONS = ("status", "visibility", "member_status", "owner")


@dataclass(frozen=True)
class Options:
    """What image_info was asked for, unpacked once from the module's parameters."""

    image: str | None = None
    filters: dict = field(default_factory=dict)
    tags: list = field(default_factory=list)
    status: str | None = None
    visibility: str | None = None
    member_status: str | None = None
    owner: str | None = None
    capabilities: bool = False

    from_params = classmethod(from_params)


def run(opts: Options, glance) -> dict:
    filters = dict(opts.filters)
    for key in FILTER_OPTIONS:
        if getattr(opts, key):
            filters[key] = getattr(opts, key)
    if opts.tags:
        filters["tag"] = list(opts.tags)
    image = opts.image
    found_capabilities = capabilities(glance) if opts.capabilities else None
    if found_capabilities is not None and not image and not filters:
        return {"changed": False, "images": [], "region": glance.region, "capabilities": found_capabilities,
                "msg": f"region {glance.region} imports {', '.join(found_capabilities['disk_formats']) or 'unlisted formats'}"
                       f" by {', '.join(found_capabilities['import_methods'] + ['task'] * found_capabilities['tasks_api'])}"}
    if image and UUID.match(image) and not filters:
        found = glance.get_image(image)
        images = [found] if found else []
    else:
        if image:
            filters["name"] = image
        images = glance.list_images(filters)
    described = ", ".join(f"{k}={v}" for k, v in filters.items()) or "no filter"
    result = {"changed": False, "images": images, "region": glance.region,
              "msg": f"{len(images)} images in region {glance.region} match {described}"}
    if found_capabilities is not None:
        result["capabilities"] = found_capabilities
    return result


def capabilities(glance) -> dict:
    return {"import_methods": sorted(glance.import_methods()), "disk_formats": glance.disk_formats(),
            "tasks_api": TasksApi(glance).available(), "stores": glance.stores()}
