"""The vendor extensions of the local cloud, emulated: what no upstream OpenStack server offers.

Run by localcloud.py with the Keystone/Glance venv's python: vendor_emulator.py CONFIG_JSON

1. Identity v2.0 with API keys (RAX-KSKEY), on its own port:
   ``POST /v2.0/tokens`` with ``{"auth": {"RAX-KSKEY:apiKeyCredentials": {"username", "apiKey"}}}``
   or ``{"auth": {"passwordCredentials": {"username", "password"}}}`` (optionally with
   ``tenantId`` / ``tenantName``) answers 200 with the v2.0 ``access`` document: ``token``
   (id, expires, tenant), ``user`` (id, name, roles, RAX-AUTH:defaultRegion) and
   ``serviceCatalog`` entries of type ``image`` (cloudImages) and ``object-store``
   (cloudFiles) with per-region ``publicURL`` / ``internalURL``. The token is a real
   Keystone token (the emulator logs the user in to Keystone with the password the API key
   stands for), so the real Glance and Swift accept it. Bad credentials: 401
   ``unauthorized``; a malformed body: 400 ``badRequest``.

2. The Images v2 tasks API, on one port per region, in front of that region's real Glance:
   ``POST /v2/tasks``, ``GET /v2/tasks``, ``GET /v2/tasks/{id}``; every other request is
   passed to the real Glance unchanged (streamed both ways), so this endpoint is a whole
   Images v2 API. The v2.0 catalog points at it; the v3 catalog points at Glance itself.
   * export ``{"image_uuid", "receiving_swift_container"}``: 201, ``pending``, then
     ``processing``, then ``success`` with ``result.export_location`` =
     ``<container>/<image_uuid>.vhd``. As the vendor documents (images are stored inside the
     cloud in another format than the VHD used for interchange, so checksums do not match
     across regions), the export is a **newly made dynamic VHD** of the image's disk
     (``qemu-img convert -O vpc -o subformat=dynamic,force_size=on`` from the image's
     disk_format): its size and MD5 differ from the image's ``size`` and ``checksum``, and a
     VM sees the same disk. It lands in the same region's Swift as a Dynamic Large Object:
     segments ``<image_uuid>.vhd-00001``, ``-00002``, ... of ``export_segment_size`` bytes (the
     last one shorter), each PUT with its MD5 as ``ETag``, then the zero-byte manifest with
     ``X-Object-Manifest: <container>/<image_uuid>.vhd-``. ``failure`` with a message when the
     image is missing or not active, or the container is missing.
   * import ``{"import_from": "<container>/<object>", "import_from_format": "vhd",
     "image_properties": {"name": ...}}``: ``success`` with ``result.image_id`` of a new
     active image that **stores the VHD's disk in another format**: raw (``disk_format``
     ``raw``, ``qemu-img convert -f vpc -O raw``), so its ``checksum`` is neither the VHD
     object's nor the source image's, while its ``virtual_size`` is the VHD's disk size.
     ``failure`` with a message when the object is missing or is not a VHD (no valid
     ``conectix`` footer, or qemu-img cannot read it), or ``import_from`` is not
     ``<container>/<object>``.
   Tasks carry id, type, status, input, result, message, owner, created_at, updated_at,
   expires_at (48 h after the task ended), schema and self; ``GET /v2/tasks`` lists the
   caller's project's tasks (filters ``type`` and ``status``) without input/result, as
   Glance does. A token that Keystone does not accept gets 401.

Fault switch (for tests): a JSON file at the config's ``faults_file``, read by each task as it
runs. ``{"import_grow_bytes": N}`` makes import tasks store a disk N bytes larger than the
VHD's (a conversion gone wrong: a virtual size that differs from the source's);
``{"import_flip_byte_at": OFFSET}`` inverts one byte of the stored disk (a conversion that
corrupts silently: same virtual size, only a comparison of the disks can tell);
``{"task_delay_seconds": N}`` keeps a new task pending N s longer (a busy cloud: a second
client finds it still running).

What it does not model:
   * the vendor's exact storage format (raw stands for it) and VHD flavour details (the
     interchange VHD is whatever qemu-img writes, creator ``qem2``); a raw disk whose size is
     not a whole number of 512-byte sectors is padded to one, as VHD requires;
   * conversion runs on whole temporary files beside the emulator (a real vendor streams);
   * VHD validation is the footer only (cookie and checksum), not the dynamic-disk tables;
   * the vendor's quotas, import size limits, rate limits and task-list pagination;
   * tasks live in memory: a restart of the emulator forgets them (a real task outlives
     API restarts); a task whose emulator stops mid-way simply never ends;
   * identity: no RAX-AUTH extensions beyond the above, no token revocation or listing, no
     tenant lookup by name across users (each user has exactly one project).
"""
from __future__ import annotations

