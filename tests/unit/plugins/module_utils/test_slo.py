from __future__ import annotations

import base64
import hashlib

import pytest
from ansible_collections.cloudimages.transfer.plugins.module_utils._dlo import Segment, SegmentStep
from ansible_collections.cloudimages.transfer.plugins.module_utils._errors import TransferError
from ansible_collections.cloudimages.transfer.plugins.module_utils._slo import (
    cut,
    manifest_entries,
    parse_range,
    pieces_of,
    same_entries,
    slo_etag,
)


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


@pytest.mark.parametrize("spec,expected", [("0-9", (0, 9)), ("5-", (5, 99)), ("-10", (90, 99)), ("90-200", (90, 99))])
def test_ranges_as_swift_reads_them(spec, expected):
    assert parse_range(spec, 100) == expected


@pytest.mark.parametrize("spec", ["x-y", "50-10", "200-"])
def test_a_range_that_selects_nothing_is_refused(spec):
    with pytest.raises(TransferError):
        parse_range(spec, 100)


def test_the_slo_etag_follows_swift_for_ranges_and_inline_data():
    entries = [{"name": "/c/a", "hash": "aa", "bytes": 10}, {"name": "/c/b", "hash": "bb", "bytes": 10, "range": "1-2"},
               {"data": base64.b64encode(b"hi").decode()}]
    assert slo_etag(entries) == md5(("aa" + "bb:1-2;" + md5(b"hi")).encode())


def test_cut_trims_pieces_to_a_byte_range():
    pieces = [Segment("a", 4, "ea", "c"), Segment("b", 4, "eb", "c", (10, 13)), Segment("(inline)", 3, "x", data=b"xyz")]
    assert cut(pieces, 2, 9) == [Segment("a", 2, "ea", "c", (2, 3)), Segment("b", 4, "eb", "c", (10, 13)),
                                 Segment("(inline)", 2, "x", data=b"xy")]
    assert cut(pieces, 0, 3) == [pieces[0]]


class FakeSwift:
    def __init__(self, manifests):
        self.manifests = manifests

    def get_slo_manifest(self, container, name):
        return self.manifests[(container, name)]


def test_nested_slos_ranges_and_inline_data_flatten_in_order():
    inner = [{"name": "/segs/one", "hash": "e1", "bytes": 5}, {"name": "/segs/two", "hash": "e2", "bytes": 5}]
    outer = [{"name": "/other/zero", "hash": "e0", "bytes": 3},
             {"name": "/c/inner", "hash": "ei", "bytes": 10, "sub_slo": True, "range": "3-7"},
             {"data": base64.b64encode(b"tail").decode()}]
    pieces = pieces_of(FakeSwift({("c", "inner"): inner}), outer)
    assert [(p.container, p.name, p.size, p.byte_range, p.data) for p in pieces] == [
        ("other", "zero", 3, None, None), ("segs", "one", 2, (3, 4), None), ("segs", "two", 3, (0, 2), None),
        ("", "(inline data 3)", 4, None, b"tail")]
    assert [p.md5 for p in pieces] == ["e0", None, None, md5(b"tail")]


def test_names_with_spaces_and_non_ascii_are_kept_as_given():
    [piece] = pieces_of(FakeSwift({}), [{"name": "/c_segments/mi disco ñ.vhd/1/2/3/00000000", "hash": "e",
                                         "bytes": 1}])
    assert (piece.container, piece.name) == ("c_segments", "mi disco ñ.vhd/1/2/3/00000000")


def test_the_written_manifest_is_compared_entry_by_entry():
    steps = [SegmentStep(1, "o-00001", 4, 0, "m1"), SegmentStep(2, "o-00002", 1, 4, "m2")]
    wanted = manifest_entries("segs", steps)
    held = [{"name": "/segs/o-00001", "hash": "m1", "bytes": 4, "content_type": "x"},
            {"name": "/segs/o-00002", "hash": "m2", "bytes": 1}]
    assert same_entries(held, wanted)
    assert not same_entries(held[:1], wanted)
    assert not same_entries([held[0], {**held[1], "range": "0-0"}], wanted)
