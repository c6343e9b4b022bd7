"""The bad-input matrix: each case fails with a clear msg, no traceback, no secret, nothing lost.

Cases across the modules and the role. Every case runs through ansible-playbook at -vvv
against the local cloud; the objects, files and images a case must not touch are checked
afterwards.
"""
from __future__ import annotations

import json
import os
import uuid

import pytest
from cloudtest import create_image

PLAIN = b"a plain object, not a DLO"


@pytest.fixture(scope="module")
def scene(cloud, producer, consumer, tmp_path_factory):
    """Everything the cases point at, made once with raw API calls."""
    tmp = tmp_path_factory.mktemp("scene")
    run = f"bad-{uuid.uuid4().hex[:8]}"
    swift, glance = producer.url("object-store", "RegionOne"), producer.url("image", "RegionOne")
    with producer.session() as s:
        s.put(f"{swift}/{run}")
        s.put(f"{swift}/{run}/plain.img", data=PLAIN)
        for name, parts in (("gap", [b"a" * 1000, None, b"c" * 1000, b"d" * 10]),
                            ("midsize", [b"a" * 1000, b"b" * 999, b"c" * 1000, b"d" * 10])):
            for n, part in enumerate(parts, 1):
                if part is not None:
                    s.put(f"{swift}/{run}/{name}.img-{n:05d}", data=part)
            s.put(f"{swift}/{run}/{name}.img", data=b"", headers={"X-Object-Manifest": f"{run}/{name}.img-"})
        s.put(f"{swift}/{run}/nothing.img", data=b"", headers={"X-Object-Manifest": f"{run}/no-such-prefix-"})
        s.put(f"{swift}/{run}/junk.vhd", data=os.urandom(4096))
        queued = s.post(f"{glance}/v2/images", json={"name": f"{run}-queued", "disk_format": "raw",
                                                     "container_format": "bare"}).json()
        shared = create_image(s, glance, b"s" * 1024, name=f"{run}-shared", visibility="shared")
        s.post(f"{glance}/v2/images/{shared['id']}/members", json={"member": consumer.project_id})
        for n in range(2):
            create_image(s, glance, b"t" * 512, name=f"{run}-twin-{n}", **{"com.mycompany.twin": run})
    existing = tmp / "existing.img"
    existing.write_bytes(b"precious local data")
    src = tmp / "src.img"
    src.write_bytes(os.urandom(3000))
    return {"run": run, "queued": queued["id"], "shared": shared["id"], "existing": existing, "src": src,
            "tmp": tmp, "consumer": consumer.project_id}


