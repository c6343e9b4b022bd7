# Copyright: cloudimages.transfer contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# PRIVATE: this module_utils file is internal to cloudimages.transfer; it may change or go
# away in any release. Do not import it from outside this collection.
"""The Swift object-store API calls the collection makes, through the shared HTTP client."""

from __future__ import annotations

from urllib.parse import quote, unquote, urlsplit

from ansible_collections.cloudimages.transfer.plugins.module_utils._errors import TransferError

# a listing that long (a million segments: 4 TiB in 4 MiB ones) is a server's loop, not a large object
MAX_LISTED = 1_000_000


def publicly_readable(headers: dict) -> bool:
    """Whether a container's read ACL lets anyone read it: a referrer grant (``.r:*``,
    ``.r:example.com``; ``.r:-...`` only denies)."""
    grants = [g.strip() for g in (headers.get("x-container-read") or "").split(",")]
    return any(g.startswith(".r:") and not g.startswith(".r:-") for g in grants)


def refuse_public(swift, container: str, headers: dict | None, allow: bool) -> None:
    """A full disk image is not written into a container anyone may read, unless asked to."""
    if headers is not None and not allow and publicly_readable(headers):
        raise TransferError(f"{swift.where(container)} is readable by anyone (X-Container-Read: "
                            f"{headers.get('x-container-read')}); refusing to write a disk image into it (choose "
                            "another container, or set allow_public_container if it is meant to be public)",
                            public=container)


def lower_keys(headers) -> dict:
    """HTTP header names are case-insensitive; the collection reads them lower-cased."""
    return {key.lower(): value for key, value in headers.items()}


