# Copyright: cloudimages.transfer contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# PRIVATE: this module_utils file is internal to cloudimages.transfer; it may change or go
# away in any release. Do not import it from outside this collection.
"""image_info: images by id, name, property filters, tags, status, visibility, member status, owner."""

from __future__ import annotations

from ansible_collections.cloudimages.transfer.plugins.module_utils._glance import UUID
from ansible_collections.cloudimages.transfer.plugins.module_utils._tasks import TasksApi

FILTER_OPTIONS = ("status", "visibility", "member_status", "owner")


def run(params: dict, glance) -> dict:
    filters = dict(params.get("filters") or {})
    for key in FILTER_OPTIONS:
        if params.get(key):
            filters[key] = params[key]
    if params.get("tags"):
        filters["tag"] = list(params["tags"])
    image = params.get("image")
    found_capabilities = capabilities(glance) if params.get("capabilities") else None
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
            "tasks_api": TasksApi(glance).available()}
