from __future__ import annotations

import hashlib

import pytest
from ansible_collections.cloudimages.transfer.plugins.module_utils._dlo import (
    Dlo,
    Segment,
    SegmentStep,
    chunk_layout,
    dlo_problems,
    etag_of_etags,
    layout_problems,
    layout_steps,
    plan_segments,
    segment_name,
    split_manifest,
    stale_segments,
)
from ansible_collections.cloudimages.transfer.plugins.module_utils._errors import TransferError


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def make_dlo(parts, size=None, etag=None):
    segments = [Segment(f"disk.vhd-{n:05d}", len(p), md5(p)) for n, p in enumerate(parts, 1)]
    return Dlo("exports", "disk.vhd", "exports", "disk.vhd-", sum(len(p) for p in parts) if size is None else size,
               etag_of_etags(s.etag for s in segments) if etag is None else etag, segments)


def test_etag_of_etags_is_md5_of_the_concatenated_hex_digests():
    parts = [b"a" * 10, b"b" * 10, b"c"]
    assert etag_of_etags(md5(p) for p in parts) == md5("".join(md5(p) for p in parts).encode())


def test_a_consistent_dlo_has_no_problems():
    assert dlo_problems(make_dlo([b"a" * 10, b"b" * 10, b"c" * 3])) == []
    assert dlo_problems(make_dlo([b"only"])) == []


@pytest.mark.parametrize("parts,expected", [
    ([b"a" * 10, b"b" * 9, b"c" * 3], "is 9 bytes where the others are 10"),
    ([b"a" * 10, b"b" * 10, b"c" * 11], "last segment"),
])
def test_layout_problems_name_the_segment(parts, expected):
    problems = dlo_problems(make_dlo(parts))
    assert any(expected in p for p in problems), problems


def test_a_gap_in_numbering_is_found():
    segments = [Segment("x-00001", 5, "a"), Segment("x-00003", 5, "b"), Segment("x-00004", 2, "c")]
    assert any("gap" in p and "2" in p for p in layout_problems(segments))


def test_totals_and_etag_must_match_the_manifest():
    assert any("add up to" in p for p in dlo_problems(make_dlo([b"a" * 4], size=5)))
    assert any("ETag" in p for p in dlo_problems(make_dlo([b"a" * 4], etag="0" * 32)))
    empty_but_sized = Dlo("c", "o", "c", "o-", 100, "", [])
    assert any("no segments" in p for p in dlo_problems(empty_but_sized))


def test_chunk_layout():
    assert chunk_layout(10, 4) == [(0, 4), (4, 4), (8, 2)]
    assert chunk_layout(8, 4) == [(0, 4), (4, 4)]
    assert chunk_layout(0, 4) == []
    with pytest.raises(TransferError, match="positive"):
        chunk_layout(10, 0)
    with pytest.raises(TransferError, match="at most 99999"):
        chunk_layout(100000, 1)


def test_layout_steps_name_number_and_place_each_segment():
    steps = layout_steps("disk.vhd-", 10, 4)
    assert [(s.number, s.name, s.offset, s.size) for s in steps] == [
        (1, "disk.vhd-00001", 0, 4), (2, "disk.vhd-00002", 4, 4), (3, "disk.vhd-00003", 8, 2)]
    assert all(s.md5 is None and s.action == "transfer" for s in steps)
    assert layout_steps("disk.vhd-", 0, 4) == []


def test_segment_names_sort_in_order():
    names = [segment_name("disk.vhd-", n) for n in (1, 2, 10, 99999)]
    assert names == sorted(names) and names[0] == "disk.vhd-00001"


def test_split_manifest():
    assert split_manifest("exports/disk.vhd-") == ("exports", "disk.vhd-")
    assert split_manifest("segs/a/b/") == ("segs", "a/b/")
    with pytest.raises(TransferError):
        split_manifest("/nothing")


def test_plan_keeps_only_exact_matches():
    existing = {s.name: s for s in (Segment("p-00001", 4, md5(b"aaaa")), Segment("p-00002", 4, md5(b"xxxx")),
                                    Segment("p-00003", 3, md5(b"ccc")), Segment("p-00009", 1, md5(b"z")))}
    wanted = [SegmentStep(1, "p-00001", 4, 0, md5(b"aaaa")), SegmentStep(2, "p-00002", 4, 4, md5(b"bbbb")),
              SegmentStep(3, "p-00003", 2, 8, md5(b"cc")), SegmentStep(4, "p-00004", 1, 10, md5(b"d"))]
    plan = plan_segments(wanted, existing)
    assert [(s.action, s.reason) for s in plan] == [
        ("keep", "same size and MD5"), ("transfer", "MD5 differs"),
        ("transfer", "size 3 differs from 2"), ("transfer", "missing")]
    assert stale_segments(existing, wanted) == ["p-00009"]


def test_plan_asks_for_a_hash_when_only_the_size_is_known():
    existing = {"p-00001": Segment("p-00001", 4, md5(b"aaaa"))}
    [step] = plan_segments([SegmentStep(1, "p-00001", 4)], existing)
    assert step.action == "hash"
