# Copyright: cloudimages.transfer contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# PRIVATE: this module_utils file is internal to cloudimages.transfer; it may change or go
# away in any release. Do not import it from outside this collection.
"""HTTP for every API the collection calls: the retry policy, timeouts, re-authentication.

One place decides what is retried: connection errors, 5xx, 408 and 429 (honouring
Retry-After), a bounded number of times with exponential backoff and jitter; never any
other 4xx. A 401 invalidates the token once and tries again with a new one, so a transfer
that outlives its token goes on.

Requests that create something (POST, unless the caller declares it idempotent) are never
repeated blindly: they are re-sent only when the server cannot have acted (the connection
was never made; 429 or 503, which say the request was not processed). After any other
failure - a 500/502/504 or a timeout or reset once the request was sent - the outcome is
unknown and ``AmbiguousRequest`` is raised; ``create_once`` then looks for what the first
attempt made before sending once more.
"""

from __future__ import annotations

import email.utils
import random
import threading
import time
import traceback
from dataclasses import dataclass

from ansible_collections.cloudimages.transfer.plugins.module_utils._errors import TransferError, scrub

try:
    import requests
    import requests.adapters
except ImportError:
    requests = None
    REQUESTS_IMPORT_ERROR = traceback.format_exc()
else:
    REQUESTS_IMPORT_ERROR = None

RETRIABLE_STATUS = frozenset({408, 429, 500, 502, 503, 504, 507})
NOT_PROCESSED_STATUS = frozenset({429, 503})  # the server says it did not act
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS", "PATCH"})
COPY_CHUNK = 1024 * 1024


class HttpError(TransferError):
    """An HTTP answer outside what the caller accepts; ``status`` is its code."""

    def __init__(self, message: str, status: int, **details):
        super().__init__(message, status=status, **details)
        self.status = status


class AmbiguousRequest(TransferError):
    """A request that creates something failed in a way that leaves unknown whether it did."""


def create_once(send, find):
    """send() creates something; after an ambiguous failure, find() looks for what that attempt
    made (None when nothing) before send() is tried once more. A second ambiguity is raised."""
    try:
        return send()
    except AmbiguousRequest:
        found = find()
        if found is not None:
            return found
        return send()


def never_sent(exc: BaseException) -> bool:
    """The connection was never made (refused, or no answer to the connect): nothing reached the server."""
    if requests is not None and isinstance(exc, requests.exceptions.ConnectTimeout):
        return True
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    return type(reason).__name__ in ("NewConnectionError", "ConnectTimeoutError", "NameResolutionError")


@dataclass
class RetryPolicy:
    """How often and how long to wait: attempt n sleeps a random share of backoff * 2**n."""

    retries: int = 5
    backoff: float = 1.0
    max_backoff: float = 30.0
    max_retry_after: float = 120.0

    def retriable_status(self, status: int) -> bool:
        return status in RETRIABLE_STATUS or 500 <= status < 600

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.max_retry_after)
        ceiling = min(self.max_backoff, self.backoff * (2 ** attempt))
        return random.uniform(ceiling / 2, ceiling)  # "equal jitter": never zero, never in step


def parse_retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, moment.timestamp() - time.time())


