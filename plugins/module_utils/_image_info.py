# Copyright: cloudimages.transfer contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# PRIVATE: this module_utils file is internal to cloudimages.transfer; it may change or go
# away in any release. Do not import it from outside this collection.
"""image_info: images by id, name, property filters, tags, status, visibility, member status, owner."""

from __future__ import annotations

from ansible_collections.cloudimages.transfer.plugins.module_utils._glance import UUID

FILTER_OPTIONS = ("status", "visibility", "member_status", "owner")


def run(params: dict, glance) -> dict:
    filters = dict(params.get("filters") or {})
    for key in FILTER_OPTIONS:
        if params.get(key):
            filters[key] = params[key]
    if params.get("tags"):
        filters["tag"] = list(params["tags"])
    image = params.get("image")
    if image and UUID.match(image) and not filters:
        found = glance.get_image(image)
        images = [found] if found else []
    else:
        if image:
            filters["name"] = image
        images = glance.list_images(filters)
    described = ", ".join(f"{k}={v}" for k, v in filters.items()) or "no filter"
    return {"changed": False, "images": images, "region": glance.region,
            "msg": f"{len(images)} images in region {glance.region} match {described}"}
