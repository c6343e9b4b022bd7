"""Helpers and fixtures for the end-to-end tests of the modules and the role, through ansible-playbook.

What a YAML target cannot do lives here: killing a transfer part-way, talking to other
clients (the swift CLI), damaging an object on a server's disk.
"""
from __future__ import annotations

import hashlib
import json
import os
import pickle
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
ANSIBLE_PLAYBOOK = str(Path(sys.executable).parent / "ansible-playbook")
sys.path.insert(0, str(REPO / "tests" / "localcloud"))

from cloudtest import *  # noqa: E402,F401,F403  (fixtures and helpers)


__all__ = ["ANSIBLE_PLAYBOOK", "MiB", "Runner", "SWIFT_CLI", "clouds_with", "collections_path", "file_md5", "kill_tree",
           "listing", "progress_reached", "run_progress",
           "own_cloud", "random_file", "run", "swift_cli", "swift_object_file"]

MiB = 1024 * 1024
SWIFT_CLI = str(Path(sys.executable).parent / "swift")


def clouds_with(cloud: dict, path: Path, entries: dict) -> dict:
    """The local cloud's clouds.yaml copied to ``path`` (0600) with more clouds - ``{name: (base
    cloud, changes)}``, the changes updating a copy of the base's settings (its ``auth`` key by
    key) - e.g. an endpoint override through a fault proxy. Returns ``cloud`` pointing at it."""
    import yaml

    config = yaml.safe_load(Path(cloud["clouds_yaml"]).read_text())
    for name, (base, changes) in entries.items():
        entry = json.loads(json.dumps(config["clouds"][base]))
        entry["auth"].update(changes.get("auth", {}))
        entry.update({k: v for k, v in changes.items() if k != "auth"})
        config["clouds"][name] = entry
    path.write_text(yaml.safe_dump(config))
    path.chmod(0o600)
    return {**cloud, "clouds_yaml": str(path)}


def run_progress(staging: Path, source_id: str, phase: str, region: str = "RegionTwo") -> Path | None:
    """The progress file of the role's ``phase`` for ``source_id`` to ``region``, in the folder of the
    run that writes it (roles/region_transfer/tasks/run_folder.yml), once there is one."""
    return next(iter(sorted(staging.glob(f".cloudimages-{source_id}-*/{region}.{phase}.progress.json"))), None)


def progress_reached(proc, progress, fraction: float, operation: str = "copy", timeout: float = 180) -> float:
    """Wait until the progress file of a running playbook shows ``operation`` past ``fraction``
    (the file is shared by the phases: the export's bytes come first); the fraction seen last.
    ``progress``: the file, or a function that finds it (None until it exists)."""
    deadline, done = time.monotonic() + timeout, 0.0
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            doc = json.loads((progress() if callable(progress) else progress).read_text())
            if doc.get("operation") == operation:
                done = doc["bytes_done"] / doc["bytes_total"]
        except (OSError, ValueError, KeyError, ZeroDivisionError, AttributeError):  # AttributeError: no file yet
            pass
        if done > fraction:
            break
        time.sleep(0.05)
    return done


def random_file(path: Path, size: int) -> str:
    digest = hashlib.md5()
    with open(path, "wb") as f:
        remaining = size
        while remaining:
            chunk = os.urandom(min(remaining, 4 * MiB))
            f.write(chunk)
            digest.update(chunk)
            remaining -= len(chunk)
    return digest.hexdigest()


def file_md5(path: Path) -> str:
    digest = hashlib.md5()
    with open(path, "rb") as f:
        while chunk := f.read(4 * MiB):
            digest.update(chunk)
    return digest.hexdigest()


