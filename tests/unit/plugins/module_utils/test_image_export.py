"""The finished export's stamp: one POST that keeps what Swift would otherwise drop; the stream
export's cutting of one GET into segments."""
from __future__ import annotations

import hashlib
import os

import pytest
from ansible_collections.cloudimages.transfer.plugins.module_utils._dlo import Dlo
from ansible_collections.cloudimages.transfer.plugins.module_utils._errors import TransferError
from ansible_collections.cloudimages.transfer.plugins.module_utils._image_export import Cutter, WholeHashes, stamp


class Swift:
    def __init__(self):
        self.posts = []

    def post_object(self, container, name, headers):
        self.posts.append((container, name, headers))

    def head_object(self, container, name):  # the manifest was read already: no second HEAD
        raise AssertionError("stamp must not HEAD the manifest again")


def dlo(delete_at=None):
    return Dlo("exports", "disk.vhd", "exports", "disk.vhd-", [], {"x-object-meta-owner": "ops"}, delete_at=delete_at)


def test_the_stamp_repeats_the_manifests_expiry_and_metadata():
    swift = Swift()
    stamp(swift, dlo("1767225600"), {"id": "i-1", "checksum": "abc"}, identical=True)
    [(container, name, headers)] = swift.posts
    assert (container, name) == ("exports", "disk.vhd")
    assert headers == {"x-object-meta-owner": "ops", "X-Delete-At": "1767225600",
                       "X-Object-Manifest": "exports/disk.vhd-",
                       "X-Object-Meta-Cloudimages-Source-Image": "i-1", "X-Object-Meta-Cloudimages-Source-Checksum": "abc",
                       "X-Object-Meta-Cloudimages-Bytes-Identical": "true"}


def test_no_expiry_is_added_where_the_manifest_had_none():
    swift = Swift()
    stamp(swift, dlo(), {"id": "i-1"}, identical=False)
    assert "X-Delete-At" not in swift.posts[0][2]


class Counted:
    def __init__(self):
        self.bytes = 0

    def add(self, n):
        self.bytes += n


def test_the_stream_is_cut_into_segments_of_their_sizes_and_every_byte_hashed_once():
    data = os.urandom(10_000)
    chunks = iter([data[i:i + 777] for i in range(0, len(data), 777)])  # chunk edges fall inside segments
    whole, progress = WholeHashes("sha512"), Counted()
    cutter = Cutter(chunks, whole, progress)
    got = []
    for size in (4096, 4096, 1808):
        pieces, seg_md5 = cutter.segment(size)
        body = b"".join(pieces)
        assert seg_md5.hexdigest() == hashlib.md5(body).hexdigest()
        got.append(body)
    assert [len(b) for b in got] == [4096, 4096, 1808] and b"".join(got) == data
    assert progress.bytes == len(data)
    whole.check({"checksum": hashlib.md5(data).hexdigest(), "os_hash_value": hashlib.sha512(data).hexdigest()}, "image i")
    with pytest.raises(TransferError, match="streamed with MD5"):
        whole.check({"checksum": "0" * 32}, "image i")


def test_a_stream_that_ends_early_gives_a_short_segment():
    pieces, _md5 = Cutter(iter([b"abc"]), WholeHashes(None), Counted()).segment(10)
    assert b"".join(pieces) == b"abc"
