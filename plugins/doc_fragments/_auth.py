# Copyright: cloudimages.transfer contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # The connection options every module takes (plugins/module_utils/_auth.py).
    DOCUMENTATION = r"""
options:
  cloud:
    description:
      - Name of a cloud in C(clouds.yaml), found through E(OS_CLIENT_CONFIG_FILE) or the usual
        locations (C(./clouds.yaml), C(~/.config/openstack/clouds.yaml), C(/etc/openstack/clouds.yaml)).
      - When neither O(cloud) nor O(auth) is set, the cloud comes from E(OS_CLOUD) or the E(OS_*)
        environment variables, as with the openstack CLI.
    type: str
  auth:
    description:
      - Credentials, as in a C(clouds.yaml) C(auth) section. Keys given here override those of O(cloud).
      - Password login uses C(auth_url), C(username), C(password), C(project_name) (or C(project_id)),
        C(user_domain_name) and C(project_domain_name).
      - An application credential uses C(auth_url), C(application_credential_id) and
        C(application_credential_secret); a token uses C(auth_url), C(token) and a project.
      - The v2.0 API-key identity (O(auth_type=rax_apikey)) uses C(auth_url) (ending in C(/v2.0)),
        C(username) and C(api_key).
      - Never shown in any output; tokens and keys are also scrubbed from error messages.
    type: dict
  auth_type:
    description:
      - The keystoneauth1 plugin name (for example V(password), V(v3applicationcredential), V(token)),
        or V(rax_apikey) for the v2.0 API-key identity.
      - Defaults to what the C(auth) keys imply (C(api_key), C(application_credential_secret), C(token)),
        else V(password).
    type: str
  region_name:
    description:
      - Region whose endpoints are used. Defaults to the region of O(cloud).
    type: str
  interface:
    description:
      - Which catalog endpoints to use. V(internal) is the provider's service network
        (the C(--snet) of the vendor tools), usually free of bandwidth charges inside a region.
      - Defaults to the interface of O(cloud), else V(public).
    type: str
    choices: [public, internal, admin]
    aliases: [endpoint_type]
  ca_cert:
    description:
      - A CA bundle to verify the servers' TLS certificates with (Keystone, Glance and Swift alike).
        Given here or in the cloud's C(cacert), it wins over the E(REQUESTS_CA_BUNDLE) and
        E(CURL_CA_BUNDLE) variables, which serve only when neither is set.
      - A certificate that does not verify fails the task at once (no retries), saying so.
    type: path
    aliases: [cacert]
  validate_certs:
    description:
      - Whether to verify TLS certificates. Defaults to the setting of O(cloud), else V(true).
      - V(false) turns verification off for every service of this connection, whatever
        E(REQUESTS_CA_BUNDLE) says, and the task warns once that it did.
    type: bool
    aliases: [verify]
  timeout:
    description:
      - Seconds to wait for a server to answer or to send the next bytes of a body.
    type: int
    default: 300
  retries:
    description:
      - How many times a request (or a segment) is retried after a connection error, a 5xx,
        408 or 429 answer (honouring C(Retry-After)), with exponential backoff and jitter.
        Other 4xx answers are never retried. A 401 renews the token once.
    type: int
    default: 5
requirements:
  - python >= 3.9
  - requests
  - keystoneauth1
  - openstacksdk (its clouds.yaml loader)
"""