import datetime
import hashlib
import hmac
import http.client
import http.server
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import uuid

import requests

HOP_BY_HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te",
              "trailers", "transfer-encoding", "upgrade", "host"}
COPY_CHUNK = 1024 * 1024
TASK_FIELDS_IN_LIST = ("id", "type", "status", "owner", "created_at", "updated_at", "expires_at",
                       "schema", "self")


def now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def later(hours: int) -> str:
    moment = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=hours)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


class TaskFailed(Exception):
    """Ends a task in status failure with this message."""


QEMU_FORMATS = {"vhd": "vpc", "raw": "raw", "qcow2": "qcow2", "vmdk": "vmdk", "vdi": "vdi"}


def qemu_convert(src: str, src_format: str, dest: str, dest_format: str, options: str = "") -> None:
    """qemu-img convert, as a vendor's conversion service would run it; TaskFailed on refusal."""
    argv = ["qemu-img", "convert", "-f", QEMU_FORMATS.get(src_format, src_format), "-O",
            QEMU_FORMATS.get(dest_format, dest_format)] + (["-o", options] if options else []) + [src, dest]
    done = subprocess.run(argv, capture_output=True, text=True)
    if done.returncode != 0:
        raise TaskFailed(f"The image data could not be converted from {src_format}: "
                         f"{done.stderr.strip()[-300:] or 'qemu-img failed'}")


def is_vhd_footer(block: bytes) -> bool:
    """A VHD footer: cookie 'conectix' and a checksum (ones' complement of the byte sum)."""
    if len(block) < 512 or block[:8] != b"conectix":
        return False
    stored = int.from_bytes(block[64:68], "big")
    total = sum(block[:64]) + sum(block[68:512])
    return stored == (~total & 0xFFFFFFFF)


class Keystone:
    """The few Keystone v3 calls the emulator makes."""

    def __init__(self, url: str):
        self.url = url

    def login(self, username: str, password: str, project_id: str | None = None,
              project_name: str | None = None) -> tuple[str, dict] | None:
        user = {"name": username, "domain": {"id": "default"}, "password": password}
        body: dict = {"auth": {"identity": {"methods": ["password"], "password": {"user": user}}}}
        if project_id:
            body["auth"]["scope"] = {"project": {"id": project_id}}
        elif project_name:
            body["auth"]["scope"] = {"project": {"name": project_name, "domain": {"id": "default"}}}
        resp = requests.post(f"{self.url}/v3/auth/tokens", json=body, timeout=30)
        if resp.status_code != 201:
            return None
        return resp.headers["X-Subject-Token"], resp.json()["token"]

    def validate(self, token: str) -> dict | None:
        resp = requests.get(f"{self.url}/v3/auth/tokens", timeout=30,
                            headers={"X-Auth-Token": token, "X-Subject-Token": token})
        return resp.json()["token"] if resp.status_code == 200 else None


def endpoint(catalog: list, stype: str, region: str, interface: str) -> str | None:
    for service in catalog:
        if service["type"] == stype:
            for ep in service["endpoints"]:
                if ep["region_id"] == region and ep["interface"] == interface:
                    return ep["url"]
    return None


class JsonHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"  # one request per connection: no keep-alive bookkeeping
    emulator: Emulator

    def log_message(self, fmt, *args):  # one line per request, token-free (paths only)
        sys.stderr.write("%s %s\n" % (self.__class__.__name__, fmt % args))

    def reply(self, status: int, doc: dict | None = None) -> None:
        body = json.dumps(doc).encode() if doc is not None else b""
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def read_json(self):
        length = int(self.headers.get("Content-Length") or 0)
        try:
            return json.loads(self.rfile.read(length) or b"null")
        except ValueError:
            return None


