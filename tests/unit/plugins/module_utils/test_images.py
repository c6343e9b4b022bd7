from __future__ import annotations

import pytest
from ansible_collections.cloudimages.transfer.plugins.module_utils._errors import TransferError
from ansible_collections.cloudimages.transfer.plugins.module_utils._glance import Glance, pointer
from ansible_collections.cloudimages.transfer.plugins.module_utils._image_member import check_member_ids, plan_members
from ansible_collections.cloudimages.transfer.plugins.module_utils._image_metadata import (
    apply_ops,
    custom_properties,
    plan_patch,
    selected,
)

IMAGE = {"id": "i1", "name": "web", "status": "active", "checksum": "abc", "size": 10, "tags": ["a"],
         "os_glance_importing_to_stores": "", "os_hash_value": "f00", "visibility": "private",
         "os_distro": "ubuntu", "stale": "x", "com.mycompany.image-of": "old"}


def plan(properties=None, absent=(), purge=False, attributes=None, tags=None, purge_tags=False):
    return plan_patch(IMAGE, properties or {}, list(absent), purge, attributes or {}, tags, purge_tags)


def test_add_replace_remove():
    ops = plan({"com.mycompany.image-of": "new", "org.openstack__1__os_version": 22}, absent=["stale", "missing"])
    assert ops == [
        {"op": "replace", "path": "/com.mycompany.image-of", "value": "new"},
        {"op": "add", "path": "/org.openstack__1__os_version", "value": "22"},
        {"op": "remove", "path": "/stale"},
    ]


def test_nothing_to_do_is_an_empty_patch():
    assert plan({"os_distro": "ubuntu"}, absent=["missing"], attributes={"name": "web"}, tags=["a"]) == []


def test_purge_removes_only_custom_properties():
    ops = plan({"os_distro": "ubuntu"}, purge=True)
    assert [op["path"] for op in ops] == ["/com.mycompany.image-of", "/stale"]


def test_attributes_and_tags():
    ops = plan(attributes={"visibility": "shared", "min_disk": 20, "name": None}, tags=["b"])
    assert {"op": "replace", "path": "/visibility", "value": "shared"} in ops
    assert {"op": "replace", "path": "/tags", "value": ["a", "b"]} in ops
    assert {"op": "replace", "path": "/tags", "value": ["b"]} in plan(tags=["b"], purge_tags=True)


@pytest.mark.parametrize("key", ["checksum", "os_glance_failed_import", "os_hash_algo", "owner", "size", "name"])
def test_reserved_keys_are_refused(key):
    with pytest.raises(TransferError, match="reserved"):
        plan({key: "x"})


def test_custom_properties_leave_out_base_and_denied_keys():
    assert custom_properties(IMAGE) == {"os_distro": "ubuntu", "stale": "x", "com.mycompany.image-of": "old"}


def test_prefix_selection():
    props = {"hw_disk_bus": "scsi", "hw_vif": "e1000", "os_distro": "u", "x": "y"}
    assert selected(props, ["hw_", "os_"], ["hw_vif"]) == {"hw_disk_bus": "scsi", "os_distro": "u"}
    assert selected(props, None, None) == props


def test_pointer_escaping_and_apply():
    assert pointer("a/b~c") == "/a~1b~0c"
    ops = [{"op": "remove", "path": "/a~1b"}, {"op": "add", "path": "/d", "value": "4"}]
    after = apply_ops({"a/b": "1", "c": "2"}, ops)
    assert after == {"c": "2", "d": "4"}


def test_member_plans():
    current = [{"member_id": "p1", "status": "accepted"}, {"member_id": "p2", "status": "pending"}]
    assert plan_members(current, ["p2", "p3"], "present", False) == (["p3"], [])
    assert plan_members(current, ["p2", "p3"], "present", True) == (["p3"], ["p1"])
    assert plan_members(current, ["p2", "p9"], "absent", False) == ([], ["p2"])
    check_member_ids(["0123abcd", "tenant-1"])
    with pytest.raises(TransferError, match="not a/project"):
        check_member_ids(["not a/project"])


class Pages:
    def __init__(self):
        self.urls = []

    def request(self, method, url, what, params=None, ok=(), **kwargs):
        self.urls.append((url, params))
        resp = type("R", (), {})()
        marker = url.split("marker=")[1] if "marker=" in url else ""
        page = {"": (["a", "b"], "/v2/images?marker=b"), "b": (["c"], "/v2/images?marker=c"), "c": ([], None)}[marker]
        resp.json = lambda: {"images": [{"id": i} for i in page[0]], **({"next": page[1]} if page[1] else {})}
        return resp


def test_lists_follow_next_to_the_end_with_the_filters_on_the_server():
    glance = Glance.__new__(Glance)
    glance.http, glance.url, glance.region = Pages(), "http://g", "R1"
    assert [i["id"] for i in glance.list_images({"os_distro": "ubuntu", "tag": ["x", "y"]})] == ["a", "b", "c"]
    first_params = glance.http.urls[0][1]
    assert first_params["os_distro"] == "ubuntu" and first_params["tag"] == ["x", "y"]
    assert [call[0] for call in glance.http.urls[1:]] == ["http://g/v2/images?marker=b", "http://g/v2/images?marker=c"]
