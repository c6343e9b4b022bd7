"""The finished export's stamp: one POST that keeps what Swift would otherwise drop."""
from __future__ import annotations

from ansible_collections.cloudimages.transfer.plugins.module_utils._dlo import Dlo
from ansible_collections.cloudimages.transfer.plugins.module_utils._image_export import stamp


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
