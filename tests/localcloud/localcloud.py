#!/usr/bin/env python3
"""The local two-region OpenStack cloud that the tests and the demo run on.

    python3 tests/localcloud/localcloud.py start     # install (first time), start, wait until healthy
    python3 tests/localcloud/localcloud.py stop      # stop only the processes this tool started
    python3 tests/localcloud/localcloud.py status    # what runs, where
    python3 tests/localcloud/localcloud.py env       # shell exports (OS_CLIENT_CONFIG_FILE, ...)

What runs, all on 127.0.0.1, all real upstream servers from PyPI except the
vendor emulator:
  * one PostgreSQL server (Debian's) holding Keystone's and both Glances' databases;
  * Keystone (v3, fernet) with regions RegionOne and RegionTwo;
  * one Glance API per region (two API workers, file stores, interoperable import enabled,
    import filtering that admits loopback);
  * one independent Swift cluster per region (own rings, hash prefix and
    servers) authenticating with Keystone tokens, so one token works on both;
  * vendor_emulator.py: the v2.0 API-key identity and the Images tasks API
    (export/import), which no upstream server offers.

State (configs, databases, object data, logs, pids, clouds.yaml) lives in
LOCALCLOUD_DIR (default <repo>/.localcloud, git-ignored) and is made anew on
every start. The servers' virtualenvs are built from the lock files beside
this file into LOCALCLOUD_CACHE (default ~/.cache/cloudimages-transfer), keyed
by the lock file's hash, so their heavy dependencies never meet the
collection's.

Settings (environment):
  LOCALCLOUD_PORT_<SERVICE>        fixed port for a service (e.g. LOCALCLOUD_PORT_KEYSTONE);
                                   unset ports are picked free; a taken one is refused
  LOCALCLOUD_SWIFT_LISTING_LIMIT   container listing page size (default 100)
  LOCALCLOUD_SWIFT_MAX_FILE_SIZE   largest single object in bytes (default 64 MiB)
  LOCALCLOUD_IMAGE_CONVERSION      raw or qcow2: RegionTwo's Glance runs the image_conversion
                                   import plugin with that output format (default: off)
  LOCALCLOUD_SWIFT_DLO_RATE_LIMIT_AFTER
                                   DLO segments served at full speed before Swift's DLO
                                   middleware slows a GET to one segment a second (default
                                   1000, so tests can read 100+ segment objects whole;
                                   Swift's own default is 10)
  LOCALCLOUD_SWIFT_WORKERS         Swift's 'workers' for every Swift server (default 0: one
                                   process each; 'auto' is Swift's own default, one per core)
  LOCALCLOUD_EXPORT_SEGMENT_SIZE   segment size of export tasks (default 4 MiB)
  LOCALCLOUD_TOKEN_EXPIRATION      Keystone token lifetime in seconds (default 3600)
  LOCALCLOUD_TASK_STEP_SECONDS     time a task spends in 'pending' (default 0.5)
  LOCALCLOUD_PYTHON                interpreter for the servers' venvs (default: this one)
  LOCALCLOUD_GLANCE_WORKERS        Glance API worker processes per region (default 2)
  LOCALCLOUD_DB_DIR                where PostgreSQL's data folders go (default: a folder in /var/tmp
                                   when root, since the server runs as the postgres user)
"""
from __future__ import annotations

import argparse
import concurrent.futures
import hashlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
REGIONS = ("RegionOne", "RegionTwo")
SWIFT_KINDS = ("account", "container", "object", "proxy")
STATE = Path(os.environ.get("LOCALCLOUD_DIR", REPO / ".localcloud")).resolve()
CACHE = Path(
    os.environ.get("LOCALCLOUD_CACHE")
    or Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "cloudimages-transfer"
)
PORT_NAMES = ["keystone", "identity-v2", "postgres"] + [
    f"{kind}-{region.lower()}"
    for region in REGIONS
    for kind in ("glance", "images-proxy", *(f"swift-{k}" for k in SWIFT_KINDS))
]
T0 = time.monotonic()


class CloudError(Exception):
    """A start or stop step failed; the message says which and why."""


def log(msg: str) -> None:
    print(f"[localcloud {time.monotonic() - T0:6.1f}s] {msg}", file=sys.stderr, flush=True)


def setting(name: str, default: str) -> str:
    return os.environ.get(f"LOCALCLOUD_{name}", default)


# ---------------------------------------------------------------- venvs