class Swift:
    """One object store (one region of one identity)."""

    def __init__(self, connection):
        self.conn = connection
        self.http = connection.http
        self.region = connection.region or "(default region)"
        self.url = connection.endpoint("object-store")
        self._info = None

    def where(self, container: str, name: str | None = None) -> str:
        return f"{container}/{name} in region {self.region}" if name else f"container {container} in region {self.region}"

    def _url(self, container: str, name: str | None = None) -> str:
        """Every path element percent-encoded; a name the HTTP stack would normalise is refused.

        Swift stores ``a/../b`` literally, but URL handling removes dot segments
        (``/c/a/../b`` becomes ``/c/b``, even from ``%2E%2E``), so such a request would reach
        another object, or another container, than the one named.
        """
        for part, kind in ((container, "container"), (name, "object")):
            if part is not None and any(piece in (".", "..") for piece in part.split("/")):
                raise TransferError(f"Refusing the {kind} name {part!r} in region {self.region}: it has a '.' or "
                                    "'..' path segment, which HTTP would resolve to another object", unsafe_name=part)
        url = f"{self.url}/{quote(container, safe='')}"
        return f"{url}/{quote(name, safe='/')}" if name is not None else url

    def object_paths(self, container: str, name: str) -> tuple[str, str]:
        """(the decoded path Swift's middlewares see, e.g. for a TempURL signature; the encoded URL)."""
        url = self._url(container, name)
        return f"{unquote(urlsplit(self.url).path)}/{container}/{name}", url

    def info(self) -> dict:
        """The cluster's /info constraints (max_file_size, container_listing_limit, ...); {} where hidden."""
        return self.info_of("swift")

    def info_of(self, section: str) -> dict:
        """One section of the cluster's /info (``swift``, ``slo``, ``tempurl``...); {} where absent or hidden."""
        if self._info is None:
            root = self.url.split("/v1/", 1)[0]
            try:
                resp = self.http.request("GET", f"{root}/info", f"read the /info of region {self.region}",
                                         ok=(200, 404, 403, 401))
                self._info = resp.json() if resp.status_code == 200 else {}
            except (TransferError, ValueError):
                self._info = {}
        return self._info.get(section) or {}

    def head_account(self) -> dict:
        """The account's headers, names lower-cased."""
        resp = self.http.request("HEAD", self.url, f"read the account in region {self.region}", ok=(200, 204))
        return lower_keys(resp.headers)

    def post_account(self, headers: dict) -> None:
        """Set or remove account metadata (safe to repeat)."""
        self.http.request("POST", self.url, f"update the account's metadata in region {self.region}",
                          headers=headers, ok=(204,), idempotent=True)

    def head_container(self, container: str) -> dict | None:
        """The container's headers, names lower-cased; None if it does not exist."""
        resp = self.http.request("HEAD", self._url(container), f"read {self.where(container)}", ok=(200, 204, 404))
        return None if resp.status_code == 404 else lower_keys(resp.headers)

    def post_container(self, container: str, headers: dict) -> None:
        """Set or remove the container metadata named (others are kept; safe to repeat)."""
        self.http.request("POST", self._url(container), f"update the metadata of {self.where(container)}",
                          headers=headers, ok=(204,), idempotent=True)

    def put_container(self, container: str) -> None:
        self.http.request("PUT", self._url(container), f"create {self.where(container)}", ok=(201, 202, 204))

    def head_object(self, container: str, name: str) -> dict | None:
        """The object's headers, names lower-cased (for a DLO manifest: the totals over its
        segments); None if it does not exist."""
        resp = self.http.request("HEAD", self._url(container, name), f"read {self.where(container, name)}",
                                 ok=(200, 204, 404))
        return None if resp.status_code == 404 else lower_keys(resp.headers)

    def list_objects(self, container: str, prefix: str = "") -> list[dict]:
        """Every object under the prefix, in Swift's order: pages are followed by marker to the end."""
        found, marker = [], ""
        while True:
            params = {"format": "json", "prefix": prefix}
            if marker:
                params["marker"] = marker
            resp = self.http.request("GET", self._url(container), f"list {self.where(container)} (prefix {prefix!r})",
                                     params=params, ok=(200, 204, 404))
            if resp.status_code == 404:
                raise TransferError(f"Container {container} does not exist in region {self.region}", missing=container)
            page = resp.json() if resp.status_code == 200 else []
            if not page:
                return found
            found.extend(page)
            if page[-1]["name"] <= marker or len(found) > MAX_LISTED:
                raise TransferError(f"Listing {self.where(container)} (prefix {prefix!r}) did not move past "
                                    f"{marker!r} or went past {MAX_LISTED} objects; refusing to go on")
            marker = page[-1]["name"]

    def get_object(self, container: str, name: str, headers: dict | None = None):
        """A streamed GET (the caller reads and closes it)."""
        return self.http.request("GET", self._url(container, name), f"download {self.where(container, name)}",
                                 headers=headers, stream=True, ok=(200, 206))

    def put_object(self, container: str, name: str, body, *, length: int | None = None, etag: str | None = None,
                   headers: dict | None = None, retry: bool = True, what: str | None = None):
        sent = dict(headers or {})
        if length is not None:
            sent["Content-Length"] = str(length)
        if etag:
            sent["ETag"] = etag
        return self.http.request("PUT", self._url(container, name), what or f"upload {self.where(container, name)}",
                                 headers=sent, body=body, retry=retry, ok=(201,))

    def get_slo_manifest(self, container: str, name: str) -> list:
        """A Static Large Object's manifest entries (``?multipart-manifest=get``)."""
        resp = self.http.request("GET", self._url(container, name), f"read the SLO manifest {self.where(container, name)}",
                                 params={"multipart-manifest": "get", "format": "json"}, ok=(200,))
        try:
            entries = resp.json()
        except ValueError:
            raise TransferError(f"The SLO manifest {self.where(container, name)} is not JSON") from None
        if not isinstance(entries, list):
            raise TransferError(f"The SLO manifest {self.where(container, name)} is not a list of segments")
        return entries

    def put_slo_manifest(self, container: str, name: str, body: bytes, etag: str, headers: dict | None = None):
        """Write an SLO manifest; Swift checks every segment's size and ETag, and the whole ETag."""
        sent = {"Content-Type": "application/octet-stream"}
        sent.update({key.title() if key.lower() == "content-type" else key: value for key, value in (headers or {}).items()})
        sent["ETag"] = etag
        return self.http.request("PUT", self._url(container, name), f"write the SLO manifest {self.where(container, name)}",
                                 params={"multipart-manifest": "put"}, headers=sent, body=body, ok=(201,))

    def delete_slo(self, container: str, name: str) -> None:
        """Delete an SLO and every segment its manifest references (``?multipart-manifest=delete``)."""
        resp = self.http.request("DELETE", self._url(container, name), f"delete the SLO {self.where(container, name)}",
                                 params={"multipart-manifest": "delete"}, headers={"Accept": "application/json"},
                                 ok=(200, 204, 404))
        if resp.status_code != 200:
            return
        try:
            report = resp.json()
        except ValueError:
            return
        if report.get("Errors"):
            raise TransferError(f"Swift deleted the SLO {self.where(container, name)} only in part "
                                f"({report.get('Response Status')}): {report['Errors'][:5]}")

    def post_object(self, container: str, name: str, headers: dict) -> None:
        self.http.request("POST", self._url(container, name), f"update the metadata of {self.where(container, name)}",
                          headers=headers, ok=(202, 204), idempotent=True)  # sets metadata: safe to repeat

    def delete_object(self, container: str, name: str) -> bool:
        """Delete; False when it was already gone."""
        resp = self.http.request("DELETE", self._url(container, name), f"delete {self.where(container, name)}",
                                 ok=(204, 200, 404))
        return resp.status_code != 404