class HttpClient:
    """Authenticated requests with the retry policy; one requests.Session per thread.

    ``token`` is a callable: ``token()`` gives the current token, ``token(True)`` a new one.
    """

    def __init__(self, token, *, verify=True, timeout: float = 300, connect_timeout: float = 15,
                 policy: RetryPolicy | None = None, pool_size: int = 8, user_agent: str = "cloudimages.transfer"):
        self.token = token
        self.verify = verify
        self.timeout = (connect_timeout, timeout)
        self.policy = policy or RetryPolicy()
        self.pool_size = pool_size
        self.user_agent = user_agent
        self._local = threading.local()

    @property
    def session(self):
        session = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            adapter = requests.adapters.HTTPAdapter(pool_connections=4, pool_maxsize=self.pool_size)
            session.mount("http://", adapter)
            session.mount("https://", adapter)
            session.verify = self.verify
            session.headers["User-Agent"] = self.user_agent
            self._local.session = session
        return session

    def request(self, method: str, url: str, what: str, *, headers: dict | None = None, body=None,
                stream: bool = False, ok=(200, 201, 202, 204, 206), retry: bool = True, params=None,
                idempotent: bool | None = None):
        """Send, retrying per the policy; return the response or raise HttpError/TransferError.

        ``body`` may be bytes or a callable that makes a fresh body for each attempt; a
        one-shot stream must be sent with retry=False (the caller retries the whole step).
        ``idempotent`` defaults by method (POST is not); a request that is not is re-sent only
        when the server cannot have acted, else AmbiguousRequest is raised.
        """
        repeatable = method in IDEMPOTENT_METHODS if idempotent is None else idempotent
        attempt, renewed = 0, False
        while True:
            sent = dict(headers or {})
            sent["X-Auth-Token"] = self.token()
            try:
                # verify per request: on the session alone, requests lets REQUESTS_CA_BUNDLE /
                # CURL_CA_BUNDLE replace an explicit ca_cert or validate_certs=false
                resp = self.session.request(
                    method, url, headers=sent, data=body() if callable(body) else body, params=params,
                    stream=stream, timeout=self.timeout, allow_redirects=False, verify=self.verify)
            except requests.RequestException as exc:
                if certificate_refused(exc):  # retrying cannot help
                    raise TransferError(f"Failed to {what}: {describe(exc)}{TLS_HINT}", transport=True) from None
                if not repeatable and not never_sent(exc):
                    raise AmbiguousRequest(f"Failed to {what}, and whether it took effect is unknown: {describe(exc)}",
                                           transport=True) from None
                if retry and attempt < self.policy.retries:
                    time.sleep(self.policy.delay(attempt))
                    attempt += 1
                    continue
                raise TransferError(f"Failed to {what}: {describe(exc)}", transport=True) from None
            status = resp.status_code
            if status == 401 and not renewed:
                resp.close()
                self.token(True)
                renewed = True
                if not rewindable(body):
                    # the one-shot stream was read by this attempt: re-sending it would send nothing
                    # under its Content-Length (and stall); the caller's retry re-opens the body
                    raise TransferError(f"Failed to {what}: 401, token renewed; the body must be sent anew",
                                        transport=True, status=401)
                continue
            if status in ok:
                return resp
            if not repeatable and self.policy.retriable_status(status) and status not in NOT_PROCESSED_STATUS:
                resp.close()
                raise AmbiguousRequest(f"Failed to {what}, and whether it took effect is unknown: {status} "
                                       f"{resp.reason}", status=status)
            if retry and self.policy.retriable_status(status) and attempt < self.policy.retries:
                wait = self.policy.delay(attempt, parse_retry_after(resp.headers.get("Retry-After")))
                resp.close()
                time.sleep(wait)
                attempt += 1
                continue
            text = "" if stream else short_body(resp)
            resp.close()
            raise HttpError(f"Failed to {what}: {status} {resp.reason}{text}", status)


TLS_HINT = (" (the server's TLS certificate was not accepted: give ca_cert the CA bundle that signed it, "
            "or validate_certs: false to skip the check)")


def certificate_refused(exc: BaseException) -> bool:
    """A TLS verification failure (not a handshake cut short, which a retry may get past)."""
    text = str(exc)
    return "CERTIFICATE_VERIFY_FAILED" in text or "certificate verify failed" in text \
        or "doesn't match" in text or "Hostname mismatch" in text


def rewindable(body) -> bool:
    """Whether the same body can be sent a second time (bytes, nothing, or a callable that makes one)."""
    return body is None or callable(body) or isinstance(body, (bytes, bytearray, str))


def describe(exc: BaseException) -> str:
    """A one-line, secret-free account of a transport error."""
    return scrub(f"{exc.__class__.__name__}: {exc}")[:500]


def short_body(resp) -> str:
    try:
        text = resp.text.strip()
    except Exception:  # a body we cannot decode tells the user nothing
        return ""
    if not text or text.lstrip().startswith("<"):
        return ""
    return ": " + scrub(" ".join(text.split()))[:300]
