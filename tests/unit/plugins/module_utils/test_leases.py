"""Leases on a shared export: container metadata that a POST sets or removes key by key, as Swift
keeps it; the cleanup deletes only when no other run still reads."""
from __future__ import annotations

import time

import pytest
from ansible_collections.cloudimages.transfer.plugins.module_utils import _dlo_upload, _leases
from ansible_collections.cloudimages.transfer.plugins.module_utils._errors import TransferError


class Container:
    """One container's metadata and one object in it, as Swift answers for them."""

    def __init__(self):
        self.meta, self.deleted, self.region = {}, [], "R1"
        self.objects = {"disk.vhd": {"x-object-manifest": "exports/disk.vhd-"}}

    def head_container(self, container):
        return dict(self.meta)

    def post_container(self, container, headers):
        for name, value in headers.items():
            name = name.lower()
            if name.startswith("x-remove-container-meta-"):
                self.meta.pop("x-container-meta-" + name[len("x-remove-container-meta-"):], None)
            else:
                self.meta[name] = value

    def head_object(self, container, name):
        return self.objects.get(name)

    def list_objects(self, container, prefix=""):
        return []

    def delete_object(self, container, name):
        self.deleted.append(name)
        self.objects.pop(name, None)
        return True


def absent(holder):
    return _dlo_upload.Options(container="exports", object="disk.vhd", state="absent", lease_holder=holder)


def test_the_first_run_to_finish_leaves_the_export_the_other_still_reads():
    swift = Container()
    _leases.take(swift, "exports", "disk.vhd", "runa", 3600)
    _leases.take(swift, "exports", "disk.vhd", "runb", 3600)
    _leases.take(swift, "exports", "other.vhd", "runc", 3600)  # another image's lease counts for nothing here
    first = _dlo_upload.delete(absent("runa"), swift, False)
    assert (first["changed"], first["leased_by"], swift.deleted) == (False, ["runb"], [])
    assert "is still read by another run (lease runb)" in first["msg"]
    planned = _dlo_upload.delete(absent("runb"), swift, True)  # check mode: would delete, lets nothing go
    assert planned["changed"] and swift.deleted == [] and _leases.key("disk.vhd", "runb") in swift.meta
    last = _dlo_upload.delete(absent("runb"), swift, False)
    assert last["changed"] and swift.deleted == ["disk.vhd"]
    assert list(swift.meta) == [_leases.key("other.vhd", "runc")]


def test_expired_leases_hold_nothing_and_are_swept():
    swift = Container()
    swift.meta[_leases.key("disk.vhd", "killed")] = str(int(time.time()) - 1)
    swift.meta[_leases.PREFIX + "garbage"] = "not a time"
    _leases.take(swift, "exports", "disk.vhd", "runa", 3600)
    assert list(swift.meta) == [_leases.key("disk.vhd", "runa")]
    swift.meta[_leases.key("disk.vhd", "killed")] = str(int(time.time()) - 1)
    assert _dlo_upload.delete(absent("runa"), swift, False)["changed"] and swift.meta == {}


def test_a_holder_is_a_short_plain_name():
    for holder in ("", "Run-1", "a" * 25, "x/y"):
        with pytest.raises(TransferError, match="lease_holder must be"):
            _leases.take(Container(), "exports", "disk.vhd", holder, 60)
