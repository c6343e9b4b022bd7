"""Which identity a module logs in with: the auth type guessed from the keys given, the
keystoneauth1 plugin made for it (and the keys named when some are missing or unused), and the
settings merged from clouds.yaml, OS_* variables and the module's own options."""
from __future__ import annotations

import pytest
from ansible_collections.cloudimages.transfer.plugins.module_utils._auth import (
    ConnectionOptions,
    RaxApiKey,
    infer_auth_type,
    load_settings,
    make_plugin,
)
from ansible_collections.cloudimages.transfer.plugins.module_utils._errors import TransferError

URL = "https://identity.example.test/v3"
PASSWORD = {"auth_url": URL, "username": "ops", "password": "pw", "project_name": "images",
            "user_domain_name": "Default", "project_domain_name": "Default"}


@pytest.mark.parametrize("keys,expected", [
    ({"username", "password"}, "password"),
    ({"username", "api_key"}, "rax_apikey"),
    ({"username", "api_key", "password"}, "rax_apikey"),
    ({"application_credential_id", "application_credential_secret"}, "v3applicationcredential"),
    ({"token"}, "token"),
    ({"token", "password"}, "password"),
    (set(), "password"),
])
def test_the_auth_type_follows_the_keys_given(keys, expected):
    assert infer_auth_type(dict.fromkeys(keys, "x")) == expected


def test_a_password_identity_is_keystoneauths_password_plugin():
    plugin = make_plugin("password", PASSWORD)
    assert (type(plugin).__module__, type(plugin).__name__) == ("keystoneauth1.identity.generic.password", "Password")
    assert (plugin.auth_url, plugin._username, plugin._project_name) == (URL, "ops", "images")


def test_an_application_credential_is_its_own_plugin():
    plugin = make_plugin("v3applicationcredential", {"auth_url": URL, "application_credential_id": "ac1",
                                                     "application_credential_secret": "s"})
    assert type(plugin).__name__ == "ApplicationCredential"


def test_the_vendors_api_key_names_the_tenant_by_id_before_name():
    plugin = make_plugin("rax_apikey", {"auth_url": URL, "username": "ops", "api_key": "k",
                                        "project_id": "123", "project_name": "images"})
    assert isinstance(plugin, RaxApiKey)
    assert plugin.get_cache_id_elements() == {"auth_url": URL, "username": "ops", "api_key": "k",
                                              "tenant_id": "123", "tenant_name": None}


@pytest.mark.parametrize("auth_type,auth,explicit,message", [
    ("password", {"username": "ops"}, frozenset(),
     "No credentials: give a cloud name (clouds.yaml), the auth option, or OS_* environment variables with at least an auth_url"),
    ("rax_apikey", {"auth_url": URL, "username": "ops"}, frozenset(), "auth_type rax_apikey needs auth keys api_key"),
    ("kerberos-of-our-own", PASSWORD, frozenset(), "Unknown auth_type 'kerberos-of-our-own'"),
    ("v3applicationcredential", {**PASSWORD, "application_credential_secret": "s"}, frozenset({"password"}),
     "auth keys password are not used by auth_type v3applicationcredential"),
])
def test_what_is_wrong_with_the_auth_is_named(auth_type, auth, explicit, message):
    with pytest.raises(TransferError) as caught:
        make_plugin(auth_type, auth, explicit)
    assert caught.value.msg == message


def test_keys_that_only_clouds_yaml_gave_are_dropped_quietly():
    plugin = make_plugin("v3applicationcredential", {"auth_url": URL, "application_credential_id": "ac1",
                                                     "application_credential_secret": "s", "project_domain_name": "Default"})
    assert type(plugin).__name__ == "ApplicationCredential"


@pytest.fixture
def clouds_yaml(tmp_path, monkeypatch):
    for name in ("OS_CLOUD", "OS_AUTH_URL", "OS_USERNAME", "OS_PASSWORD", "OS_REGION_NAME", "OS_AUTH_TYPE"):
        monkeypatch.delenv(name, raising=False)
    path = tmp_path / "clouds.yaml"
    path.write_text(f"""clouds:
  prod:
    auth:
      auth_url: {URL}
      username: ops
      password: from-file
      project_name: images
      user_domain_name: Default
      project_domain_name: Default
    region_name: RegionOne
    interface: internal
    cacert: /etc/ssl/prod-ca.pem
""")
    monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", str(path))
    return path


def test_clouds_yaml_gives_the_settings_the_options_do_not(clouds_yaml):
    settings = load_settings(ConnectionOptions(cloud="prod"))
    assert (settings["auth"]["password"], settings["auth_type"], settings["region_name"], settings["interface"],
            settings["verify"]) == ("from-file", "password", "RegionOne", "internal", "/etc/ssl/prod-ca.pem")


def test_the_options_win_over_clouds_yaml(clouds_yaml):
    settings = load_settings(ConnectionOptions(cloud="prod", auth={"password": "given", "project_name": None},
                                               region_name="RegionTwo", interface="public", validate_certs=False))
    assert (settings["auth"]["password"], settings["auth"]["project_name"], settings["region_name"],
            settings["interface"], settings["verify"]) == ("given", "images", "RegionTwo", "public", False)


def test_an_api_key_in_the_options_makes_the_vendors_identity(clouds_yaml):
    settings = load_settings(ConnectionOptions(cloud="prod", auth={"api_key": "k"}))
    assert settings["auth_type"] == "rax_apikey"


def test_an_unknown_cloud_is_named(clouds_yaml):
    with pytest.raises(TransferError, match=r"^Cannot load cloud nowhere: "):
        load_settings(ConnectionOptions(cloud="nowhere"))


def test_a_sides_unset_options_come_from_the_module():
    side = {"cloud": None, "auth": None, "auth_type": None, "region_name": "RegionTwo", "interface": None,
            "ca_cert": None, "validate_certs": None, "timeout": None, "retries": None}
    module = {"cloud": "prod", "auth": {"password": "pw"}, "auth_type": "password", "region_name": "RegionOne",
              "interface": "internal", "ca_cert": None, "validate_certs": False, "timeout": 30, "retries": 0}
    assert ConnectionOptions.from_params(side, module) == ConnectionOptions(
        cloud="prod", auth={"password": "pw"}, auth_type="password", region_name="RegionTwo", interface="internal",
        validate_certs=False, timeout=30, retries=0)
    assert ConnectionOptions.from_params(side) == ConnectionOptions(region_name="RegionTwo")
