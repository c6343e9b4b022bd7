"""The Glance client's own logic: JSON pointers and listings that follow 'next' to the end."""
from __future__ import annotations

from ansible_collections.cloudimages.transfer.plugins.module_utils._glance import Glance, pointer


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
