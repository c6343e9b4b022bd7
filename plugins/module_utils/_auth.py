# Copyright: cloudimages.transfer contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# PRIVATE: this module_utils file is internal to cloudimages.transfer; it may change or go
# away in any release. Do not import it from outside this collection.
"""Connections: credentials to a token, a region and an interface to endpoint URLs.

Where the settings come from: a ``cloud`` entry of clouds.yaml (OS_CLIENT_CONFIG_FILE and the
usual locations) or the OS_* environment, read by openstacksdk's loader; explicit ``auth``
keys override them. Every auth type keystoneauth1 knows works (password,
v3applicationcredential, token, ...); ``rax_apikey`` is the one written here: the v2.0
identity with ``RAX-KSKEY:apiKeyCredentials``, which no library offers.
"""

from __future__ import annotations

import importlib.util
import sys
import threading
import time
import traceback
import types
import warnings
from dataclasses import dataclass, field

from ansible_collections.cloudimages.transfer.plugins.module_utils._errors import (
    TransferError,
    register_secret,
    scrub,
)
from ansible_collections.cloudimages.transfer.plugins.module_utils._http import (
    TLS_HINT,
    HttpClient,
    RetryPolicy,
    certificate_refused,
)

try:
    from keystoneauth1 import exceptions as ks_exceptions
    from keystoneauth1 import loading as ks_loading
    from keystoneauth1 import session as ks_session
    from keystoneauth1.identity import v2 as ks_v2
except ImportError:
    ks_v2 = None
    KEYSTONEAUTH_IMPORT_ERROR = traceback.format_exc()
else:
    KEYSTONEAUTH_IMPORT_ERROR = None


def _enter_openstack_without_its_init() -> bool:
    """Make ``import openstack.config`` load the config loader alone.

    openstacksdk's package ``__init__`` imports the whole SDK (``openstack.connection`` and a
    proxy for every service), a third of a module's start-up here, and a module of this
    collection uses none of it. Where nothing in the process has imported ``openstack`` yet,
    the package is entered as a bare namespace (its ``__path__`` only) so that its submodules
    import as usual. Returns whether it did so."""
    if "openstack" in sys.modules:
        return False
    try:
        spec = importlib.util.find_spec("openstack")
    except (ImportError, ValueError):
        return False
    if spec is None or not spec.submodule_search_locations:
        return False
    package = types.ModuleType("openstack")
    package.__path__ = list(spec.submodule_search_locations)
    package.__spec__ = spec
    package.__file__ = spec.origin
    sys.modules["openstack"] = package
    return True


try:
    _BARE = _enter_openstack_without_its_init()
    try:
        import openstack.config as os_config
        from openstack import exceptions as os_exceptions
    except (ImportError, AttributeError):
        if not _BARE:
            raise
        # this openstacksdk's loader needs its package's __init__ after all: import it whole
        for _name in [name for name in sys.modules if name == "openstack" or name.startswith("openstack.")]:
            del sys.modules[_name]
        import openstack.config as os_config
        from openstack import exceptions as os_exceptions
except ImportError:
    os_config = None
    OPENSTACKSDK_IMPORT_ERROR = traceback.format_exc()
else:
    OPENSTACKSDK_IMPORT_ERROR = None

try:
    import urllib3
except ImportError:  # comes with requests; missing_libraries() names requests
    urllib3 = None

RAX_AUTH_TYPES = ("rax_apikey", "rackspace_apikey")
SECRET_KEYS = ("password", "secret", "api_key", "apikey", "token")
# connections made with validate_certs false, said once each as a module warning
INSECURE: set = set()


def connection_argument_spec() -> dict:
    """The connection options every module takes (documented in doc_fragments/_auth.py)."""
    return dict(
        cloud=dict(type="str"),
        auth=dict(type="dict", no_log=True),
        auth_type=dict(type="str"),
        region_name=dict(type="str"),
        interface=dict(type="str", choices=["public", "internal", "admin"], aliases=["endpoint_type"]),
        ca_cert=dict(type="path", aliases=["cacert"]),
        validate_certs=dict(type="bool", aliases=["verify"]),
        timeout=dict(type="int", default=300),
        retries=dict(type="int", default=5),
    )


CONNECTION_KEYS = tuple(connection_argument_spec())


@dataclass
class ConnectionOptions:
    cloud: str | None = None
    auth: dict = field(default_factory=dict)
    auth_type: str | None = None
    region_name: str | None = None
    interface: str | None = None
    ca_cert: str | None = None
    validate_certs: bool | None = None
    timeout: int = 300
    retries: int = 5

    @classmethod
    def from_params(cls, params: dict, fallback: dict | None = None) -> ConnectionOptions:
        """Options from module params; keys left unset (None) are taken from ``fallback``."""
        merged = {key: params.get(key) for key in CONNECTION_KEYS}
        for key, value in (fallback or {}).items():
            if key in merged and merged[key] is None:
                merged[key] = value
        merged["auth"] = dict(merged.get("auth") or {})
        merged["timeout"] = merged.get("timeout") or 300
        merged["retries"] = 5 if merged.get("retries") is None else merged["retries"]
        return cls(**merged)