def ensure_venv(name: str, lock: Path) -> Path:
    """A venv holding exactly the lock file's packages, built once per lock."""
    python = setting("PYTHON", sys.executable)
    version = subprocess.check_output(
        [python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"], text=True
    ).strip()
    key = hashlib.sha256(lock.read_bytes() + version.encode()).hexdigest()[:12]
    path = CACHE / "venvs" / f"{name}-py{version}-{key}"
    if (path / ".complete").exists():
        return path
    log(f"installing the {name} servers into {path} (first start only)")
    shutil.rmtree(path, ignore_errors=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    steps = (
        [python, "-m", "venv", str(path)],
        [str(path / "bin" / "pip"), "install", "-q", "--disable-pip-version-check", "-r", str(lock)],
    )
    for argv in steps:
        done = subprocess.run(argv, capture_output=True, text=True)
        if done.returncode:
            raise CloudError(f"installing {name} failed:\n{(done.stdout + done.stderr)[-3000:]}")
    (path / ".complete").write_text(lock.name + "\n")
    return path


# ---------------------------------------------------------------- the database server
# Keystone and both Glances keep their databases in one PostgreSQL server of the cloud's own,
# as real clouds run them (sqlite allows one writer at a time: Glance had to serve one request
# at a time). Its data folder is copied from a template made once per server version and lock
# file (initdb and the db_syncs are most of a warm start otherwise), and removed by stop. The
# server runs as the postgres user when this runs as root (PostgreSQL refuses root), so its
# folders live where that user can reach them.

DATABASES = ("keystone", *(f"glance_{region.lower()}" for region in REGIONS))
PG_OPTIONS = ["-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
              "-c", "max_connections=200", "-c", "shared_buffers=32MB"]  # a throwaway test cluster


def pg_bin() -> Path:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/postgres"), key=lambda p: int(p.parts[-3]))
    if found:
        return found[-1].parent
    if shutil.which("pg_config"):
        return Path(subprocess.check_output(["pg_config", "--bindir"], text=True).strip())
    raise CloudError("PostgreSQL is not installed (Debian/Ubuntu: apt-get install postgresql)")


def as_db_owner(argv: list[str]) -> list[str]:
    """The command as the postgres user when we are root (setpriv execs: no process in between)."""
    if os.geteuid() != 0:
        return argv
    return ["setpriv", "--reuid=postgres", "--regid=postgres", "--init-groups", "--", *argv]


def db_root() -> Path:
    root = Path(setting("DB_DIR", "/var/tmp/cloudimages-localcloud-postgres" if os.geteuid() == 0
                        else str(CACHE / "postgres")))
    root.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    root.chmod(0o700)
    return root


def pg_ready(bindir: Path, port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while subprocess.run([str(bindir / "pg_isready"), "-q", "-h", "127.0.0.1", "-p", str(port)]).returncode:
        if time.monotonic() > deadline:
            raise CloudError(f"PostgreSQL did not accept connections on 127.0.0.1:{port} in {timeout:.0f} s")
        time.sleep(0.1)


def database_url(port: int, name: str) -> str:
    return f"postgresql+psycopg2://postgres@127.0.0.1:{port}/{name}"


def db_sync_commands(venv: Path, confs: Path, port: int) -> list[list[str]]:
    """Each database's schema, made by its service's own tool from a minimal config file."""
    commands = []
    for name in DATABASES:
        conf = confs / f"{name}.conf"
        conf.write_text(f"[database]\nconnection = {database_url(port, name)}\n")
        tool = "keystone-manage" if name == "keystone" else "glance-manage"
        commands.append([str(venv / "bin" / tool), "--config-file", str(conf), "db_sync"])
    return commands


def database_template(venv: Path, lock: Path) -> Path:
    """A stopped cluster holding the synced, empty databases; made once."""
    bindir = pg_bin()
    version = subprocess.check_output([str(bindir / "postgres"), "--version"], text=True).strip()
    key = hashlib.sha256(lock.read_bytes() + version.encode()).hexdigest()[:12]
    root = db_root()
    template = root / f"template-{key}"
    if (root / f"template-{key}.complete").exists():
        return template
    log(f"making the database template {template} ({version}; first start only)")
    building = root / f"building-{secrets.token_hex(4)}"
    done = subprocess.run(as_db_owner([str(bindir / "initdb"), "-D", str(building), "-A", "trust", "-U", "postgres",
                                       "-E", "UTF8", "--locale=C"]), capture_output=True, text=True)
    if done.returncode:
        raise CloudError(f"initdb failed:\n{(done.stdout + done.stderr)[-3000:]}")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen(as_db_owner([str(bindir / "postgres"), "-D", str(building), "-k", str(building),
                                           "-h", "127.0.0.1", "-p", str(port), *PG_OPTIONS]),
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    confs = Path(tempfile.mkdtemp(prefix="localcloud-dbsync-"))
    try:
        pg_ready(bindir, port)
        for name in DATABASES:
            done = subprocess.run([str(bindir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "postgres",
                                   name], capture_output=True, text=True)
            if done.returncode:
                raise CloudError(f"createdb {name} failed:\n{done.stderr[-2000:]}")
        with concurrent.futures.ThreadPoolExecutor(len(DATABASES)) as pool:
            for done in pool.map(lambda argv: subprocess.run(argv, capture_output=True, text=True),
                                 db_sync_commands(venv, confs, port)):
                if done.returncode:
                    raise CloudError(f"db_sync failed:\n{(done.stdout + done.stderr)[-3000:]}")
    finally:
        shutil.rmtree(confs, ignore_errors=True)
        server.send_signal(signal.SIGINT)  # fast shutdown: a clean, consistent data folder
        server.wait(60)
    if template.exists():
        shutil.rmtree(template)
    building.rename(template)
    (root / f"template-{key}.complete").write_text(version + "\n")
    return template


def start_database(venv: Path, lock: Path, port: int) -> None:
    """Copy the template into a data folder of this start and run the server on ``port``."""
    template = database_template(venv, lock)
    data = db_root() / f"run-{STATE.name}-{secrets.token_hex(4)}"
    done = subprocess.run(["cp", "-a", str(template), str(data)], capture_output=True, text=True)
    if done.returncode:
        raise CloudError(f"copying the database template failed: {done.stderr[-1000:]}")
    (STATE / "database.json").write_text(json.dumps({"data": str(data), "port": port}))
    bindir = pg_bin()
    spawn("postgres", as_db_owner([str(bindir / "postgres"), "-D", str(data), "-k", str(data), "-h", "127.0.0.1",
                                   "-p", str(port), *PG_OPTIONS]))
    pg_ready(bindir, port)


def remove_database() -> None:
    record = STATE / "database.json"
    if record.exists():
        shutil.rmtree(json.loads(record.read_text())["data"], ignore_errors=True)
        record.unlink()


# ---------------------------------------------------------------- ports and processes

def port_taken(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def pick_ports() -> dict[str, int]:
    """Configured ports are checked, the rest picked free (all held until every one is chosen)."""
    ports, held = {}, []
    try:
        for name in PORT_NAMES:
            var = "LOCALCLOUD_PORT_" + name.upper().replace("-", "_")
            if os.environ.get(var):
                port = int(os.environ[var])
                if port_taken(port):
                    raise CloudError(
                        f"127.0.0.1:{port} ({var}, for {name}) is already in use by another "
                        "process; stop it or choose another port"
                    )
            else:
                s = socket.socket()
                s.bind(("127.0.0.1", 0))
                held.append(s)
                port = s.getsockname()[1]
            ports[name] = port
    finally:
        for s in held:
            s.close()
    if len(set(ports.values())) != len(ports):
        raise CloudError(f"two services were given the same port: {ports}")
    return ports


def start_time(pid: int) -> str | None:
    """The kernel's start time of a process: with the pid it tells our process from a reused pid."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[19]


def spawn(name: str, argv: list[str], extra_env: dict[str, str] | None = None) -> None:
    logfile = STATE / "logs" / f"{name}.log"
    with open(logfile, "ab") as out:
        proc = subprocess.Popen(
            argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True, env={**os.environ, **(extra_env or {})},
        )
    record = {"pid": proc.pid, "start": start_time(proc.pid), "argv": argv}
    (STATE / "pids" / f"{name}.json").write_text(json.dumps(record))


def our_processes() -> dict[str, dict]:
    found = {}
    for path in sorted((STATE / "pids").glob("*.json")):
        record = json.loads(path.read_text())
        record["alive"] = record["start"] is not None and start_time(record["pid"]) == record["start"]
        found[path.stem] = record
    return found


def log_tail(name: str, lines: int = 30) -> str:
    path = STATE / "logs" / f"{name}.log"
    if not path.exists():
        return f"(no log at {path})"
    text = path.read_text(errors="replace").splitlines()[-lines:]
    return f"--- last {len(text)} lines of {path}\n" + "\n".join(text)


def stop() -> int:
    """Stop only what we recorded, and only while the pid still is that process."""
    records = our_processes()
    alive = {name: r for name, r in records.items() if r["alive"]}
    for record in alive.values():
        try:
            os.killpg(record["pid"], signal.SIGTERM)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(start_time(r["pid"]) == r["start"] for r in alive.values()):
        time.sleep(0.1)
    for record in alive.values():
        if start_time(record["pid"]) == record["start"]:
            try:
                os.killpg(record["pid"], signal.SIGKILL)
            except ProcessLookupError:
                pass
    for name in records:
        (STATE / "pids" / f"{name}.json").unlink(missing_ok=True)
    remove_database()
    log(f"stopped {len(alive)} processes")
    return len(alive)


def bind_failed(name: str) -> bool:
    path = STATE / "logs" / f"{name}.log"
    return path.exists() and "Address already in use" in path.read_text(errors="replace")


def wait_http(name: str, url: str, timeout: float = 120, headers: dict | None = None) -> None:
    """Until url answers below 500; fail at once, with the log tail, if the process died."""
    deadline = time.monotonic() + timeout
    while True:
        record = our_processes().get(name)
        if record is not None and not record["alive"]:
            raise CloudError(f"{name} exited during start-up\n{log_tail(name)}")
        if bind_failed(name):  # uWSGI logs it and stays up, answering nothing
            raise CloudError(f"{name} could not bind its port (another process holds it)\n{log_tail(name)}")
        try:
            with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=5):
                return
        except urllib.error.HTTPError as exc:
            if exc.code < 500:
                return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise CloudError(f"{name} did not answer at {url} within {timeout:.0f} s\n{log_tail(name)}")
        time.sleep(0.2)


# ---------------------------------------------------------------- REST for the set-up

class Rest:
    """Just enough JSON-over-HTTP for the Keystone set-up (stdlib only)."""

    def __init__(self, base: str, token: str | None = None):
        self.base, self.token = base.rstrip("/"), token

    def call(self, method: str, path: str, body: dict | None = None, headers: dict | None = None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.base + path, data=data, method=method)
        req.add_header("Content-Type", "application/json")
        if self.token:
            req.add_header("X-Auth-Token", self.token)
        for key, value in (headers or {}).items():
            req.add_header(key, value)
        try:
            with urllib.request.urlopen(req, timeout=60) as resp:
                raw = resp.read()
                return resp.status, resp.headers, json.loads(raw) if raw else {}
        except urllib.error.HTTPError as exc:
            raise CloudError(f"{method} {path} -> {exc.code}: {exc.read()[:500]!r}") from None


def password_token(keystone: str, user: str, password: str, project: str) -> tuple[str, dict]:
    body = {"auth": {
        "identity": {"methods": ["password"], "password": {"user": {
            "name": user, "domain": {"id": "default"}, "password": password}}},
        "scope": {"project": {"name": project, "domain": {"id": "default"}}},
    }}
    _, headers, doc = Rest(keystone).call("POST", "/v3/auth/tokens", body)
    return headers["X-Subject-Token"], doc["token"]


# ---------------------------------------------------------------- configuration files

def keystone_files(d: Path, port: int, expiration: int, db_port: int) -> None:
    (d / "keystone.conf").write_text(f"""\
[DEFAULT]
log_file = {d}/keystone.log

[database]
connection = {database_url(db_port, "keystone")}

[token]
provider = fernet
expiration = {expiration}

[fernet_tokens]
key_repository = {d}/fernet-keys

[fernet_receipts]
key_repository = {d}/fernet-keys

[credential]
key_repository = {d}/credential-keys

[identity]
# a test cloud: cheap hashes keep token issue fast
password_hash_rounds = 4

[cache]
# without a cache every authenticated call costs ~0.6 s
enabled = true
backend = dogpile.cache.memory
""")
    (d / "uwsgi.ini").write_text(uwsgi_ini(port, "keystone.wsgi.api:application", threads=4))


def uwsgi_ini(port: int, module: str, threads: int, extra: str = "", processes: int = 1) -> str:
    return f"""\
[uwsgi]
http-socket = 127.0.0.1:{port}
module = {module}
master = true
processes = {processes}
threads = {threads}
enable-threads = true
lazy-apps = true
die-on-term = true
need-app = true
buffer-size = 65535
# the http-socket closes after each response: say so, or clients see resets
add-header = Connection: close
http-chunked-input = true
# a chunk may be as large as the client likes (uWSGI's default limit is 1 MiB)
chunked-input-limit = 67108864
{extra}"""


def conversion_opts(region: str) -> str:
    """RegionTwo's Glance with the real image_conversion import plugin, as Ceph-backed clouds run
    it (LOCALCLOUD_IMAGE_CONVERSION=raw or qcow2): interoperable imports store that format."""
    output = setting("IMAGE_CONVERSION", "")
    if region != "RegionTwo" or not output:
        return ""
    if output not in ("raw", "qcow2"):
        raise SystemExit(f"LOCALCLOUD_IMAGE_CONVERSION must be raw or qcow2, not {output!r}")
    return f"""
[image_import_opts]
image_import_plugins = ['image_conversion']

[image_conversion]
output_format = {output}
"""


def glance_files(d: Path, venv: Path, region: str, ports: dict[str, int], keystone: str,
                 secrets_: dict) -> None:
    for sub in ("images", "images-extra", "staging", "tasks"):
        (d / sub).mkdir(parents=True, exist_ok=True)
    paste = (venv / "etc" / "glance" / "glance-api-paste.ini").read_text()
    (d / "glance-api-paste.ini").write_text(
        paste.replace("/etc/glance/healthcheck_disable", str(d / "healthcheck_disable")))
    port = ports[f"glance-{region.lower()}"]
    # web-download and glance-download refuse loopback unless the filter admits it, and
    # glance-download applies it to the other region's Glance too: admit every local port
    allowed_ports = ",".join(str(p) for p in [80, 443, *sorted(ports.values())])
    (d / "glance-api.conf").write_text(f"""\
[DEFAULT]
log_file = {d}/glance-api.log
enabled_backends = local:file, extra:file
worker_self_reference_url = http://127.0.0.1:{port}
enabled_import_methods = [glance-direct,web-download,copy-image,glance-download]
image_size_cap = 17179869184

[database]
connection = {database_url(ports["postgres"], "glance_" + region.lower())}

[glance_store]
default_backend = local

[local]
filesystem_store_datadir = {d}/images/

[extra]
filesystem_store_datadir = {d}/images-extra/

[os_glance_staging_store]
filesystem_store_datadir = {d}/staging/

[os_glance_tasks_store]
filesystem_store_datadir = {d}/tasks/

[paste_deploy]
flavor = keystone
config_file = {d}/glance-api-paste.ini

[keystone_authtoken]
www_authenticate_uri = {keystone}
auth_url = {keystone}
auth_type = password
project_domain_name = Default
user_domain_name = Default
project_name = service
username = glance
password = {secrets_['glance']}
region_name = {region}
memcached_servers =

[wsgi]
python_interpreter = {venv}/bin/python

[oslo_policy]
enforce_new_defaults = true
enforce_scope = true

[import_filtering_opts]
allowed_schemes = [http,https]
allowed_hosts = [127.0.0.1,localhost]
allowed_ports = [{allowed_ports}]
{conversion_opts(region)}""")
    # API workers as a real Glance runs them (LOCALCLOUD_GLANCE_WORKERS); import flows run in
    # the background threads of the worker that took the import request
    (d / "uwsgi.ini").write_text(uwsgi_ini(
        port, "glance.wsgi.api:application", threads=1, processes=int(setting("GLANCE_WORKERS", "2")),
        extra=f"http-auto-chunked = true\npy-sys-executable = {venv}/bin/python\n"))


def swift_files(d: Path, region: str, ports: dict[str, int], keystone: str, secrets_: dict) -> None:
    for sub in ("etc", "srv/d1", "cache"):
        (d / sub).mkdir(parents=True, exist_ok=True)
    etc, user = d / "etc", os.environ.get("USER") or subprocess.check_output(["id", "-un"], text=True).strip()
    port = {k: ports[f"swift-{k}-{region.lower()}"] for k in SWIFT_KINDS}
    suffix = secrets.token_hex(8)
    (etc / "swift.conf").write_text(f"""\
[swift-hash]
swift_hash_path_prefix = {region}-pre-{suffix}
swift_hash_path_suffix = {region}-suf-{suffix}

[storage-policy:0]
name = Policy-0
default = yes

[swift-constraints]
max_file_size = {setting('SWIFT_MAX_FILE_SIZE', str(64 * 1024 ** 2))}
container_listing_limit = {setting('SWIFT_LISTING_LIMIT', '100')}
""")
    common = f"""\
[DEFAULT]
swift_dir = {etc}
devices = {d}/srv
mount_check = false
disable_fallocate = true
bind_ip = 127.0.0.1
workers = {setting('SWIFT_WORKERS', '0')}
user = {user}
log_level = INFO
recon_cache_path = {d}/cache
"""
    for kind in ("account", "container", "object"):
        (etc / f"{kind}-server.conf").write_text(f"""{common}bind_port = {port[kind]}
log_name = {region}-{kind}

[pipeline:main]
pipeline = healthcheck {kind}-server

[app:{kind}-server]
use = egg:swift#{kind}

[filter:healthcheck]
use = egg:swift#healthcheck
""")
    filters = "\n".join(
        f"[filter:{name}]\nuse = egg:swift#{egg}" for name, egg in (
            ("healthcheck", "healthcheck"), ("catch_errors", "catch_errors"),
            ("gatekeeper", "gatekeeper"), ("proxy-logging", "proxy_logging"),
            ("listing_formats", "listing_formats"), ("bulk", "bulk"), ("tempurl", "tempurl"),
            ("copy", "copy"), ("slo", "slo"), ("dlo", "dlo"), ("symlink", "symlink"),
        ))
    # Swift's default serves 10 segments of a DLO GET at full speed, then one a second
    filters = filters.replace("use = egg:swift#dlo", "use = egg:swift#dlo\nrate_limit_after_segment = "
                              f"{setting('SWIFT_DLO_RATE_LIMIT_AFTER', '1000')}")
    # the Host header in the access log tells the public endpoint (127.0.0.1) from the internal one (localhost)
    filters = filters.replace("use = egg:swift#proxy_logging", "use = egg:swift#proxy_logging\n"
                              "access_log_headers = true\naccess_log_headers_only = Host")
    (etc / "proxy-server.conf").write_text(f"""{common}bind_port = {port['proxy']}
log_name = {region}-proxy

[pipeline:main]
pipeline = catch_errors gatekeeper healthcheck proxy-logging listing_formats bulk tempurl authtoken keystoneauth copy slo dlo symlink proxy-logging proxy-server

[app:proxy-server]
use = egg:swift#proxy
account_autocreate = true
# one replica on one device: no handoffs worth waiting for
conn_timeout = 2
node_timeout = 30
recoverable_node_timeout = 30

[filter:authtoken]
paste.filter_factory = keystonemiddleware.auth_token:filter_factory
www_authenticate_uri = {keystone}/v3
auth_url = {keystone}/v3
auth_type = password
username = swift
password = {secrets_['swift']}
project_name = service
user_domain_id = default
project_domain_id = default
region_name = {region}
interface = public
delay_auth_decision = true
include_service_catalog = false
token_cache_time = 300
http_connect_timeout = 5

[filter:keystoneauth]
use = egg:swift#keystoneauth
reseller_prefix = AUTH_
# keystone-manage bootstrap names the project role "member" (not "_member_")
operator_roles = admin, member
reseller_admin_role = ResellerAdmin

{filters}
""")


def build_rings(venv: Path, d: Path, region: str, ports: dict[str, int]) -> None:
    script = """
import sys
from swift.common.ring import RingBuilder
etc = sys.argv[1]
for kind, port in zip(("account", "container", "object"), map(int, sys.argv[2:])):
    b = RingBuilder(6, 1, 1)
    b.add_dev({"region": 1, "zone": 1, "ip": "127.0.0.1", "port": port, "device": "d1",
               "weight": 100, "replication_ip": "127.0.0.1", "replication_port": port})
    b.rebalance()
    b.save(f"{etc}/{kind}.builder")
    b.get_ring().save(f"{etc}/{kind}.ring.gz")
"""
    argv = [str(venv / "bin" / "python"), "-c", script, str(d / "etc")]
    argv += [str(ports[f"swift-{k}-{region.lower()}"]) for k in ("account", "container", "object")]
    subprocess.run(argv, check=True, capture_output=True)


# ---------------------------------------------------------------- database templates

# ---------------------------------------------------------------- Keystone contents

def populate_keystone(keystone: str, ports: dict[str, int], pw: dict) -> dict:
    token, _ = password_token(keystone, "admin", pw["admin"], "admin")
    api = Rest(keystone, token)
    api.call("POST", "/v3/regions", {"region": {"id": "RegionTwo"}})

    def one(kind: str, body: dict) -> str:
        return api.call("POST", f"/v3/{kind}s", {kind: body})[2][kind]["id"]

    role = {r["name"]: r["id"] for r in api.call("GET", "/v3/roles")[2]["roles"]}
    project = {name: one("project", {"name": name, "domain_id": "default"})
               for name in ("service", "producer", "consumer")}
    users = {}
    for name, proj, roles in (("glance", "service", ("admin", "service")),
                              ("swift", "service", ("admin", "service")),
                              ("producer", "producer", ("member",)),
                              ("consumer", "consumer", ("member",))):
        users[name] = one("user", {"name": name, "password": pw[name], "domain_id": "default",
                                   "default_project_id": project[proj]})
        for r in roles:
            api.call("PUT", f"/v3/projects/{project[proj]}/users/{users[name]}/roles/{role[r]}")

    services = {s["type"]: s["id"] for s in api.call("GET", "/v3/services")[2]["services"]}
    services["image"] = one("service", {"name": "glance", "type": "image"})
    services["object-store"] = one("service", {"name": "swift", "type": "object-store"})
    for region in REGIONS:
        r = region.lower()
        urls = {"image": "http://{host}:%d" % ports[f"glance-{r}"],
                "object-store": "http://{host}:%d/v1/AUTH_%%(project_id)s" % ports[f"swift-proxy-{r}"]}
        if region != "RegionOne":  # bootstrap made RegionOne's identity endpoints
            urls["identity"] = "http://{host}:%d/v3" % ports["keystone"]
        for stype, url in urls.items():
            # internal uses the name localhost: another address for the same loopback
            # servers, so a test can tell which interface a client chose
            for interface, host in (("public", "127.0.0.1"), ("internal", "localhost"),
                                    ("admin", "127.0.0.1")):
                one("endpoint", {"service_id": services[stype], "region_id": region,
                                 "interface": interface, "url": url.format(host=host)})

    ptoken, _ = password_token(keystone, "producer", pw["producer"], "producer")
    cred = Rest(keystone, ptoken).call(
        "POST", f"/v3/users/{users['producer']}/application_credentials",
        {"application_credential": {"name": "localcloud-producer"}})[2]["application_credential"]
    return {"projects": project, "users": users,
            "app_credential": {"id": cred["id"], "secret": cred["secret"], "user": "producer"}}


def clouds_yaml(keystone: str, identity_v2: str, pw: dict, appcred: dict) -> str:
    def v3(user: str) -> str:
        return f"""\
  localcloud-{user}:
    auth:
      auth_url: {keystone}/v3
      username: {user}
      password: "{pw[user]}"
      project_name: {user}
      user_domain_name: Default
      project_domain_name: Default
    identity_api_version: 3
{common}"""
    common = "    region_name: RegionOne\n    regions: [RegionOne, RegionTwo]\n    interface: public\n"
    return "clouds:\n" + "".join(v3(u) for u in ("admin", "producer", "consumer")) + f"""\
  localcloud-producer-appcred:
    auth_type: v3applicationcredential
    auth:
      auth_url: {keystone}/v3
      application_credential_id: {appcred['id']}
      application_credential_secret: "{appcred['secret']}"
    identity_api_version: 3
{common}  localcloud-producer-apikey:
    auth_type: rax_apikey
    auth:
      auth_url: {identity_v2}/v2.0
      username: producer
      api_key: "{pw['producer-apikey']}"
{common}"""


# ---------------------------------------------------------------- start

def start() -> dict:
    records = our_processes() if (STATE / "pids").exists() else {}
    if records:
        if all(r["alive"] for r in records.values()) and (STATE / "cloud.json").exists():
            log(f"already running ({len(records)} processes); state in {STATE}")
            return json.loads((STATE / "cloud.json").read_text())
        log("some processes of an earlier start are gone: stopping the rest first")
        stop()
    ports = pick_ports()
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        cloud_venv = pool.submit(ensure_venv, "keystone-glance", HERE / "requirements" / "keystone-glance.lock")
        swift_venv = pool.submit(ensure_venv, "swift", HERE / "requirements" / "swift.lock")
        cloud_venv, swift_venv = cloud_venv.result(), swift_venv.result()
    if STATE.exists():
        shutil.rmtree(STATE)
    for sub in ("logs", "pids"):
        (STATE / sub).mkdir(parents=True)
    STATE.chmod(0o700)
    try:
        return _start(ports, cloud_venv, swift_venv)
    except BaseException:
        stop()
        raise


def _start(ports: dict[str, int], cloud_venv: Path, swift_venv: Path) -> dict:
    keystone = f"http://127.0.0.1:{ports['keystone']}"
    pw = {name: secrets.token_urlsafe(18) for name in
          ("admin", "glance", "swift", "producer", "consumer", "consumer-apikey", "producer-apikey")}
    expiration = int(setting("TOKEN_EXPIRATION", "3600"))

    # Swift first: it needs nothing else to come up (authtoken reaches Keystone lazily)
    for region in REGIONS:
        d = STATE / f"swift-{region.lower()}"
        swift_files(d, region, ports, keystone, pw)
        build_rings(swift_venv, d, region, ports)
        for kind in SWIFT_KINDS:
            spawn(f"swift-{kind}-{region.lower()}", [
                str(swift_venv / "bin" / "python"), str(HERE / "swift_server.py"),
                str(d / "etc"), f"{kind}-server", str(d / "etc" / f"{kind}-server.conf")])

    start_database(cloud_venv, HERE / "requirements" / "keystone-glance.lock", ports["postgres"])
    ks = STATE / "keystone"
    ks.mkdir()
    keystone_files(ks, ports["keystone"], expiration, ports["postgres"])
    manage = [str(cloud_venv / "bin" / "keystone-manage"), "--config-file", str(ks / "keystone.conf")]
    user = ["--keystone-user", str(os.getuid()), "--keystone-group", str(os.getgid())]
    for region in REGIONS:
        glance_files(STATE / f"glance-{region.lower()}", cloud_venv, region, ports, keystone, pw)
    for step in (["fernet_setup", *user], ["credential_setup", *user], [
            "bootstrap", "--bootstrap-region-id", "RegionOne",
            "--bootstrap-public-url", f"{keystone}/v3",
            "--bootstrap-internal-url", f"http://localhost:{ports['keystone']}/v3",
            "--bootstrap-admin-url", f"{keystone}/v3"]):
        # the admin password goes by environment: on the command line a random one that
        # happens to start with "-" is read as an option (CI met this), and it would show in ps
        done = subprocess.run(manage + step, capture_output=True, text=True,
                              env={**os.environ, "OS_BOOTSTRAP_PASSWORD": pw["admin"]})
        if done.returncode:
            raise CloudError(f"keystone-manage {step[0]} failed:\n{(done.stdout + done.stderr)[-3000:]}")
    spawn("keystone", [str(cloud_venv / "bin" / "uwsgi"), "--ini", str(ks / "uwsgi.ini")],
          {"OS_KEYSTONE_CONFIG_DIR": str(ks)})
    log("keystone starting; the databases (PostgreSQL) ready")
    wait_http("keystone", f"{keystone}/v3")
    ids = populate_keystone(keystone, ports, pw)
    log("keystone has its regions, projects, users, catalog and an application credential")

    for region in REGIONS:
        d = STATE / f"glance-{region.lower()}"
        spawn(f"glance-{region.lower()}", [str(cloud_venv / "bin" / "uwsgi"), "--ini", str(d / "uwsgi.ini")],
              {"OS_GLANCE_CONFIG_DIR": str(d)})

    identity_v2 = f"http://127.0.0.1:{ports['identity-v2']}"
    emulator = {
        "keystone": keystone,
        "identity_port": ports["identity-v2"],
        "regions": {region: {"glance": f"http://127.0.0.1:{ports[f'glance-{region.lower()}']}",
                             "port": ports[f"images-proxy-{region.lower()}"]} for region in REGIONS},
        "api_keys": {"producer": {"api_key": pw["producer-apikey"], "password": pw["producer"]},
                     "consumer": {"api_key": pw["consumer-apikey"], "password": pw["consumer"]}},
        "export_segment_size": int(setting("EXPORT_SEGMENT_SIZE", str(4 * 1024 ** 2))),
        "task_step_seconds": float(setting("TASK_STEP_SECONDS", "0.5")),
        # a test writes faults here for the tasks that follow (see the emulator's docstring)
        "faults_file": str(STATE / "vendor-faults.json"),
    }
    (STATE / "emulator.json").write_text(json.dumps(emulator, indent=1))
    spawn("vendor-emulator", [str(cloud_venv / "bin" / "python"), str(HERE / "vendor_emulator.py"),
                              str(STATE / "emulator.json")])

    for region in REGIONS:
        r = region.lower()
        for kind in SWIFT_KINDS:
            wait_http(f"swift-{kind}-{r}", f"http://127.0.0.1:{ports[f'swift-{kind}-{r}']}/healthcheck")
        wait_http(f"glance-{r}", f"http://127.0.0.1:{ports[f'glance-{r}']}/healthcheck")
    wait_http("vendor-emulator", f"{identity_v2}/v2.0")
    verify_end_to_end(keystone, identity_v2, ports, pw)

    cloud = {
        "state_dir": str(STATE),
        "clouds_yaml": str(STATE / "clouds.yaml"),
        "keystone": keystone,
        "identity_v2": identity_v2,
        "ports": ports,
        "regions": {region: {
            "glance": f"http://127.0.0.1:{ports[f'glance-{region.lower()}']}",
            "images_proxy": f"http://127.0.0.1:{ports[f'images-proxy-{region.lower()}']}",
            "swift": f"http://127.0.0.1:{ports[f'swift-proxy-{region.lower()}']}",
        } for region in REGIONS},
        "passwords": pw,
        # the databases, for tests that set what no API lets them (psql -h 127.0.0.1 -p PORT -U postgres -d NAME)
        "database": {"psql": str(pg_bin() / "psql"), "port": ports["postgres"], "user": "postgres",
                     "names": {"keystone": "keystone", **{region: f"glance_{region.lower()}" for region in REGIONS}}},
        **ids,
        "settings": {key: setting(key, default) for key, default in (
            ("SWIFT_LISTING_LIMIT", "100"), ("SWIFT_MAX_FILE_SIZE", str(64 * 1024 ** 2)),
            ("EXPORT_SEGMENT_SIZE", str(4 * 1024 ** 2)), ("TOKEN_EXPIRATION", "3600"),
            ("SWIFT_WORKERS", "0"), ("SWIFT_DLO_RATE_LIMIT_AFTER", "1000"), ("IMAGE_CONVERSION", ""),
            ("GLANCE_WORKERS", "2"))},
    }
    write_private(STATE / "clouds.yaml", clouds_yaml(keystone, identity_v2, pw, ids["app_credential"]))
    write_private(STATE / "cloud.json", json.dumps(cloud, indent=1))
    (STATE / "env.sh").write_text(env_exports())
    log(f"ready: OS_CLIENT_CONFIG_FILE={STATE / 'clouds.yaml'} "
        "(clouds localcloud-admin, -producer, -consumer, -producer-appcred, -producer-apikey)")
    return cloud


def verify_end_to_end(keystone: str, identity_v2: str, ports: dict[str, int], pw: dict) -> None:
    """A producer token is accepted by both Glances and both Swifts; the API key gets a token."""
    token, doc = password_token(keystone, "producer", pw["producer"], "producer")
    project = doc["project"]["id"]
    for region in REGIONS:
        r = region.lower()
        for name, url in ((f"glance-{r}", f"http://127.0.0.1:{ports[f'glance-{r}']}/v2/images"),
                          (f"swift-proxy-{r}", f"http://127.0.0.1:{ports[f'swift-proxy-{r}']}/v1/AUTH_{project}"),
                          ("vendor-emulator", f"http://127.0.0.1:{ports[f'images-proxy-{r}']}/v2/tasks")):
            try:
                Rest(url, token).call("GET", "")
            except CloudError as exc:
                raise CloudError(f"{name} refused a producer token: {exc}\n{log_tail(name)}") from None
    Rest(identity_v2).call("POST", "/v2.0/tokens", {"auth": {"RAX-KSKEY:apiKeyCredentials": {
        "username": "producer", "apiKey": pw["producer-apikey"]}}})


def write_private(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(text)


def env_exports() -> str:
    return f"export OS_CLIENT_CONFIG_FILE={STATE / 'clouds.yaml'}\nexport LOCALCLOUD_DIR={STATE}\n"


def status() -> int:
    records = our_processes() if (STATE / "pids").exists() else {}
    if not records:
        print(f"not running (state folder {STATE})")
        return 1
    for name, r in records.items():
        print(f"{name:28} pid {r['pid']:>7}  {'running' if r['alive'] else 'GONE'}")
    cloud = STATE / "cloud.json"
    if cloud.exists():
        doc = json.loads(cloud.read_text())
        print(f"keystone {doc['keystone']}/v3   identity v2.0 {doc['identity_v2']}/v2.0")
        for region, urls in doc["regions"].items():
            print(f"{region}: glance {urls['glance']}  images (vendor) {urls['images_proxy']}  swift {urls['swift']}")
        print(f"clouds.yaml: {doc['clouds_yaml']}")
    return 0 if all(r["alive"] for r in records.values()) else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=("start", "stop", "status", "env"))
    command = parser.parse_args().command
    try:
        if command == "start":
            started = time.monotonic()
            start()
            log(f"started in {time.monotonic() - started:.1f} s")
            return 0
        if command == "stop":
            if (STATE / "pids").exists():
                stop()
            return 0
        if command == "status":
            return status()
        print(env_exports(), end="")
        return 0
    except CloudError as exc:
        print(f"localcloud: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