class IdentityHandler(JsonHandler):
    def do_GET(self):
        if self.path.rstrip("/") in ("", "/v2.0"):
            self.reply(200, {"version": {"id": "v2.0", "status": "DEPRECATED", "updated": "2014-04-17T00:00:00Z",
                                         "links": [{"rel": "self", "href": f"http://{self.headers['Host']}/v2.0/"}]}})
        else:
            self.reply(404, {"itemNotFound": {"code": 404, "message": "Resource not found"}})

    def do_POST(self):
        if self.path.rstrip("/") != "/v2.0/tokens":
            return self.reply(404, {"itemNotFound": {"code": 404, "message": "Resource not found"}})
        body = self.read_json()
        auth = body.get("auth") if isinstance(body, dict) else None
        if not isinstance(auth, dict):
            return self.reply(400, {"badRequest": {"code": 400, "message": "Invalid json request body"}})
        access = self.emulator.v2_login(auth)
        if access is None:
            return self.reply(401, {"unauthorized": {"code": 401,
                                                     "message": "Username or api key is invalid."}})
        if access == "bad":
            return self.reply(400, {"badRequest": {"code": 400, "message": "Invalid json request body"}})
        self.reply(200, {"access": access})


class ImagesHandler(JsonHandler):
    region: str
    glance: str

    def do_GET(self):
        self.route()

    def do_POST(self):
        self.route()

    def do_PUT(self):
        self.route()

    def do_PATCH(self):
        self.route()

    def do_DELETE(self):
        self.route()

    def do_HEAD(self):
        self.route()

    def route(self):
        path = urllib.parse.urlsplit(self.path).path.rstrip("/")
        if path == "/v2/tasks" or path.startswith("/v2/tasks/"):
            return self.tasks(path)
        return self.proxy()

    # -- the tasks API
    def tasks(self, path: str):
        token = self.headers.get("X-Auth-Token")
        identity = self.emulator.keystone.validate(token) if token else None
        if identity is None:
            return self.reply(401, {"message": "This server could not verify that you are authorized"})
        owner = identity["project"]["id"]
        if path == "/v2/tasks" and self.command == "POST":
            body = self.read_json()
            problem = self.emulator.invalid_task(body)
            if problem:
                return self.reply(400, {"message": problem})
            return self.reply(201, self.emulator.create_task(body, owner, token, identity, self.region))
        if self.command != "GET":
            return self.reply(405, {"message": f"{self.command} is not allowed on {path}"})
        if path == "/v2/tasks":
            query = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
            return self.reply(200, self.emulator.list_tasks(owner, query))
        task = self.emulator.get_task(path.rsplit("/", 1)[1], owner)
        if task is None:
            return self.reply(404, {"message": "Task not found"})
        return self.reply(200, task)

    # -- everything else goes to the real Glance, streamed both ways
    def proxy(self):
        upstream = urllib.parse.urlsplit(self.glance)
        conn = http.client.HTTPConnection(upstream.hostname, upstream.port, timeout=300)
        try:
            conn.putrequest(self.command, self.path, skip_host=True, skip_accept_encoding=True)
            conn.putheader("Host", upstream.netloc)
            for key, value in self.headers.items():
                if key.lower() not in HOP_BY_HOP:
                    conn.putheader(key, value)
            chunked = "chunked" in self.headers.get("Transfer-Encoding", "").lower()
            if chunked:
                conn.putheader("Transfer-Encoding", "chunked")
            conn.endheaders()
            if chunked:
                self.relay_chunked(conn)
            else:
                self.relay_exact(conn, int(self.headers.get("Content-Length") or 0))
            resp = conn.getresponse()
            self.send_response(resp.status, resp.reason)
            for key, value in resp.getheaders():
                if key.lower() not in HOP_BY_HOP:
                    self.send_header(key, value)
            self.send_header("Connection", "close")
            self.end_headers()
            if self.command != "HEAD":
                while chunk := resp.read(COPY_CHUNK):
                    self.wfile.write(chunk)
        except OSError as exc:
            self.send_error(502, f"upstream Glance: {exc.__class__.__name__}")
        finally:
            conn.close()

    def relay_exact(self, conn, length: int) -> None:
        while length > 0:
            chunk = self.rfile.read(min(COPY_CHUNK, length))
            if not chunk:
                raise ConnectionError("client closed the request body early")
            conn.send(chunk)
            length -= len(chunk)

    def relay_chunked(self, conn) -> None:
        while True:
            size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                conn.send(b"0\r\n\r\n")
                return
            data = self.rfile.read(size)
            self.rfile.readline()
            conn.send(b"%x\r\n%s\r\n" % (len(data), data))