def missing_libraries() -> list[tuple[str, str]]:
    """(library, import traceback) for each library this layer needs and cannot import."""
    from ansible_collections.cloudimages.transfer.plugins.module_utils._http import REQUESTS_IMPORT_ERROR

    found = [("requests", REQUESTS_IMPORT_ERROR), ("keystoneauth1", KEYSTONEAUTH_IMPORT_ERROR),
             ("openstacksdk", OPENSTACKSDK_IMPORT_ERROR)]
    return [(name, error) for name, error in found if error]


if ks_v2 is not None:
    class RaxApiKey(ks_v2.Auth):
        """Identity v2.0 with an API key: ``{"auth": {"RAX-KSKEY:apiKeyCredentials": ...}}``."""

        def __init__(self, auth_url: str, username: str, api_key: str, **kwargs):
            super().__init__(auth_url=auth_url, **kwargs)
            self.username, self.api_key = username, api_key

        def get_auth_data(self, headers=None) -> dict:
            return {"RAX-KSKEY:apiKeyCredentials": {"username": self.username, "apiKey": self.api_key}}

        def get_cache_id_elements(self) -> dict:
            return {"auth_url": self.auth_url, "username": self.username, "api_key": self.api_key,
                    "tenant_id": self.tenant_id, "tenant_name": self.tenant_name}


def infer_auth_type(auth: dict) -> str:
    if "api_key" in auth:
        return "rax_apikey"
    if "application_credential_secret" in auth:
        return "v3applicationcredential"
    if "token" in auth and "password" not in auth:
        return "token"
    return "password"


def make_plugin(auth_type: str, auth: dict, explicit: frozenset = frozenset()):
    """A keystoneauth1 plugin for the auth type; missing keys, and unknown keys the user gave, are named.

    Keys that came from clouds.yaml and this auth type does not use are dropped quietly
    (the loader fills in domain defaults whatever the auth type).
    """
    if not auth.get("auth_url"):
        raise TransferError("No credentials: give a cloud name (clouds.yaml), the auth option, "
                            "or OS_* environment variables with at least an auth_url")
    if auth_type in RAX_AUTH_TYPES:
        missing = [key for key in ("username", "api_key") if not auth.get(key)]
        if missing:
            raise TransferError(f"auth_type {auth_type} needs auth keys {', '.join(missing)}")
        extra = {}
        if auth.get("project_id") or auth.get("tenant_id"):
            extra["tenant_id"] = auth.get("project_id") or auth.get("tenant_id")
        elif auth.get("project_name") or auth.get("tenant_name"):
            extra["tenant_name"] = auth.get("project_name") or auth.get("tenant_name")
        return RaxApiKey(auth["auth_url"], auth["username"], auth["api_key"], **extra)
    try:
        loader = ks_loading.get_plugin_loader(auth_type)
    except ks_exceptions.NoMatchingPlugin:
        raise TransferError(f"Unknown auth_type {auth_type!r}") from None
    allowed = {opt.dest for opt in loader.get_options()}
    unknown = sorted((set(auth) - allowed) & explicit)
    if unknown:
        raise TransferError(f"auth keys {', '.join(unknown)} are not used by auth_type {auth_type}")
    try:
        return loader.load_from_options(**{key: value for key, value in auth.items() if key in allowed})
    except ks_exceptions.MissingRequiredOptions as exc:
        names = ", ".join(opt.dest for opt in exc.options)
        raise TransferError(f"auth_type {auth_type} needs auth keys {names}") from None


