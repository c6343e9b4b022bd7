"""An object store in memory, for the rerun decisions' unit tests.

It answers the calls of ``_swift.Swift`` that the decisions make, as Swift does (the contract
tests check the real one): listings sorted by name with ``name``/``bytes``/``hash``; a DLO
manifest's HEAD sums its segments only while they fit in one listing page, with the ETag the
quoted MD5 of the segments' ETags; a PUT whose ETag header differs from the body's MD5 is
refused (422); container metadata set and removed key by key. Its limits: no SLOs, no
accounts, no expiry, no eventual consistency (listings never lag).
"""
from __future__ import annotations

import hashlib

from ansible_collections.cloudimages.transfer.plugins.module_utils._http import HttpError


class MemorySwift:
    region = "R1"

    def __init__(self, listing_limit: int = 100):
        self.containers: dict = {}
        self.limit = listing_limit
        self.calls: list = []

    def where(self, container, name=None):
        return f"{container}/{name} in region {self.region}" if name else f"container {container} in region {self.region}"

    def info(self):
        return {"container_listing_limit": self.limit}

    def info_of(self, section):
        return self.info() if section == "swift" else {}

    def head_container(self, container):
        held = self.containers.get(container)
        return None if held is None else {"x-container-object-count": str(len(held["objects"])), **held["meta"]}

    def put_container(self, container):
        self.calls.append(("PUT", container))
        self.containers.setdefault(container, {"meta": {}, "objects": {}})

    def post_container(self, container, headers):
        meta = self.containers[container]["meta"]
        for key, value in headers.items():
            key = key.lower()
            if key.startswith("x-remove-container-meta-"):
                meta.pop("x-container-meta-" + key[len("x-remove-container-meta-"):], None)
            else:
                meta[key] = value

    def list_objects(self, container, prefix=""):
        held = self.containers.get(container)
        if held is None:
            raise HttpError(f"list {container}: 404 Not Found", 404)
        return [{"name": name, "bytes": len(obj["data"]), "hash": hashlib.md5(obj["data"]).hexdigest()}
                for name, obj in sorted(held["objects"].items()) if name.startswith(prefix)]

    def put_object(self, container, name, body, *, length=None, etag=None, headers=None, retry=True, what=None):
        data = body if isinstance(body, bytes) else b"".join(body)
        if etag and etag != hashlib.md5(data).hexdigest():
            raise HttpError(f"{what or 'upload'}: 422 Unprocessable Entity", 422)
        self.calls.append(("PUT", f"{container}/{name}"))
        self.containers[container]["objects"][name] = {"data": data,
                                                       "headers": {k.lower(): str(v) for k, v in (headers or {}).items()}}

    def head_object(self, container, name):
        obj = self.containers.get(container, {"objects": {}})["objects"].get(name)
        if obj is None:
            return None
        headers = dict(obj["headers"])
        manifest = headers.get("x-object-manifest")
        if manifest:
            seg_container, prefix = manifest.split("/", 1)
            listing = self.list_objects(seg_container, prefix) if seg_container in self.containers else []
            if len(listing) < self.limit:  # Swift sums only a manifest whose segments fit in one page
                headers["content-length"] = str(sum(o["bytes"] for o in listing))
                headers["etag"] = '"' + hashlib.md5("".join(o["hash"] for o in listing).encode()).hexdigest() + '"'
            else:
                headers["content-length"] = "0"
        else:
            headers["content-length"] = str(len(obj["data"]))
            headers["etag"] = hashlib.md5(obj["data"]).hexdigest()
        return headers

    def delete_object(self, container, name):
        self.calls.append(("DELETE", f"{container}/{name}"))
        return self.containers.get(container, {"objects": {}})["objects"].pop(name, None) is not None
