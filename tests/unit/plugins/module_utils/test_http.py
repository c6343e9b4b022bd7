from __future__ import annotations

import email.utils
import time

import pytest
import requests
from ansible_collections.cloudimages.transfer.plugins.module_utils import _http
from ansible_collections.cloudimages.transfer.plugins.module_utils._errors import TransferError, register_secret, scrub
from ansible_collections.cloudimages.transfer.plugins.module_utils._http import (
    HttpClient,
    HttpError,
    RetryPolicy,
    parse_retry_after,
)


@pytest.mark.parametrize("status,expected", [(500, True), (502, True), (503, True), (504, True), (408, True),
                                             (429, True), (400, False), (401, False), (403, False),
                                             (404, False), (409, False), (422, False)])
def test_which_statuses_are_retried(status, expected):
    assert RetryPolicy().retriable_status(status) is expected


def test_backoff_grows_with_jitter_and_is_capped():
    policy = RetryPolicy(backoff=1.0, max_backoff=8.0)
    for attempt, ceiling in ((0, 1.0), (1, 2.0), (2, 4.0), (3, 8.0), (6, 8.0)):
        delays = {policy.delay(attempt) for draw in range(50)}
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
        assert len(delays) > 1  # jitter: not every client retries in step


def test_retry_after_is_honoured_and_capped():
    policy = RetryPolicy(max_retry_after=60)
    assert policy.delay(0, retry_after=7) == 7
    assert policy.delay(0, retry_after=600) == 60
    assert parse_retry_after("12") == 12
    assert parse_retry_after(None) is None and parse_retry_after("soon") is None
    later = email.utils.formatdate(time.time() + 30, usegmt=True)
    assert 25 <= parse_retry_after(later) <= 31


class FakeResponse:
    def __init__(self, status, headers=None, text=""):
        self.status_code, self.headers, self.text, self.reason = status, headers or {}, text, "Reason"

    def close(self):
        pass


class FakeSession:
    def __init__(self, answers):
        self.answers, self.calls = list(answers), []

    def request(self, method, url, **kwargs):
        self.calls.append(kwargs["headers"]["X-Auth-Token"])
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


def client(answers, monkeypatch, retries=3):
    tokens = iter(["tok-1", "tok-2", "tok-3"])
    state = {"token": next(tokens)}

    def token(renew=False):
        if renew:
            state["token"] = next(tokens)
        return state["token"]

    c = HttpClient(token, policy=RetryPolicy(retries=retries, backoff=0.01))
    fake = FakeSession(answers)
    monkeypatch.setattr(HttpClient, "session", property(lambda self: fake))
    monkeypatch.setattr(_http.time, "sleep", lambda s: None)
    return c, fake


def test_5xx_then_success(monkeypatch):
    c, fake = client([FakeResponse(503), FakeResponse(500), FakeResponse(200)], monkeypatch)
    assert c.request("GET", "http://x", "read x").status_code == 200
    assert len(fake.calls) == 3


def test_other_4xx_is_never_retried(monkeypatch):
    c, fake = client([FakeResponse(404, text="no such thing"), FakeResponse(200)], monkeypatch)
    with pytest.raises(HttpError) as err:
        c.request("GET", "http://x", "read x")
    assert err.value.status == 404 and len(fake.calls) == 1
    assert str(err.value) == "Failed to read x: 404 Reason: no such thing"


def test_retries_are_bounded(monkeypatch):
    c, fake = client([FakeResponse(503)] * 10, monkeypatch, retries=3)
    with pytest.raises(HttpError, match="503"):
        c.request("GET", "http://x", "read x")
    assert len(fake.calls) == 4


def test_401_renews_the_token_once(monkeypatch):
    c, fake = client([FakeResponse(401), FakeResponse(200)], monkeypatch)
    c.request("GET", "http://x", "read x")
    assert fake.calls == ["tok-1", "tok-2"]
    c2, fake2 = client([FakeResponse(401), FakeResponse(401)], monkeypatch)
    with pytest.raises(HttpError, match="401"):
        c2.request("GET", "http://x", "read x")
    assert len(fake2.calls) == 2


def test_connection_errors_are_retried_then_reported_without_secrets(monkeypatch):
    register_secret("tok-1")
    boom = requests.ConnectionError("reset by peer while sending X-Auth-Token: tok-1")
    c, fake = client([boom, boom, FakeResponse(204)], monkeypatch)
    assert c.request("HEAD", "http://x", "read x").status_code == 204
    c, fake = client([boom] * 5, monkeypatch, retries=2)
    with pytest.raises(TransferError) as err:
        c.request("HEAD", "http://x", "read x")
    assert "tok-1" not in str(err.value) and "ConnectionError" in str(err.value)


def test_scrub_masks_registered_secrets_and_credential_fields():
    register_secret("s3cr3t-password")
    text = scrub('{"password": "other", "X-Auth-Token": "gAAAAAabc"} and s3cr3t-password')
    assert "s3cr3t-password" not in text and "other" not in text and "gAAAAAabc" not in text


@pytest.mark.parametrize("answer", [FakeResponse(502), FakeResponse(504), FakeResponse(500),
                                    requests.ReadTimeout("read timed out"),
                                    requests.ConnectionError("Connection aborted: RemoteDisconnected")])
def test_a_post_whose_outcome_is_unknown_is_not_repeated(monkeypatch, answer):
    c, fake = client([answer, FakeResponse(201)], monkeypatch)
    with pytest.raises(_http.AmbiguousRequest, match="whether it took effect is unknown"):
        c.request("POST", "http://x", "create x")
    assert len(fake.calls) == 1


@pytest.mark.parametrize("answer", [FakeResponse(503), FakeResponse(429, {"Retry-After": "0"}),
                                    requests.ConnectTimeout("connect timed out"), FakeResponse(401)])
def test_a_post_the_server_cannot_have_acted_on_is_sent_again(monkeypatch, answer):
    c, fake = client([answer, FakeResponse(201)], monkeypatch)
    assert c.request("POST", "http://x", "create x", ok=(201,)).status_code == 201
    assert len(fake.calls) == 2


def test_a_post_declared_idempotent_is_retried_like_a_put(monkeypatch):
    c, fake = client([FakeResponse(502), FakeResponse(204)], monkeypatch)
    assert c.request("POST", "http://x", "set metadata", idempotent=True).status_code == 204


def test_create_once_adopts_what_the_first_attempt_made_else_sends_once_more():
    sent = []

    def send():
        sent.append(1)
        if len(sent) == 1:
            raise _http.AmbiguousRequest("gateway 502")
        return "second"

    assert _http.create_once(send, lambda: "made by the first") == "made by the first" and len(sent) == 1
    sent.clear()
    assert _http.create_once(send, lambda: None) == "second" and len(sent) == 2

    def always_unknown():
        raise _http.AmbiguousRequest("again")

    with pytest.raises(_http.AmbiguousRequest):
        _http.create_once(always_unknown, lambda: None)


def test_a_401_renews_and_hands_a_consumed_stream_back_to_the_caller(monkeypatch):
    c, fake = client([FakeResponse(401), FakeResponse(201)], monkeypatch)
    with pytest.raises(TransferError, match="token renewed; the body must be sent anew") as err:
        c.request("PUT", "http://x/seg", "upload seg", body=iter([b"one-shot"]))
    assert err.value.details["transport"] and fake.calls == ["tok-1"]
    assert c.request("PUT", "http://x/seg", "upload seg", body=b"bytes").status_code == 201  # with the new token
    assert fake.calls == ["tok-1", "tok-2"]
