"""The transfer_image playbook spread over worker hosts: real sshd daemons on 127.0.0.1.

Two OpenSSH servers (Debian's openssh-server, started by the test on free ports, each setting
an environment variable that names it in every session) are the inventory group
transfer_workers; the modules run on them over SSH with their own Python. Assertions are on
the clouds' state, the sshd logs (sessions per worker) and the JSON report.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest
from cloudtest import create_image, md5
from systemtest import ANSIBLE_PLAYBOOK, MiB, kill_tree

SSHD = "/usr/sbin/sshd"
KEY = "com.cloudimages.image-of"
WORKER_PYTHON = str(Path(ANSIBLE_PLAYBOOK).parent / "python")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Worker:
    """One sshd on loopback whose sessions carry CLOUDIMAGES_TEST_WORKER=<name>-<port> (unique on the
    machine, so that killing a worker never touches another test's) and a HOME of their own
    (so that the worker's '~/.ansible_async' is not the controller's, and no start-up file of this
    machine's user - pyenv's rehash, say - runs in every session)."""

    def __init__(self, name: str, folder: Path, client_key: Path):
        self.name, self.folder, self.port = name, folder, free_port()
        self.marker = f"{name}-{self.port}"  # a port is held by one sshd at a time
        (folder / "home").mkdir(parents=True)  # a home of its own: no shell start-up files of this machine's user
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(folder / "host_key")], check=True)
        shutil.copy(f"{client_key}.pub", folder / "authorized_keys")
        (folder / "sshd_config").write_text(
            f"ListenAddress 127.0.0.1\nPort {self.port}\nHostKey {folder / 'host_key'}\nPidFile {folder / 'sshd.pid'}\n"
            f"AuthorizedKeysFile {folder / 'authorized_keys'}\nPasswordAuthentication no\n"
            "KbdInteractiveAuthentication no\nPermitRootLogin prohibit-password\nUsePAM no\nStrictModes no\n"
            f"LogLevel VERBOSE\nSetEnv CLOUDIMAGES_TEST_WORKER={self.marker} HOME={folder / 'home'}\n"
            "MaxSessions 50\nMaxStartups 50\n"
            "Subsystem sftp /usr/lib/openssh/sftp-server\n")
        self.start()

    def start(self):
        Path("/run/sshd").mkdir(exist_ok=True)
        subprocess.run([SSHD, "-f", str(self.folder / "sshd_config"), "-E", str(self.folder / "sshd.log")], check=True)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.1)
        raise AssertionError(f"sshd {self.name} did not start: {(self.folder / 'sshd.log').read_text()[-2000:]}")

    def sessions(self) -> int:
        """Commands run over SSH (Ansible multiplexes them over a few connections)."""
        return (self.folder / "sshd.log").read_text().count("Starting session: command")

    def kill(self):
        """The worker dies: its sshd, every session, and what its sessions left running (async jobs)."""
        pid_file = self.folder / "sshd.pid"
        if pid_file.exists():
            kill_tree(int(pid_file.read_text()))
            pid_file.unlink()
        marker = f"CLOUDIMAGES_TEST_WORKER={self.marker}".encode()
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    if marker in (entry / "environ").read_bytes().split(b"\0"):
                        os.kill(int(entry.name), signal.SIGKILL)
                except (OSError, ProcessLookupError):
                    continue


@pytest.fixture
def workers(tmp_path):
    if not os.access(SSHD, os.X_OK):
        pytest.fail("openssh-server is not installed (hacking/lib.sh installs it)")
    key = tmp_path / "client_key"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    made = [Worker(f"worker{n}", tmp_path / f"worker{n}", key) for n in (1, 2)]
    inventory = tmp_path / "inventory.ini"
    inventory.write_text("[transfer_workers]\n" + "".join(
        f"{w.name} ansible_host=127.0.0.1 ansible_port={w.port} ansible_user={os.environ.get('USER', 'root')} "
        # HOME is not the password database's home: Ansible would resolve '~' of async_status as ~user
        f"transfer_worker_async_dir={w.folder / 'home' / '.ansible_async'} "
        f"ansible_ssh_private_key_file={key} ansible_python_interpreter={WORKER_PYTHON} "
        "ansible_ssh_common_args='-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null'\n" for w in made))
    yield made, inventory
    for w in made:
        w.kill()


def play(collections_path, cloud, tmp_path, inventory: Path, extra: dict, background: Path | None = None):
    env = {**os.environ, "ANSIBLE_COLLECTIONS_PATH": str(collections_path), "ANSIBLE_NOCOLOR": "1",
           "ANSIBLE_LOCALHOST_WARNING": "false", "ANSIBLE_HOST_KEY_CHECKING": "false",
           "ANSIBLE_SSH_CONTROL_PATH_DIR": str(tmp_path / "cp")}
    variables = {"region_transfer_source_cloud": "localcloud-producer", "region_transfer_source_region": "RegionOne",
                 "region_transfer_target_region": "RegionTwo", "region_transfer_poll_interval": 1,
                 "region_transfer_progress_interval": 1, "region_transfer_segment_size": "4MiB",
                 "region_transfer_staging_dir": str(tmp_path), "transfer_report": str(tmp_path / "report.json"),
                 # SSH does not carry the controller's environment: the workers are told where clouds.yaml is
                 "transfer_environment": {"OS_CLIENT_CONFIG_FILE": cloud["clouds_yaml"]}, **extra}
    (tmp_path / "vars.json").write_text(json.dumps(variables))
    argv = [ANSIBLE_PLAYBOOK, "-i", str(inventory), "cloudimages.transfer.transfer_image", "-e", f"@{tmp_path / 'vars.json'}"]
    if background:
        return subprocess.Popen(argv, env=env, cwd=tmp_path, stdout=open(background, "w"),  # noqa: SIM115
                                stderr=subprocess.STDOUT, start_new_session=True)
    done = subprocess.run(argv, env=env, cwd=tmp_path, capture_output=True, text=True)
    return done.returncode, done.stdout + done.stderr


def target_images(producer, source_id: str) -> list:
    with producer.session() as s:
        return s.get(f"{producer.url('image', 'RegionTwo')}/v2/images", params={KEY: source_id}).json()["images"]


def changed_count(output: str) -> int:
    return sum(int(n) for n in re.findall(r"^transfer-\S+\s*: ok=\d+\s+changed=(\d+)", output, re.MULTILINE))


def test_four_images_over_two_workers(collections_path, cloud, producer, unique, tmp_path, workers):
    made, inventory = workers
    payloads = [os.urandom(2 * MiB + n) for n in range(4)]
    with producer.session() as s:
        sources = [create_image(s, producer.url("image", "RegionOne"), p, name=f"{unique} wörker {n}")
                   for n, p in enumerate(payloads)]
    before = [w.sessions() for w in made]
    # one image per worker at a time: two cores serve both workers, the cloud and the controller here
    rc, out = play(collections_path, cloud, tmp_path, inventory, {"transfer_images": [s["id"] for s in sources],
                                                                  "transfer_worker_parallel": 1})
    assert rc == 0, out[-4000:]
    for source, data in zip(sources, payloads):
        [target] = target_images(producer, source["id"])  # each image moved once
        assert target["status"] == "active" and target["checksum"] == md5(data)
    # the modules ran on the workers: each served SSH sessions, and each image was delegated to one
    assert all(w.sessions() > b + 5 for w, b in zip(made, before)), [w.sessions() for w in made]
    # the progress lines name the worker each image ran on (a phase that ends before the first
    # poll prints none, so not every image need have a line)
    named = {}
    for n, source in enumerate(sources):
        named[n] = set(re.findall(rf"^\[transfer-{source['id']} -> (\w+)\] ", out, re.MULTILINE))
        assert named[n] <= {f"worker{n % 2 + 1}"}, out[-3000:]
    assert set().union(*named.values()) == {"worker1", "worker2"}, out[-3000:]
    report = json.loads((tmp_path / "report.json").read_text())
    assert [(r["source_image_id"], r["worker"], r["result"]) for r in report["images"]] == \
        [(s["id"], f"worker{n % 2 + 1}", "transferred") for n, s in enumerate(sources)]
    assert all(r["target_image_id"] and r["phases"]["copy"] >= 0 for r in report["images"])
    rc, again = play(collections_path, cloud, tmp_path, inventory, {"transfer_images": [s["id"] for s in sources]})
    assert rc == 0 and changed_count(again) == 0, again[-3000:]
    assert {r["result"] for r in json.loads((tmp_path / "report.json").read_text())["images"]} == {"already there"}


def test_a_worker_that_does_not_answer_fails_its_images_only_and_a_rerun_finishes_them(collections_path, cloud,
                                                                                       producer, unique, tmp_path,
                                                                                       workers):
    made, inventory = workers
    payloads = [os.urandom(3 * MiB + n) for n in range(2)]
    with producer.session() as s:
        sources = [create_image(s, producer.url("image", "RegionOne"), p, name=f"{unique}-{n}")
                   for n, p in enumerate(payloads)]
    extra = {"transfer_images": [s["id"] for s in sources]}
    made[1].kill()  # worker2 is down: its image (the second) fails, the first goes on
    rc, out = play(collections_path, cloud, tmp_path, inventory, extra)
    assert rc != 0, out[-3000:]
    rows = json.loads((tmp_path / "report.json").read_text())["images"]
    assert [(r["worker"], r["result"]) for r in rows] == [("worker1", "transferred"), ("worker2", "failed")], out[-3000:]
    assert rows[1]["error"].startswith("A worker that does not answer fails its images, not the run: worker worker2 "
                                       "is unreachable")
    assert target_images(producer, sources[1]["id"]) == []
    made[1].start()
    rc, out = play(collections_path, cloud, tmp_path, inventory, extra)
    assert rc == 0, out[-4000:]
    rows = json.loads((tmp_path / "report.json").read_text())["images"]
    assert [r["result"] for r in rows] == ["already there", "transferred"]
    for source, data in zip(sources, payloads):
        [target] = target_images(producer, source["id"])
        assert target["status"] == "active" and target["checksum"] == md5(data)


def test_a_worker_killed_mid_copy_fails_its_image_only_and_a_rerun_resumes_it(collections_path, cloud, producer,
                                                                              unique, tmp_path, workers):
    made, inventory = workers
    payloads = [os.urandom(24 * MiB + n) for n in range(2)]
    with producer.session() as s:
        sources = [create_image(s, producer.url("image", "RegionOne"), p, name=f"{unique}-{n}")
                   for n, p in enumerate(payloads)]
    # the cap makes each copy last about 8 s, so that worker2 dies while its copy runs
    # the object-store path, whose copy resumes (auto would pick glance-download in one cloud)
    extra = {"transfer_images": [s["id"] for s in sources], "region_transfer_max_rate": "3MiB/s",
             "region_transfer_import_method": "web-download"}
    log = tmp_path / "playbook.log"
    proc = play(collections_path, cloud, tmp_path, inventory, extra, background=log)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None and "-> worker2] copy:" not in log.read_text():
        time.sleep(0.3)
    assert "-> worker2] copy:" in log.read_text(), log.read_text()[-3000:]
    made[1].kill()  # its sshd, its sessions and the copy it ran
    try:
        assert proc.wait(timeout=150) != 0
    finally:
        if proc.poll() is None:
            kill_tree(proc.pid)
    rows = json.loads((tmp_path / "report.json").read_text())["images"]
    assert [(r["worker"], r["result"]) for r in rows] == [("worker1", "transferred"), ("worker2", "failed")], \
        log.read_text()[-3000:]
    assert rows[1]["error"].startswith("Follow the copy: Lost the connection to the host running the copy"), rows[1]
    assert target_images(producer, sources[1]["id"]) == []
    made[1].start()
    rc, out = play(collections_path, cloud, tmp_path, inventory, {"transfer_images": [s["id"] for s in sources]})
    assert rc == 0, out[-4000:]
    assert [r["result"] for r in json.loads((tmp_path / "report.json").read_text())["images"]] == \
        ["already there", "transferred"]
    for source, data in zip(sources, payloads):
        [target] = target_images(producer, source["id"])
        assert target["status"] == "active" and target["checksum"] == md5(data)
