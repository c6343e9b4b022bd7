"""The Glance client's own logic: JSON pointers and listings that follow 'next' to the end, on the
same server and within bounds (and Swift's listings, whose marker must advance)."""
from __future__ import annotations

import pytest
from ansible_collections.cloudimages.transfer.plugins.module_utils import _glance
from ansible_collections.cloudimages.transfer.plugins.module_utils._errors import TransferError
from ansible_collections.cloudimages.transfer.plugins.module_utils._glance import Glance, pointer
from ansible_collections.cloudimages.transfer.plugins.module_utils._swift import Swift


def test_pointers_escape_slash_and_tilde():
    assert pointer("a/b~c") == "/a~1b~0c"


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


class Served:
    """Answers each listing request with the next of the given documents."""

    def __init__(self, *docs):
        self.docs, self.urls = list(docs), []

    def request(self, method, url, what, params=None, ok=(), **kwargs):
        self.urls.append(url)
        resp = type("R", (), {})()
        doc = self.docs.pop(0) if len(self.docs) > 1 else self.docs[0]
        resp.json = lambda: doc
        return resp


def glance_with(http):
    glance = Glance.__new__(Glance)
    glance.http, glance.url, glance.region = http, "http://g:9292/image", "R1"
    return glance


def test_a_next_link_to_another_server_is_not_followed():
    http = Served({"images": [{"id": "a"}], "next": "http://evil.example:9292/v2/images?marker=a"})
    with pytest.raises(TransferError, match=r"pointed the next page of images at another server \(evil.example:9292\)"):
        glance_with(http).list_images()
    assert http.urls == ["http://g:9292/image/v2/images"]
    # a scheme-relative link is read as a path on the same server
    http = Served({"images": [{"id": "a"}], "next": "//evil.example/v2/images?marker=a"}, {"images": []})
    glance_with(http).list_images()
    assert http.urls[1] == "http://g:9292/image/evil.example/v2/images?marker=a"


def test_a_listing_that_never_ends_is_bounded(monkeypatch):
    http = Served(*({"images": [{"id": "a"}], "next": f"/v2/images?marker={n}"} for n in range(10)))
    monkeypatch.setattr(_glance, "MAX_PAGES", 5)
    with pytest.raises(TransferError, match="went past 5 pages"):
        glance_with(http).list_images()


class Listing:
    def __init__(self, *pages):
        self.pages = list(pages)

    def request(self, method, url, what, params=None, ok=(), **kwargs):
        resp = type("R", (), {"status_code": 200})()
        page = self.pages.pop(0) if len(self.pages) > 1 else self.pages[0]
        resp.json = lambda: [{"name": n} for n in page]
        return resp


def test_a_swift_listing_whose_marker_does_not_advance_is_refused():
    swift = Swift.__new__(Swift)
    swift.http, swift.region, swift.url = Listing(["a", "b"], ["b"]), "R1", "http://s/v1/AUTH_x"
    with pytest.raises(TransferError, match="did not move past 'b'"):
        swift.list_objects("c", "")
    swift.http = Listing(["a", "b"], ["c"], [])
    assert [o["name"] for o in swift.list_objects("c", "")] == ["a", "b", "c"]


def test_a_container_is_public_when_its_read_acl_grants_any_referrer():
    from ansible_collections.cloudimages.transfer.plugins.module_utils._swift import publicly_readable
    assert [publicly_readable({"x-container-read": acl}) for acl in
            (".r:*", ".r:*,.rlistings", " .r:example.com", "AUTH_abc:*", ".r:-bad.example", "")] == \
        [True, True, True, False, False, False]
    assert not publicly_readable({})