def cases():
    """(id, module, args, expected text in msg); args may name scene entries as {run} etc."""
    p = {"cloud": "localcloud-producer", "region_name": "RegionOne"}
    return [
        ("unknown cloud", "swift_dlo_upload", {"cloud": "no-such-cloud", "container": "{run}", "object": "x", "src": "{src}"},
         "Cannot load cloud no-such-cloud"),
        ("wrong password", "swift_dlo_upload", {"auth": "{wrong_auth}", "container": "{run}", "object": "x", "src": "{src}"},
         "Failed to authenticate"),
        ("bogus token", "swift_dlo_upload", {"auth": "{token_auth}", "auth_type": "token", "container": "{run}",
                                            "object": "x", "src": "{src}"}, "Failed to authenticate"),
        ("unknown region", "swift_dlo_upload", {**p, "region_name": "Nowhere", "container": "{run}", "object": "x",
                                               "src": "{src}"}, "No public object-store endpoint in region Nowhere"),
        ("segment_size 0", "swift_dlo_upload", {**p, "container": "{run}", "object": "x", "src": "{src}",
                                               "segment_size": "0"}, "segment_size must be positive"),
        ("segment_size negative", "swift_dlo_upload", {**p, "container": "{run}", "object": "x", "src": "{src}",
                                                      "segment_size": "-5"}, "segment_size must be a whole number"),
        ("segment_size over the cluster's max", "swift_dlo_upload", {**p, "container": "{run}", "object": "x",
                                                                    "src": "{src}", "segment_size": "6GiB"},
         "larger than the largest object"),
        ("concurrency 0", "swift_dlo_upload", {**p, "container": "{run}", "object": "x", "src": "{src}",
                                              "concurrency": 0}, "concurrency must be at least 1"),
        ("missing source file", "swift_dlo_upload", {**p, "container": "{run}", "object": "x",
                                                    "src": "{tmp}/no-such-file"}, "Cannot read the source file"),
        ("upload over a plain object", "swift_dlo_upload", {**p, "container": "{run}", "object": "plain.img",
                                                           "src": "{src}", "segment_size": "1KiB"},
         "is not a Dynamic or Static Large Object; refusing to overwrite"),
        ("missing container, create_container false", "swift_dlo_upload",
         {**p, "container": "{run}-missing", "object": "x", "src": "{src}", "segment_size": "1KiB",
          "create_container": False},
         "create_container is false"),
        ("state absent on a plain object", "swift_dlo_upload", {**p, "container": "{run}", "object": "plain.img",
                                                               "state": "absent"}, "state=absent deletes only large objects"),
        ("destination in a missing directory", "swift_dlo_download",
         {**p, "container": "{run}", "object": "gap.img", "dest": "{tmp}/no/such/dir/x"}, "does not exist"),
        ("destination is a directory", "swift_dlo_download", {**p, "container": "{run}", "object": "midsize.img",
                                                             "dest": "{tmp}"}, "is a directory"),
        ("a DLO with a gap, strict", "swift_dlo_download", {**p, "container": "{run}", "object": "gap.img",
                                                           "dest": "{tmp}/gap.out", "layout": "strict"},
         "segment numbers have a gap (missing [2])"),
        ("a wrong-size middle segment, strict", "swift_dlo_download",
         {**p, "container": "{run}", "object": "midsize.img", "dest": "{tmp}/mid.out", "layout": "strict"},
         "is 999 bytes where the first is 1000"),
        ("a manifest pointing at nothing", "swift_dlo_download", {**p, "container": "{run}", "object": "nothing.img",
                                                                 "dest": "{tmp}/nothing.out"}, "there are no segments"),
        ("not a DLO", "swift_dlo_download", {**p, "container": "{run}", "object": "plain.img",
                                            "dest": "{tmp}/plain.out"}, "is not a Dynamic or Static Large Object"),
        ("missing object", "swift_dlo_download", {**p, "container": "{run}", "object": "absent.img",
                                                 "dest": "{tmp}/absent.out"}, "does not exist"),
        ("copy to an unknown region", "swift_dlo_copy", {**p, "container": "{run}", "object": "midsize.img",
                                                        "target": {"region_name": "Nowhere"}},
         "No public object-store endpoint in region Nowhere"),
        ("strict copy of a DLO with a gap", "swift_dlo_copy", {**p, "container": "{run}", "object": "gap.img",
                                                              "layout": "strict", "target": {"region_name": "RegionTwo"}},
         "not a consistent large object"),
        ("nonexistent image", "image_metadata", {**p, "image": "00000000-0000-4000-8000-000000000000",
                                                "properties": {"a": "b"}}, "No image matches"),
        ("a reserved property key", "image_metadata", {**p, "image": "{shared}", "properties": {"os_glance_x": "1"}},
         "is reserved or read-only"),
        ("a filter matching several images", "image_metadata", {**p, "filters": {"com.mycompany.twin": "{run}"},
                                                               "properties": {"a": "b"}}, "2 images match"),
        ("a malformed member id", "image_member", {**p, "image": "{shared}", "members": ["bad id/x"]},
         "Member ids must be project ids"),
        ("the owner accepting for the consumer", "image_member", {**p, "image": "{shared}", "member": "{consumer}",
                                                                 "status": "accepted"},
         "Only the member project itself"),
        ("exporting an image that is not active", "image_export", {**p, "image": "{queued}", "container": "{run}"},
         "is queued, not active"),
        ("export into a missing container, create_container false", "image_export",
         {**p, "image": "{shared}", "container": "{run}-none", "create_container": False}, "create_container is false"),
        ("a bad container name", "image_export", {**p, "image": "{shared}", "container": "a/b"}, "is not valid"),
        ("importing an object that is not an image", "image_import",
         {"cloud": "localcloud-producer-apikey", "region_name": "RegionOne", "name": "junk", "method": "task",
          "container": "{run}", "object": "junk.vhd", "properties": {"t": "{run}"}, "poll_interval": 1},
         "not a valid VHD"),
        ("importing a missing object", "image_import", {**p, "name": "x", "method": "upload", "container": "{run}",
                                                       "object": "absent.vhd", "properties": {"t": "{run}"}},
         "does not exist"),
        ("an import with no idempotency key", "image_import", {**p, "name": "x", "container": "{run}",
                                                              "object": "junk.vhd"}, "Give source_image_id"),
        ("a poll interval under the floor", "image_import", {**p, "name": "x", "container": "{run}", "object": "junk.vhd",
                                                            "properties": {"t": "{run}"}, "poll_interval": 0.1},
         "poll_interval must be at least 1"),
    ]