class Connection:
    """One identity in one region: tokens (renewed on demand) and endpoint URLs."""

    def __init__(self, options: ConnectionOptions):
        settings = load_settings(options)
        self.auth = settings["auth"]
        for key, value in self.auth.items():
            if any(word in key for word in SECRET_KEYS):
                register_secret(value)
        self.auth_type = settings["auth_type"]
        self.region = settings["region_name"]
        self.interface = settings["interface"] or "public"
        self.overrides = settings["overrides"]
        self.auth_url = self.auth.get("auth_url")
        verify = settings["verify"]
        if verify is False:
            INSECURE.add(f"validate_certs is false: TLS certificates of {self.auth_url} and region "
                         f"{self.region or '(default)'}'s endpoints are not verified")
            if urllib3 is not None:  # said once, as a module warning, instead of on every request
                warnings.filterwarnings("ignore", category=urllib3.exceptions.InsecureRequestWarning)
        self.plugin = make_plugin(self.auth_type, self.auth, frozenset(options.auth))
        self.keystone = ks_session.Session(auth=self.plugin, verify=verify, timeout=min(options.timeout, 60))
        self.http = HttpClient(self.token, verify=verify, timeout=options.timeout,
                               policy=RetryPolicy(retries=options.retries))
        self._lock = threading.Lock()

    def token(self, renew: bool = False) -> str:
        """The current token, or a new one. A login is safe to repeat (a second token harms
        nothing), so a connection failure or a 5xx is retried per the HTTP retry policy."""
        with self._lock:
            attempt = 0
            while True:
                try:
                    if renew:
                        self.plugin.invalidate()
                    token = self.keystone.get_token()
                    break
                except ks_exceptions.ClientException as exc:
                    refused = certificate_refused(exc)  # a refused certificate will not pass on a retry
                    passing = isinstance(exc, (ks_exceptions.HttpServerError, ks_exceptions.RetriableConnectionFailure))
                    if passing and not refused and attempt < self.http.policy.retries:
                        time.sleep(self.http.policy.delay(attempt))
                        attempt += 1
                        continue
                    hint = TLS_HINT if refused else ""
                    raise TransferError(f"Failed to authenticate at {self.auth_url} "
                                        f"(auth_type {self.auth_type}): {scrub(exc)}{hint}") from None
        register_secret(token)
        return token

    def endpoint(self, service_type: str) -> str:
        """The catalog URL of a service in this region and interface, unless clouds.yaml overrides it.

        ``<service>_endpoint_override`` (as openstacksdk reads it, for instance
        ``object_store_endpoint_override``) may use ``%(project_id)s``.
        """
        self.token()
        override = self.overrides.get(service_type.replace("-", "_"))
        if override:
            return override.replace("%(project_id)s", self.project_id()).rstrip("/")
        try:
            url = self.keystone.get_endpoint(service_type=service_type, interface=self.interface,
                                             region_name=self.region)
        except ks_exceptions.EndpointNotFound:
            url = None
        except ks_exceptions.ClientException as exc:
            raise TransferError(f"Failed to find the {service_type} endpoint: {scrub(exc)}") from None
        if not url:
            raise TransferError(
                f"No {self.interface} {service_type} endpoint in region {self.region or '(any)'}; "
                f"regions with one: {', '.join(self.regions(service_type)) or 'none'}")
        return url.rstrip("/")

    def project_id(self) -> str:
        """The id of the project the token is scoped to."""
        self.token()
        return self.plugin.get_access(self.keystone).project_id

    def regions(self, service_type: str) -> list[str]:
        catalog = self.plugin.get_access(self.keystone).service_catalog
        found = catalog.get_endpoints(service_type=service_type).get(service_type, [])
        return sorted({ep.get("region_id") or ep.get("region") for ep in found} - {None})


TOP_LEVEL_AUTH_KEYS = ("auth_url", "username", "user_id", "password", "token", "project_name", "project_id",
                       "user_domain_name", "user_domain_id", "project_domain_name", "project_domain_id",
                       "domain_name", "domain_id", "application_credential_id", "application_credential_name",
                       "application_credential_secret", "api_key", "tenant_name", "tenant_id")


def load_settings(options: ConnectionOptions) -> dict:
    """auth, auth_type, region_name, interface, verify: clouds.yaml / OS_* first, options over them."""
    missing = missing_libraries()
    if missing:
        raise TransferError(f"Missing Python library {missing[0][0]} on the host that runs the module")
    base: dict = {}
    if options.cloud or not options.auth:
        try:
            # the region is chosen below, from the options, so that any region of the catalog
            # works even where clouds.yaml lists only some
            region = os_config.OpenStackConfig(load_envvars=True).get_one(cloud=options.cloud, validate=False)
        except os_exceptions.ConfigException as exc:
            raise TransferError(f"Cannot load cloud {options.cloud or '(from OS_* / OS_CLOUD)'}: {scrub(exc)}") from None
        base = dict(region.config)
        base["region_name"] = region.region_name
    auth = {key: value for key, value in dict(base.get("auth") or {}).items() if value not in (None, "")}
    # unvalidated, the loader leaves OS_AUTH_URL, OS_USERNAME, OS_PASSWORD... (and a clouds.yaml's
    # top-level auth keys) beside 'auth' rather than in it
    auth.update({key: base[key] for key in TOP_LEVEL_AUTH_KEYS if base.get(key) not in (None, "") and key not in auth})
    auth.update({key: value for key, value in options.auth.items() if value is not None})
    verify = base.get("verify", True) if options.validate_certs is None else options.validate_certs
    if verify and (options.ca_cert or base.get("cacert")):
        verify = options.ca_cert or base.get("cacert")
    return {
        "auth": auth,
        "auth_type": options.auth_type or (base.get("auth_type") if base.get("auth_type") != "password" else None)
        or infer_auth_type(auth),
        "region_name": options.region_name or base.get("region_name"),
        "interface": options.interface or base.get("interface"),
        "overrides": {key[:-len("_endpoint_override")]: value for key, value in base.items()
                      if key.endswith("_endpoint_override") and value},
        "verify": verify,
    }
