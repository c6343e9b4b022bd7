"""Leases on a shared export: container metadata that a POST sets or removes key by key, as Swift
keeps it; the cleanup deletes only when no other run still reads."""
from __future__ import annotations

import time

import pytest
from ansible_collections.cloudimages.transfer.plugins.module_utils import _dlo_upload, _leases
from ansible_collections.cloudimages.transfer.plugins.module_utils._errors import TransferError
from ansible_collections.cloudimages.transfer.tests.unit.plugins.module_utils.memory_swift import MemorySwift


def container():
    """The export container with one DLO in it (one segment), in the in-memory object store."""
    swift = MemorySwift()
    swift.put_container("exports")
    swift.put_object("exports", "disk.vhd-00001", b"segment")
    swift.put_object("exports", "disk.vhd", b"", headers={"X-Object-Manifest": "exports/disk.vhd-"})
    return swift


def deleted(swift):
    return [name for verb, name in swift.calls if verb == "DELETE"]


def meta(swift):
    return swift.containers["exports"]["meta"]


def absent(holder):
    return _dlo_upload.Options(container="exports", object="disk.vhd", state="absent", lease_holder=holder)


def test_the_first_run_to_finish_leaves_the_export_the_other_still_reads():
    swift = container()
    _leases.take(swift, "exports", "disk.vhd", "runa", 3600)
    _leases.take(swift, "exports", "disk.vhd", "runb", 3600)
    _leases.take(swift, "exports", "other.vhd", "runc", 3600)  # another image's lease counts for nothing here
    first = _dlo_upload.delete(absent("runa"), swift, False)
    assert (first["changed"], first["leased_by"], deleted(swift)) == (False, ["runb"], [])
    assert "is still read by another run (lease runb)" in first["msg"]
    planned = _dlo_upload.delete(absent("runb"), swift, True)  # check mode: would delete, lets nothing go
    assert planned["changed"] and deleted(swift) == [] and _leases.key("disk.vhd", "runb") in meta(swift)
    last = _dlo_upload.delete(absent("runb"), swift, False)
    assert last["changed"] and deleted(swift) == ["exports/disk.vhd", "exports/disk.vhd-00001"]
    assert list(meta(swift)) == [_leases.key("other.vhd", "runc")]


def test_expired_leases_hold_nothing_and_are_swept():
    swift = container()
    meta(swift)[_leases.key("disk.vhd", "killed")] = str(int(time.time()) - 1)
    meta(swift)[_leases.PREFIX + "garbage"] = "not a time"
    _leases.take(swift, "exports", "disk.vhd", "runa", 3600)
    assert list(meta(swift)) == [_leases.key("disk.vhd", "runa")]
    meta(swift)[_leases.key("disk.vhd", "killed")] = str(int(time.time()) - 1)
    assert _dlo_upload.delete(absent("runa"), swift, False)["changed"] and meta(swift) == {}


def test_a_holder_is_a_short_plain_name():
    for holder in ("", "Run-1", "a" * 25, "x/y"):
        with pytest.raises(TransferError, match="lease_holder must be"):
            _leases.take(container(), "exports", "disk.vhd", holder, 60)
