from __future__ import annotations

import pytest
from ansible_collections.cloudimages.transfer.plugins.module_utils._errors import TransferError
from ansible_collections.cloudimages.transfer.plugins.module_utils._formats import (
    choose_import_method,
    choose_path,
    travel_format,
)

SCHEMA = ["ami", "ari", "aki", "vhd", "vhdx", "vmdk", "raw", "qcow2", "vdi", "iso", "ploop"]


@pytest.mark.parametrize("has_object,has_source,tasks,methods,expected", [
    (True, True, True, {"web-download"}, "task"),
    (True, True, False, {"web-download", "glance-download"}, "web-download"),
    (True, False, False, {"glance-direct"}, "upload"),
    (False, True, False, {"glance-download"}, "glance-download"),
    (False, True, False, {"glance-direct", "web-download"}, "direct"),
])
def test_the_import_method_auto_picks(has_object, has_source, tasks, methods, expected):
    assert choose_import_method(has_object, has_source, tasks, methods) == expected


def test_without_an_object_or_a_source_image_no_method_fits():
    with pytest.raises(TransferError, match="No method fits"):
        choose_import_method(False, False, True, {"web-download"})


def test_direct_streams_the_source_as_it_is_and_cannot_convert():
    with pytest.raises(TransferError, match="direct streams the source image as it is and cannot convert vhd to qcow2"):
        travel_format("vhd", "auto", "direct", SCHEMA, True)


def test_an_export_the_target_takes_travels_as_it_is():
    assert travel_format("vhd", "auto", "task", SCHEMA, False) == {
        "format": "vhd", "convert": False, "why": "the target's task import takes vhd (the vendor's import task takes VHD only)"}
    assert travel_format("vhd", "auto", "upload", SCHEMA, True)["convert"] is False  # PUT /file passes no plugin


def test_a_vhd_for_a_converting_glance_becomes_qcow2():
    plan = travel_format("vhd", "auto", "web-download", SCHEMA, True)
    assert (plan["format"], plan["convert"]) == ("qcow2", True)
    assert plan["why"] == ("the target's web-download import cannot take vhd (its image schema lists them; its "
                           "image_conversion plugin cannot read VHD): converting vhd to qcow2")


def test_a_qcow2_for_the_vendors_task_becomes_vhd():
    plan = travel_format("qcow2", "auto", "task", SCHEMA, False)
    assert (plan["format"], plan["convert"]) == ("vhd", True)


def test_an_asked_format_is_converted_to_and_must_be_taken():
    assert travel_format("qcow2", "raw", "upload", SCHEMA, False)["why"] == "raw asked for: converting qcow2 to raw"
    assert travel_format("raw", "raw", "upload", SCHEMA, False)["convert"] is False
    with pytest.raises(TransferError, match="task import cannot take qcow2"):
        travel_format("vhd", "qcow2", "task", SCHEMA, False)


def test_keep_and_glance_download_never_convert():
    with pytest.raises(TransferError, match="keep forbids converting"):
        travel_format("vhd", "keep", "web-download", SCHEMA, True)
    with pytest.raises(TransferError, match="glance-download copies the image inside Glance and cannot convert"):
        travel_format("vhd", "auto", "glance-download", SCHEMA, True)


def test_a_schema_without_formats_falls_back_to_glances_default_list():
    assert travel_format("ploop", "auto", "upload", [], False)["convert"] is False
    assert travel_format("vhd", "auto", "web-download", ["raw"], True)["format"] == "raw"


CAPS = {"import_methods": ["glance-direct", "web-download", "glance-download"], "disk_formats": SCHEMA,
        "tasks_api": False}
GiB = 1024 ** 3


@pytest.mark.parametrize("caps,same,size,kw,method,objects,why", [
    (CAPS, True, GiB, {}, "glance-download", False, "share a Keystone"),
    (CAPS, False, GiB, {}, "direct", False, "up to region_transfer_direct_max_size"),
    ({**CAPS, "import_methods": ["glance-direct"]}, True, GiB, {}, "direct", False, "streamed through once"),
    (CAPS, False, 65 * GiB, {}, "auto", True, "over region_transfer_direct_max_size"),
    ({**CAPS, "tasks_api": True}, True, GiB, {}, "auto", True, "vendor's tasks API"),
    (CAPS, True, GiB, {"staged_on_disk": True}, "auto", True, "staging on disk"),
    (CAPS, True, GiB, {"export_task": True}, "auto", True, "export task"),
    (CAPS, True, GiB, {"wanted": "qcow2"}, "auto", True, "converting needs the staged path"),
])
def test_auto_takes_the_shortest_path_the_clouds_allow(caps, same, size, kw, method, objects, why):
    path = choose_path("auto", {"size": size, "disk_format": "raw"}, caps, same, 64 * GiB, **kw)
    assert (path["method"], path["objects"]) == (method, objects) and why in path["why"]


def test_a_vhd_into_a_converting_glance_goes_through_the_object_stores_to_be_converted():
    path = choose_path("auto", {"size": GiB, "disk_format": "vhd"}, CAPS, True, 64 * GiB, converts=True)
    assert (path["method"], path["objects"]) == ("auto", True) and "cannot take the source's vhd as it is" in path["why"]


def test_a_method_asked_for_is_taken_as_it_is():
    assert choose_path("direct", {}, {}, False, 0) == {"method": "direct", "objects": False, "why": "asked for"}
    assert choose_path("web-download", {}, {}, True, 0)["objects"] is True