class Emulator:
    def __init__(self, config: dict):
        self.config = config
        self.keystone = Keystone(config["keystone"])
        self.tasks: dict[str, dict] = {}
        self.lock = threading.Lock()

    # -- identity v2.0
    def v2_login(self, auth: dict):
        users = self.config["api_keys"]
        if "RAX-KSKEY:apiKeyCredentials" in auth:
            cred = auth["RAX-KSKEY:apiKeyCredentials"]
            secret_field, method = "apiKey", "APIKEY"
        elif "passwordCredentials" in auth:
            cred = auth["passwordCredentials"]
            secret_field, method = "password", "PASSWORD"
        else:
            return "bad"
        if not isinstance(cred, dict) or not isinstance(cred.get("username"), str) \
                or not isinstance(cred.get(secret_field), str):
            return "bad"
        user = users.get(cred["username"])
        if user is None:
            return None
        expected = user["api_key"] if method == "APIKEY" else user["password"]
        if not hmac.compare_digest(expected.encode(), cred[secret_field].encode()):
            return None
        login = self.keystone.login(cred["username"], user["password"],
                                    project_id=auth.get("tenantId"), project_name=auth.get("tenantName"))
        if login is None:
            return None
        token, doc = login
        return self.access_document(token, doc, method)

    def access_document(self, token: str, doc: dict, method: str) -> dict:
        project = doc["project"]
        catalog = []
        for stype, name in (("image", "cloudImages"), ("object-store", "cloudFiles")):
            endpoints = []
            for region, conf in self.config["regions"].items():
                if stype == "image":
                    public = f"http://127.0.0.1:{conf['port']}/v2"
                    internal = f"http://localhost:{conf['port']}/v2"
                else:
                    public = endpoint(doc["catalog"], stype, region, "public")
                    internal = endpoint(doc["catalog"], stype, region, "internal")
                endpoints.append({"region": region, "tenantId": project["id"],
                                  "publicURL": public, "internalURL": internal})
            catalog.append({"name": name, "type": stype, "endpoints": endpoints})
        return {
            "token": {"id": token, "expires": doc["expires_at"],
                      "tenant": {"id": project["id"], "name": project["name"]},
                      "RAX-AUTH:authenticatedBy": [method]},
            "user": {"id": doc["user"]["id"], "name": doc["user"]["name"],
                     "roles": [{"name": r["name"], "id": r["id"]} for r in doc["roles"]],
                     "RAX-AUTH:defaultRegion": "RegionOne"},
            "serviceCatalog": catalog,
        }

    def faults(self) -> dict:
        try:
            with open(self.config["faults_file"], encoding="utf-8") as f:
                return json.load(f)
        except (OSError, ValueError, KeyError):
            return {}

    # -- tasks
    @staticmethod
    def invalid_task(body) -> str | None:
        if not isinstance(body, dict) or body.get("type") not in ("import", "export"):
            return "Invalid task type: the type must be 'import' or 'export'"
        task_input = body.get("input")
        if not isinstance(task_input, dict):
            return "Invalid input: a task needs an 'input' object"
        required = {"export": ("image_uuid", "receiving_swift_container"),
                    "import": ("import_from",)}[body["type"]]
        missing = [key for key in required if not isinstance(task_input.get(key), str) or not task_input[key]]
        if missing:
            return f"Invalid input for {body['type']} task: missing {', '.join(missing)}"
        if body["type"] == "import" and not isinstance(task_input.get("image_properties", {}), dict):
            return "Invalid input for import task: image_properties must be an object"
        return None

    def create_task(self, body: dict, owner: str, token: str, identity: dict, region: str) -> dict:
        stamp = now()
        task_id = str(uuid.uuid4())
        task = {"id": task_id, "type": body["type"], "status": "pending", "input": body["input"],
                "result": None, "message": "None", "owner": owner, "created_at": stamp,
                "updated_at": stamp, "expires_at": None, "schema": "/v2/schemas/task",
                "self": f"/v2/tasks/{task_id}"}
        with self.lock:
            self.tasks[task_id] = task
        threading.Thread(target=self.run_task, args=(task_id, token, identity, region), daemon=True).start()
        return dict(task)

    def list_tasks(self, owner: str, query: dict) -> dict:
        with self.lock:
            mine = [t for t in self.tasks.values() if t["owner"] == owner
                    and all(t.get(k) in query[k] for k in ("type", "status") if k in query)]
        mine.sort(key=lambda t: t["created_at"], reverse=True)
        return {"tasks": [{k: t[k] for k in TASK_FIELDS_IN_LIST} for t in mine],
                "schema": "/v2/schemas/tasks", "first": "/v2/tasks"}

    def get_task(self, task_id: str, owner: str) -> dict | None:
        with self.lock:
            task = self.tasks.get(task_id)
            return dict(task) if task and task["owner"] == owner else None

    def update(self, task_id: str, **fields) -> None:
        with self.lock:
            self.tasks[task_id].update(fields, updated_at=now())

    def run_task(self, task_id: str, token: str, identity: dict, region: str) -> None:
        time.sleep(self.config["task_step_seconds"] + self.faults().get("task_delay_seconds", 0))
        self.update(task_id, status="processing")
        task = self.tasks[task_id]
        swift = endpoint(identity["catalog"], "object-store", region, "public")
        glance = self.config["regions"][region]["glance"]
        session = requests.Session()
        session.headers["X-Auth-Token"] = token
        try:
            work = self.export if task["type"] == "export" else self.import_
            result = work(session, glance, swift, region, task["input"])
        except TaskFailed as exc:
            self.update(task_id, status="failure", message=str(exc), expires_at=later(48))
        except Exception as exc:  # the task must end; say what kind of fault it was
            self.update(task_id, status="failure", expires_at=later(48),
                        message=f"Internal error while processing the task: {exc.__class__.__name__}")
        else:
            self.update(task_id, status="success", result=result, expires_at=later(48))

    def export(self, session, glance: str, swift: str, region: str, task_input: dict) -> dict:
        image_id, container = task_input["image_uuid"], task_input["receiving_swift_container"]
        resp = session.get(f"{glance}/v2/images/{urllib.parse.quote(image_id)}", timeout=60)
        if resp.status_code == 404:
            raise TaskFailed(f"Image {image_id} was not found in {region}")
        resp.raise_for_status()
        image = resp.json()
        if image["status"] != "active":
            raise TaskFailed(f"Image {image_id} cannot be exported: its status is {image['status']}, not active")
        if session.head(f"{swift}/{urllib.parse.quote(container)}", timeout=60).status_code == 404:
            raise TaskFailed(f"Swift container {container} does not exist in {region}; "
                             "create it before exporting")
        name = f"{image_id}.vhd"
        segment_size = self.config["export_segment_size"]
        with tempfile.TemporaryDirectory(prefix="vendor-export-") as work:
            stored, interchange = os.path.join(work, "stored"), os.path.join(work, "export.vhd")
            whole, total = hashlib.md5(), 0
            with session.get(f"{glance}/v2/images/{image_id}/file", stream=True, timeout=300) as data, \
                    open(stored, "wb") as out:
                data.raise_for_status()
                while chunk := data.raw.read(COPY_CHUNK):
                    out.write(chunk)
                    whole.update(chunk)
                    total += len(chunk)
            if total != image.get("size") or (image.get("checksum") and whole.hexdigest() != image["checksum"]):
                raise TaskFailed(f"Image {image_id} read back {total} bytes that do not match its size or checksum")
            qemu_convert(stored, image.get("disk_format") or "raw", interchange, "vhd", "subformat=dynamic,force_size=on")
            with open(interchange, "rb") as source:
                number = 0
                while True:
                    number += 1
                    part = source.read(segment_size)
                    if not part and number > 1:
                        break
                    put = session.put(f"{swift}/{container}/{name}-{number:05d}", data=part, timeout=300,
                                      headers={"ETag": hashlib.md5(part).hexdigest()})
                    if put.status_code != 201:
                        raise TaskFailed(f"Writing segment {number:05d} to {container} failed: "
                                         f"{put.status_code} {put.reason}")
                    if len(part) < segment_size:
                        break
        put = session.put(f"{swift}/{container}/{name}", data=b"", timeout=60,
                          headers={"X-Object-Manifest": f"{container}/{name}-"})
        if put.status_code != 201:
            raise TaskFailed(f"Writing the manifest {container}/{name} failed: {put.status_code} {put.reason}")
        return {"export_location": f"{container}/{name}"}

    def import_(self, session, glance: str, swift: str, region: str, task_input: dict) -> dict:
        source = task_input["import_from"]
        container, _, obj = source.partition("/")
        if not container or not obj:
            raise TaskFailed(f"import_from must be <container>/<object>, got {source!r}")
        fmt = task_input.get("import_from_format", "vhd")
        if fmt != "vhd":
            raise TaskFailed(f"Unsupported import_from_format {fmt!r}: only vhd can be imported")
        url = f"{swift}/{urllib.parse.quote(container)}/{urllib.parse.quote(obj)}"
        head = session.head(url, timeout=60)
        if head.status_code == 404:
            raise TaskFailed(f"Object {source} was not found in the object store of {region}")
        head.raise_for_status()
        properties = {k: v for k, v in (task_input.get("image_properties") or {}).items()}
        properties.setdefault("name", obj)
        properties.update(disk_format="raw", container_format="bare")  # stored in another format than VHD
        with tempfile.TemporaryDirectory(prefix="vendor-import-") as work:
            interchange, stored = os.path.join(work, "import.vhd"), os.path.join(work, "stored.raw")
            with session.get(url, stream=True, timeout=300) as data, open(interchange, "wb") as out:
                data.raise_for_status()
                while chunk := data.raw.read(COPY_CHUNK):
                    out.write(chunk)
            # the footer is read from the bytes fetched: a DLO's GET follows every listing page,
            # its HEAD (and so a suffix Range) covers the first page only
            with open(interchange, "rb") as got:
                first = got.read(512)
                got.seek(max(os.path.getsize(interchange) - 512, 0))
                tail = got.read(512)
            if not (is_vhd_footer(tail) or is_vhd_footer(first)):
                raise TaskFailed(f"Object {source} is not a valid VHD image (no VHD footer); nothing was imported")
            qemu_convert(interchange, "vhd", stored, "raw")
            grow = self.faults().get("import_grow_bytes", 0)
            if grow:
                with open(stored, "ab") as out:
                    out.write(bytes(grow))
            flip = self.faults().get("import_flip_byte_at")
            if flip is not None:
                with open(stored, "r+b") as out:
                    out.seek(flip)
                    byte = out.read(1)
                    out.seek(flip)
                    out.write(bytes([byte[0] ^ 0xFF]))
            created = session.post(f"{glance}/v2/images", json=properties, timeout=60)
            if created.status_code != 201:
                raise TaskFailed(f"Creating the image failed: {created.status_code} {created.text[:300]}")
            image_id = created.json()["id"]
            stored_size = os.path.getsize(stored)
            try:
                with open(stored, "rb") as body:
                    upload = session.put(f"{glance}/v2/images/{image_id}/file", timeout=300, data=body,
                                         headers={"Content-Type": "application/octet-stream",
                                                  "Content-Length": str(stored_size)})
                if upload.status_code != 204:
                    raise TaskFailed(f"Uploading the image data failed: {upload.status_code} {upload.text[:300]}")
                image = session.get(f"{glance}/v2/images/{image_id}", timeout=60).json()
                if image["status"] != "active" or image["size"] != stored_size:
                    raise TaskFailed(f"The imported image ended {image['status']} with {image['size']} of "
                                     f"{stored_size} bytes")
            except BaseException:
                session.delete(f"{glance}/v2/images/{image_id}", timeout=60)
                raise
        return {"image_id": image_id}


def serve(handler: type, port: int, **attrs) -> http.server.ThreadingHTTPServer:
    cls = type(handler.__name__, (handler,), attrs)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), cls)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def main() -> None:
    with open(sys.argv[1], encoding="utf-8") as f:
        config = json.load(f)
    emulator = Emulator(config)
    serve(IdentityHandler, config["identity_port"], emulator=emulator)
    for region, conf in config["regions"].items():
        serve(ImagesHandler, conf["port"], emulator=emulator, region=region, glance=conf["glance"])
    print("vendor emulator ready", flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    main()
