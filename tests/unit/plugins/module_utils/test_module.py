"""What the modules share: a second side's connection (a copy's target, copy_from) takes the
module's settings where it names none, but never lends credentials to a cloud it names itself."""
from __future__ import annotations

import pytest
from ansible_collections.cloudimages.transfer.plugins.module_utils._errors import TransferError
from ansible_collections.cloudimages.transfer.plugins.module_utils._module import (
    check_concurrency,
    inherited_connection,
    target_argument_spec,
)

MODULE = {"cloud": "prod", "auth": {"password": "pw"}, "auth_type": "password", "region_name": "RegionOne",
          "interface": "internal", "ca_cert": "/ca.pem", "validate_certs": True, "timeout": 30, "retries": 1,
          "container": "not a connection setting"}


def test_a_side_without_a_cloud_of_its_own_inherits_every_connection_setting():
    assert inherited_connection(MODULE, {"region_name": "RegionTwo"}) == {
        key: value for key, value in MODULE.items() if key != "container"}


def test_a_side_naming_its_own_cloud_gets_no_credentials_of_the_module():
    inherited = inherited_connection(MODULE, {"cloud": "other"})
    assert ("auth" in inherited, "auth_type" in inherited, inherited["region_name"], inherited["timeout"]) == \
        (False, False, "RegionOne", 30)


def test_a_side_naming_its_own_cloud_keeps_its_own_tls_settings():
    insecure = {**MODULE, "validate_certs": False, "ca_cert": None}
    for side in ({"cloud": "other"}, {"cloud": "other", "auth": {"password": "other"}}):
        inherited = inherited_connection(insecure, side)
        assert ("validate_certs" in inherited, "ca_cert" in inherited) == (False, False)
    assert inherited_connection(insecure, {"region_name": "RegionTwo"})["validate_certs"] is False


def test_a_side_naming_a_cloud_and_its_own_auth_still_inherits_the_auth_type():
    assert inherited_connection(MODULE, {"cloud": "other", "auth": {"password": "other"}})["auth_type"] == "password"


def test_a_sides_timeout_and_retries_have_no_default_so_that_they_inherit():
    spec = target_argument_spec({"container": {"type": "str"}})
    assert ("default" in spec["timeout"], "default" in spec["retries"], spec["container"]) == \
        (False, False, {"type": "str"})


@pytest.mark.parametrize("value", [None, 1, 16])
def test_a_concurrency_of_one_or_more_is_accepted(value):
    check_concurrency({"concurrency": value})


def test_a_concurrency_below_one_is_refused():
    with pytest.raises(TransferError, match=r"^concurrency must be at least 1, got 0$"):
        check_concurrency({"concurrency": 0})
