"""No secret in any output: a full role run at -vvvv with a password, an API key and an
application-credential secret in play, and a failing run too."""
from __future__ import annotations

import json
import os
import subprocess

from cloudtest import create_image
from systemtest import ANSIBLE_PLAYBOOK

FERNET = "gAAAAA"  # every Keystone fernet token starts so


def test_a_full_role_run_at_vvvv_shows_no_secret(collections_path, cloud, producer, consumer, unique, tmp_path):
    with producer.session() as s:
        source = create_image(s, producer.url("image", "RegionOne"), os.urandom(300000), name=unique)
    secrets = [cloud["passwords"]["producer"], cloud["passwords"]["producer-apikey"],
               cloud["passwords"]["consumer"], cloud["app_credential"]["secret"]]
    variables = {
        "region_transfer_source_cloud": "localcloud-producer-apikey",    # the API key
        "region_transfer_target_cloud": "localcloud-producer-appcred",   # the application credential
        "region_transfer_consumer_cloud": "localcloud-consumer",         # a password
        "region_transfer_members": [consumer.project_id],
        "region_transfer_source_region": "RegionOne", "region_transfer_target_region": "RegionTwo",
        "region_transfer_image": source["id"], "region_transfer_poll_interval": 1,
        "region_transfer_progress_interval": 1, "region_transfer_segment_size": "64KiB",
        "region_transfer_staging_dir": str(tmp_path), "region_transfer_cleanup": "none",
        "region_transfer_keep_staged": True,  # the run's folder stays, with its progress files, to be read here
    }
    (tmp_path / "vars.json").write_text(json.dumps(variables))
    env = {**os.environ, "ANSIBLE_COLLECTIONS_PATH": str(collections_path), "OS_CLIENT_CONFIG_FILE": cloud["clouds_yaml"],
           "ANSIBLE_NOCOLOR": "1"}
    done = subprocess.run([ANSIBLE_PLAYBOOK, "cloudimages.transfer.transfer_image", "-e", f"@{tmp_path / 'vars.json'}",
                           "-vvvv"], env=env, capture_output=True, text=True, cwd=tmp_path)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-3000:]
    assert "region_transfer_result" in output
    bad = [s for s in secrets if s in output]
    assert not bad, "a secret appears in the -vvvv output"
    assert FERNET not in output, "a token appears in the -vvvv output"
    # the target is shared with the consumer, who accepted it (region_transfer_members, _consumer_cloud)
    with producer.session() as s:
        glance = producer.url("image", "RegionTwo")
        [target] = s.get(f"{glance}/v2/images", params={"com.cloudimages.image-of": source["id"]}).json()["images"]
        members = s.get(f"{glance}/v2/images/{target['id']}/members").json()["members"]
    assert [(m["member_id"], m["status"]) for m in members] == [(consumer.project_id, "accepted")]
    assert target["visibility"] == "shared"
    progress_files = list(tmp_path.glob(".cloudimages-*/*.progress.json"))
    assert progress_files
    for path in progress_files:
        text = path.read_text()
        assert not any(s in text for s in secrets) and FERNET not in text

    failing = {**variables, "region_transfer_image": "00000000-0000-4000-8000-000000000000"}
    (tmp_path / "vars.json").write_text(json.dumps(failing))
    done = subprocess.run([ANSIBLE_PLAYBOOK, "cloudimages.transfer.transfer_image", "-e", f"@{tmp_path / 'vars.json'}",
                           "-vvvv"], env=env, capture_output=True, text=True, cwd=tmp_path)
    output = done.stdout + done.stderr
    assert done.returncode != 0 and "0 images in RegionOne match" in output
    assert not any(s in output for s in secrets) and FERNET not in output