def swift_cli(producer, region: str, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([SWIFT_CLI, "--os-auth-token", producer.token,
                           "--os-storage-url", producer.url("object-store", region), *args],
                          capture_output=True, text=True, cwd=cwd)


def listing(producer, region: str, container: str, prefix: str = "") -> list:
    """Every object under the prefix (all listing pages); [] for a missing container."""
    found = []
    with producer.session() as s:
        while True:
            params = {"format": "json", "prefix": prefix, "marker": found[-1]["name"] if found else ""}
            resp = s.get(f"{producer.url('object-store', region)}/{container}", params=params)
            page = resp.json() if resp.status_code == 200 else []
            if not page:
                return found
            found.extend(page)


def own_cloud(state: Path, **settings: str):
    """A local cloud of its own (other LOCALCLOUD_* settings than the shared one), stopped after use."""
    env = {**os.environ, "LOCALCLOUD_DIR": str(state), **{f"LOCALCLOUD_{k}": v for k, v in settings.items()}}
    launcher = [os.environ.get("LOCALCLOUD_PYTHON") or "python3", str(REPO / "tests" / "localcloud" / "localcloud.py")]
    done = subprocess.run(launcher + ["start"], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]
    try:
        yield json.loads((state / "cloud.json").read_text())
    finally:
        subprocess.run(launcher + ["stop"], env=env, capture_output=True)


@pytest.fixture(scope="session")
def collections_path(tmp_path_factory) -> Path:
    """An ansible_collections tree whose cloudimages/transfer is this checkout."""
    root = tmp_path_factory.mktemp("collections")
    (root / "ansible_collections" / "cloudimages").mkdir(parents=True)
    (root / "ansible_collections" / "cloudimages" / "transfer").symlink_to(REPO)
    return root


class Runner:
    """Runs one module task in a playbook and hands back its registered result."""

    def __init__(self, collections: Path, cloud: dict, workdir: Path):
        self.env = {**os.environ, "ANSIBLE_COLLECTIONS_PATH": str(collections),
                    "OS_CLIENT_CONFIG_FILE": cloud["clouds_yaml"], "ANSIBLE_NOCOLOR": "1",
                    "ANSIBLE_LOCALHOST_WARNING": "false", "ANSIBLE_INVENTORY_UNPARSED_WARNING": "false"}
        self.workdir = workdir
        self.count = 0

    def playbook(self, module: str, args: dict, check: bool = False, diff: bool = False) -> tuple[Path, Path]:
        self.count += 1
        out = self.workdir / f"result-{self.count}.json"
        play = [{"hosts": "localhost", "gather_facts": False,
                 "vars": {"ansible_python_interpreter": sys.executable},
                 "tasks": [
                     {"name": "module under test", f"cloudimages.transfer.{module}": args,
                      "register": "r", "ignore_errors": True, "check_mode": check, "diff": diff},
                     {"name": "keep the result", "ansible.builtin.copy": {
                         "content": "{{ r | to_json }}", "dest": str(out), "mode": "0600"}}]}]
        path = self.workdir / f"play-{self.count}.yml"
        path.write_text(json.dumps(play))
        return path, out

    def __call__(self, module: str, args: dict, check: bool = False, verbosity: str = "", diff: bool = False) -> dict:
        path, out = self.playbook(module, args, check, diff)
        argv = [ANSIBLE_PLAYBOOK, str(path)] + ([verbosity] if verbosity else [])
        done = subprocess.run(argv, env=self.env, capture_output=True, text=True, cwd=self.workdir)
        assert out.exists(), done.stdout + done.stderr
        result = json.loads(out.read_text())
        result["_output"] = done.stdout + done.stderr
        return result

    def killed_part_way(self, module: str, args: dict, progress: Path, fraction: float, timeout: float = 120):
        """Start the task, SIGKILL the whole process group once progress passes fraction."""
        path, _ = self.playbook(module, args)
        proc = subprocess.Popen([ANSIBLE_PLAYBOOK, str(path)], env=self.env, cwd=self.workdir,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + timeout
        done = 0.0
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                doc = json.loads(progress.read_text())
                done = doc["bytes_done"] / max(doc["bytes_total"], 1)
            except (OSError, ValueError, KeyError):
                done = 0.0
            if done >= fraction:
                kill_tree(proc.pid)
                proc.wait()
                return done
            time.sleep(0.02)
        proc.kill()
        raise AssertionError(f"the transfer ended (or stalled) before {fraction:.0%}; last progress {done:.0%}")


def kill_tree(pid: int) -> None:
    """SIGKILL a process and all its descendants (Ansible may run the module in another session)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    family, todo = [], [pid]
    while todo:
        current = todo.pop()
        family.append(current)
        todo.extend(children.get(current, []))
    for member in family:
        try:
            os.kill(member, signal.SIGKILL)
        except ProcessLookupError:
            pass


@pytest.fixture
def run(collections_path, cloud, tmp_path) -> Runner:
    return Runner(collections_path, cloud, tmp_path)


def swift_object_file(cloud: dict, region: str, account: str, container: str, name: str) -> Path:
    """The .data file a region's object server keeps for an object (found by its metadata)."""
    wanted = f"/{account}/{container}/{name}"
    root = Path(cloud["state_dir"]) / f"swift-{region.lower()}" / "srv"
    for path in root.rglob("*.data"):
        raw, index = b"", 0
        while True:
            key = "user.swift.metadata" + (str(index) if index else "")
            try:
                raw += os.getxattr(path, key)
            except OSError:
                break
            index += 1
        meta = pickle.loads(raw) if raw else {}  # noqa: S301 - our own server's metadata
        name = meta.get("name", meta.get(b"name"))
        if name in (wanted, wanted.encode()):
            return path
    raise LookupError(f"no object file for {wanted} in {root}")
