# Copyright: cloudimages.transfer contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# PRIVATE: this module_utils file is internal to cloudimages.transfer; it may change or go
# away in any release. Do not import it from outside this collection.
"""The Images v2 API calls the collection makes (upstream Glance and the vendors' Cloud Images).

Lists are always filtered on the server (``?key=value``) and followed through every
``next`` link; nothing is found by scanning all images on the client.
"""

from __future__ import annotations

import json
import re
from urllib.parse import quote, urljoin, urlsplit

from ansible_collections.cloudimages.transfer.plugins.module_utils._errors import TransferError
from ansible_collections.cloudimages.transfer.plugins.module_utils._http import HttpError, create_once

PATCH_TYPE = "application/openstack-images-v2.1-json-patch"
UUID = re.compile(r"^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$")
PAGE = 200
MAX_PAGES = 1000  # 200,000 images: past that a listing is a server's loop, or filters too wide


def pointer(key: str) -> str:
    """A JSON pointer for a top-level key (RFC 6901 escaping)."""
    return "/" + key.replace("~", "~0").replace("/", "~1")


class Glance:
    """One Images v2 endpoint (one region of one identity)."""

    def __init__(self, connection):
        self.conn = connection
        self.http = connection.http
        self.region = connection.region or "(default region)"
        # a catalog may list the root or a versioned URL (the vendors' .../v2)
        self.url = re.sub(r"/v2(\.\d+)?$", "", connection.endpoint("image"))

    def where(self, image_id: str) -> str:
        return f"image {image_id} in region {self.region}"

    def _call(self, method: str, path: str, what: str, ok=(200,), **kwargs):
        try:
            return self.http.request(method, f"{self.url}{path}", what, ok=ok, **kwargs)
        except HttpError as exc:
            if exc.status == 403:
                raise HttpError(f"{exc.msg} (the credentials' project may not do this in region {self.region})",
                                403) from None
            raise

    def get_image(self, image_id: str) -> dict | None:
        resp = self._call("GET", f"/v2/images/{quote(image_id, safe='')}", f"read {self.where(image_id)}",
                          ok=(200, 404))
        return None if resp.status_code == 404 else resp.json()

    def list_images(self, filters: dict | None = None) -> list:
        """Every image matching the server-side filters, following ``next`` to the last page."""
        params = {"limit": str(PAGE)}
        for key, value in (filters or {}).items():
            if value is not None:  # a list repeats the key (?tag=a&tag=b: images with both)
                params[key] = [str(v) for v in value] if isinstance(value, list) else str(value)
        url, found, seen = f"{self.url}/v2/images", [], set()
        while url:
            resp = self.http.request("GET", url, f"list images in region {self.region}", params=params, ok=(200,))
            doc = resp.json()
            found.extend(doc.get("images", []))
            nxt = doc.get("next")
            if not nxt or nxt in seen:
                break
            seen.add(nxt)
            url, params = urljoin(self.url + "/", nxt.lstrip("/")), None
            if urlsplit(url)[:2] != urlsplit(self.url)[:2]:
                raise TransferError(f"Glance in region {self.region} pointed the next page of images at another "
                                    f"server ({urlsplit(url).netloc}); refusing to send this session's token there")
            if len(seen) >= MAX_PAGES:
                raise TransferError(f"Listing images in region {self.region} went past {MAX_PAGES} pages of {PAGE}; "
                                    "narrow the filters")
        return found

    def find_image(self, image: str | None = None, filters: dict | None = None) -> dict:
        """The one image named by id, by name, or by filters; zero or several is an error."""
        if image and UUID.match(image):
            found = self.get_image(image)
            if found is not None:
                return found
        query = dict(filters or {})
        if image:
            query["name"] = image
        if not query:
            raise TransferError("Name the image: give image (an id or a name) or filters")
        matches = self.list_images(query)
        described = ", ".join(f"{k}={v}" for k, v in query.items())
        if not matches:
            raise TransferError(f"No image matches {described} in region {self.region}", image_not_found=True)
        if len(matches) > 1:
            ids = ", ".join(i["id"] for i in matches[:5])
            raise TransferError(f"{len(matches)} images match {described} in region {self.region} ({ids}); "
                                "give an id or narrow the filters", matches=[i["id"] for i in matches])
        return matches[0]

    def patch_image(self, image_id: str, ops: list) -> dict:
        resp = self._call("PATCH", f"/v2/images/{image_id}", f"update {self.where(image_id)}",
                          headers={"Content-Type": PATCH_TYPE}, body=json.dumps(ops).encode())
        return resp.json()

    def import_methods(self) -> set:
        """The interoperable import methods the endpoint offers (none where it has no /v2/info/import)."""
        resp = self._call("GET", "/v2/info/import", "read the import methods", ok=(200, 401, 403, 404))
        if resp.status_code != 200:
            return set()
        return set(resp.json().get("import-methods", {}).get("value", []))

    def stores(self) -> list:
        """The store ids of a multi-store Glance (GET /v2/info/stores), the default first; [] where
        the endpoint has one store (it answers 404 then) or does not say."""
        resp = self._call("GET", "/v2/info/stores", "read the stores", ok=(200, 401, 403, 404))
        if resp.status_code != 200:
            return []
        listed = resp.json().get("stores") or []
        return [s["id"] for s in sorted(listed, key=lambda s: not s.get("default")) if s.get("id")]

    def disk_formats(self) -> list:
        """The disk_format values the image schema allows (GET /v2/schemas/image); [] where it says none."""
        resp = self._call("GET", "/v2/schemas/image", "read the image schema", ok=(200, 401, 403, 404))
        if resp.status_code != 200:
            return []
        listed = ((resp.json().get("properties") or {}).get("disk_format") or {}).get("enum") or []
        return [name for name in listed if name]  # Glance's list starts with null (a queued image has none)

    def upload_image_data(self, image_id: str, body) -> None:
        """PUT /file with a one-shot streamed body: sent once (the caller retries the whole upload)."""
        self._call("PUT", f"/v2/images/{quote(image_id, safe='')}/file", f"upload data into {self.where(image_id)}",
                   retry=False, headers={"Content-Type": "application/octet-stream"}, body=body, ok=(204,))

    def stage_image_data(self, image_id: str, body) -> None:
        """PUT /stage (the glance-direct import's first half) with a one-shot streamed body."""
        self._call("PUT", f"/v2/images/{quote(image_id, safe='')}/stage", f"stage data for {self.where(image_id)}",
                   retry=False, headers={"Content-Type": "application/octet-stream"}, body=body, ok=(204,))

    def delete_image(self, image_id: str) -> None:
        """DELETE an image (callers delete only what they made); one already gone is fine."""
        self._call("DELETE", f"/v2/images/{quote(image_id, safe='')}", f"delete {self.where(image_id)}", ok=(204, 404))

    def open_image_data(self, image_id: str):
        """The streaming response of GET /file (the image's stored bytes); the caller closes it."""
        return self._call("GET", f"/v2/images/{quote(image_id, safe='')}/file", f"download {self.where(image_id)}",
                          stream=True)

    def members(self, image_id: str) -> list:
        resp = self._call("GET", f"/v2/images/{image_id}/members", f"list the members of {self.where(image_id)}")
        return resp.json().get("members", [])

    def create_image(self, body: dict, keys: dict) -> dict:
        """POST /v2/images. ``keys`` (properties in ``body``) find what an attempt whose outcome is
        unknown made, so that a gateway error after Glance acted leaves no second image."""
        def send():
            return self._call("POST", "/v2/images", f"create image {body.get('name')!r} in region {self.region}",
                              ok=(201,), headers={"Content-Type": "application/json"},
                              body=json.dumps(body).encode()).json()

        def find():
            made = [i for i in self.list_images(keys) if i.get("status") not in ("killed", "deleted")]
            return made[0] if len(made) == 1 else None

        return create_once(send, find)

    def start_import(self, image_id: str, body: dict) -> None:
        """POST /v2/images/{id}/import; an import already under way (a 409, or an attempt whose
        outcome is unknown that Glance took) counts as started."""
        what = f"start the {body['method']['name']} import of {self.where(image_id)}"

        def send():
            resp = self._call("POST", f"/v2/images/{image_id}/import", what, ok=(202, 409),
                              headers={"Content-Type": "application/json"}, body=json.dumps(body).encode())
            if resp.status_code == 409 and not self.importing(image_id):
                raise HttpError(f"Failed to {what}: 409 {resp.reason}", 409)
            return True

        create_once(send, lambda: True if self.importing(image_id) else None)

    def importing(self, image_id: str) -> bool:
        """Whether an import of the image is under way or done (Glance's import lock, or its status)."""
        image = self.get_image(image_id) or {}
        return bool(image.get("os_glance_import_task")) or image.get("status") in ("importing", "active")

    def image_tasks(self, image_id: str) -> list:
        """The image's import tasks (GET /v2/images/{id}/tasks, API 2.12 and later), or [] where
        the endpoint does not offer them."""
        resp = self._call("GET", f"/v2/images/{quote(image_id, safe='')}/tasks", f"read the tasks of "
                          f"{self.where(image_id)}", ok=(200, 403, 404))
        return resp.json().get("tasks", []) if resp.status_code == 200 else []

    def import_failure(self, image_id: str) -> str:
        """What Glance's last failed import task of the image says, or ''."""
        tasks = sorted((t for t in self.image_tasks(image_id) if t.get("status") == "failure"),
                       key=lambda t: t.get("created_at") or "")
        return f"task {tasks[-1].get('id')}: {tasks[-1].get('message')}" if tasks else ""

    def import_task(self, image_id: str, task_id: str) -> dict:
        """The image's import task of this id (its status, and its message: Glance writes "Copied
        N MiB" as it writes the data to a store, the error once it failed), or {}."""
        for task in self.image_tasks(image_id):
            if task.get("id") == task_id:
                return task
        return {}

    def add_member(self, image_id: str, member: str) -> dict:
        """Share the image; a membership that exists (a 409, or an attempt whose outcome is unknown) is kept."""
        what = f"share {self.where(image_id)} with {member}"

        def send():
            resp = self._call("POST", f"/v2/images/{image_id}/members", what, ok=(200, 409),
                              headers={"Content-Type": "application/json"}, body=json.dumps({"member": member}).encode())
            if resp.status_code == 409:
                found = self.get_member(image_id, member)
                if found is None:
                    raise HttpError(f"Failed to {what}: 409 {resp.reason}", 409)
                return found
            return resp.json()

        return create_once(send, lambda: self.get_member(image_id, member))

    def remove_member(self, image_id: str, member: str) -> None:
        self._call("DELETE", f"/v2/images/{image_id}/members/{quote(member, safe='')}",
                   f"unshare {self.where(image_id)} from {member}", ok=(204, 404))

    def set_member_status(self, image_id: str, member: str, status: str) -> dict:
        return self._call("PUT", f"/v2/images/{image_id}/members/{quote(member, safe='')}",
                          f"set the membership of {member} in {self.where(image_id)} to {status}",
                          headers={"Content-Type": "application/json"},
                          body=json.dumps({"status": status}).encode()).json()

    def get_member(self, image_id: str, member: str) -> dict | None:
        resp = self._call("GET", f"/v2/images/{image_id}/members/{quote(member, safe='')}",
                          f"read the membership of {member} in {self.where(image_id)}", ok=(200, 404))
        return None if resp.status_code == 404 else resp.json()