def fill(value, scene, cloud):
    if isinstance(value, dict):
        return {k: fill(v, scene, cloud) for k, v in value.items()}
    if isinstance(value, list):
        return [fill(v, scene, cloud) for v in value]
    if value == "{wrong_auth}":
        return {"auth_url": f"{cloud['keystone']}/v3", "username": "producer", "password": "not-the-password",
                "project_name": "producer", "user_domain_name": "Default", "project_domain_name": "Default"}
    if value == "{token_auth}":
        return {"auth_url": f"{cloud['keystone']}/v3", "token": "gAAAAA-expired-or-bogus-token",
                "project_name": "producer", "project_domain_name": "Default"}
    if isinstance(value, str):
        return value.format(**{k: v for k, v in scene.items()})
    return value


CASES = cases()


@pytest.mark.parametrize("name,module,args,expected", CASES, ids=[c[0] for c in CASES])
def test_bad_input(run, cloud, producer, scene, name, module, args, expected):
    before_local = scene["existing"].read_bytes()
    result = run(module, fill(args, scene, cloud), verbosity="-vvv")
    assert result.get("failed"), f"{name}: did not fail: {result.get('msg')}"
    assert expected in result["msg"], f"{name}: {result['msg']}"
    assert "Traceback" not in result["msg"]
    for secret in (cloud["passwords"]["producer"], cloud["passwords"]["producer-apikey"]):
        assert secret not in result["_output"] and secret not in json.dumps(result)
    # nothing lost: the plain object and the local file are as they were
    with producer.session() as s:
        plain = s.get(f"{producer.url('object-store', 'RegionOne')}/{scene['run']}/plain.img").content
    assert plain == PLAIN and scene["existing"].read_bytes() == before_local


def test_the_matrix_is_large_enough():
    assert len(CASES) >= 30


def test_an_existing_different_file_is_not_overwritten(run, scene, tmp_path, producer):
    """The download case that needs a real DLO: made here with the upload module."""
    src = tmp_path / "dlo.img"
    src.write_bytes(os.urandom(5000))
    up = run("swift_dlo_upload", {"cloud": "localcloud-producer", "container": scene["run"], "object": "dlo.img",
                                  "src": str(src), "segment_size": "2KiB"})
    assert up["changed"], up["msg"]
    result = run("swift_dlo_download", {"cloud": "localcloud-producer", "container": scene["run"],
                                        "object": "dlo.img", "dest": str(scene["existing"])})
    assert result.get("failed") and "exists and differs" in result["msg"]
    assert scene["existing"].read_bytes() == b"precious local data"
