"""TLS settings against an HTTPS front: a test CA's certificate in front of Keystone and RegionOne.

The relays (tls_front.py) terminate TLS and pass the bytes to the shared cloud's servers;
a clouds.yaml of the test's own points the identity at the Keystone relay and, by endpoint
overrides (openstacksdk's ``<service>_endpoint_override``), Glance and Swift at theirs.
Every case also sets REQUESTS_CA_BUNDLE, which requests lets replace whatever a session was
told: the explicit options must win over it.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml
from cloudtest import md5
from systemtest import Runner
from tls_front import TlsRelay, make_ca, make_server_cert, server_context


@pytest.fixture(scope="module")
def tls(cloud, tmp_path_factory):
    folder = tmp_path_factory.mktemp("tls")
    ca_file, ca_key, ca_cert = make_ca(folder, "localcloud-test-ca")
    wrong_ca, _, _ = make_ca(folder, "someone-elses-ca")
    context = server_context(*make_server_cert(folder, ca_key, ca_cert))

    def port(url: str) -> int:
        return int(url.rsplit(":", 1)[1].split("/")[0])

    region = cloud["regions"]["RegionOne"]
    relays = {name: TlsRelay(port(url), context) for name, url in
              (("keystone", cloud["keystone"]), ("glance", region["glance"]), ("swift", region["swift"]))}
    with open(cloud["clouds_yaml"], encoding="utf-8") as f:
        producer = yaml.safe_load(f)["clouds"]["localcloud-producer"]
    producer["auth"]["auth_url"] = f"https://127.0.0.1:{relays['keystone'].port}/v3"
    producer.update(image_endpoint_override=f"https://127.0.0.1:{relays['glance'].port}",
                    object_store_endpoint_override=f"https://127.0.0.1:{relays['swift'].port}/v1/AUTH_%(project_id)s")
    clouds = folder / "clouds.yaml"
    clouds.write_text(yaml.safe_dump({"clouds": {"tls-producer": producer}}))
    clouds.chmod(0o600)
    yield {"ca": str(ca_file), "wrong_ca": str(wrong_ca), "clouds_yaml": str(clouds), "relays": relays}
    for relay in relays.values():
        relay.close()


def runner(collections_path, cloud, tmp_path, tls, bundle: str) -> Runner:
    run = Runner(collections_path, cloud, tmp_path)
    run.env.update(OS_CLIENT_CONFIG_FILE=tls["clouds_yaml"], REQUESTS_CA_BUNDLE=bundle)
    return run


def upload(run: Runner, tmp_path: Path, container: str, **options) -> dict:
    src = tmp_path / "disk.img"
    if not src.exists():
        src.write_bytes(os.urandom(3 * 1024 * 1024 + 7))
    return run("swift_dlo_upload", {"cloud": "tls-producer", "container": container, "object": "disk.img",
                                    "src": str(src), "segment_size": "1MiB", **options})


def served(producer, container: str) -> str | None:
    with producer.session() as s:
        resp = s.get(f"{producer.url('object-store', 'RegionOne')}/{container}/disk.img")
        return md5(resp.content) if resp.status_code == 200 else None


def test_ca_cert_is_used_and_wins_over_requests_ca_bundle(collections_path, cloud, producer, unique, tmp_path, tls):
    run = runner(collections_path, cloud, tmp_path, tls, bundle=tls["wrong_ca"])
    before = {name: relay.connections for name, relay in tls["relays"].items()}
    result = upload(run, tmp_path, unique, ca_cert=tls["ca"])
    assert not result.get("failed"), result["msg"]
    assert served(producer, unique) == md5((tmp_path / "disk.img").read_bytes())
    info = run("image_info", {"cloud": "tls-producer", "ca_cert": tls["ca"], "filters": {"name": "no-such-image"}})
    assert not info.get("failed") and info["images"] == [], info.get("msg")
    # every service was reached through its TLS relay
    assert all(tls["relays"][name].connections > before[name] for name in before)


def test_a_wrong_ca_fails_at_once_with_what_to_do(collections_path, cloud, producer, unique, tmp_path, tls):
    run = runner(collections_path, cloud, tmp_path, tls, bundle=tls["ca"])
    result = upload(run, tmp_path, unique, ca_cert=tls["wrong_ca"])
    assert result.get("failed") and "certificate was not accepted: give ca_cert the CA bundle" in result["msg"]
    assert "Traceback" not in result["_output"] and served(producer, unique) is None


def test_validate_certs_false_works_and_warns(collections_path, cloud, producer, unique, tmp_path, tls):
    run = runner(collections_path, cloud, tmp_path, tls, bundle=tls["wrong_ca"])
    result = upload(run, tmp_path, unique, validate_certs=False)
    assert not result.get("failed"), result["msg"]
    assert served(producer, unique) == md5((tmp_path / "disk.img").read_bytes())
    assert "validate_certs is false: TLS certificates" in result["_output"]
    assert "InsecureRequestWarning" not in result["_output"]


def test_requests_ca_bundle_serves_when_no_option_is_given(collections_path, cloud, producer, unique, tmp_path, tls):
    run = runner(collections_path, cloud, tmp_path, tls, bundle=tls["ca"])
    result = upload(run, tmp_path, unique)
    assert not result.get("failed"), result["msg"]
    assert served(producer, unique) == md5((tmp_path / "disk.img").read_bytes())
