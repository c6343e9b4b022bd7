from __future__ import annotations

import pytest
from ansible_collections.cloudimages.transfer.plugins.module_utils import _tempurl


class FakeAccount:
    """Account metadata as Swift keeps it: POST sets X-Account-Meta-*, X-Remove-* removes."""

    def __init__(self, **meta):
        self.meta = {f"x-account-meta-{k}": v for k, v in meta.items()}
        self.posts = 0

    def head_account(self):
        return dict(self.meta)

    def post_account(self, headers):
        self.posts += 1
        for name, value in headers.items():
            name = name.lower()
            if name.startswith("x-remove-account-meta-"):
                self.meta.pop("x-account-meta-" + name[len("x-remove-account-meta-"):], None)
            else:
                self.meta[name] = value

    def object_paths(self, container, name):
        return f"/v1/AUTH_p/{container}/{name}", f"http://swift/v1/AUTH_p/{container}/{name}"


@pytest.fixture(autouse=True)
def no_settle(monkeypatch):
    monkeypatch.setattr(_tempurl, "SETTLE", 0)


@pytest.mark.skipif(_tempurl.generate_temp_url is None, reason="needs python-swiftclient")
def test_an_account_without_a_key_gets_one_in_the_second_slot_removed_after_the_last_lease():
    account = FakeAccount()
    with _tempurl.Lease(account, 3600) as first:
        assert account.meta[_tempurl.KEY_2] == first.key and first.created
        assert _tempurl.KEY not in account.meta
        url = first.sign("imports", "disk one.vhd", 5 * 1024 ** 3)
        assert "temp_url_sig=" in url and "temp_url_expires=" in url
        with _tempurl.Lease(account, 3600) as second:
            assert second.key == first.key and not second.created
        assert account.meta[_tempurl.KEY_2] == first.key  # the first still needs it
    assert not [k for k in account.meta if "temp-url" in k or "tempurl" in k]


def test_a_users_key_is_used_and_never_touched():
    account = FakeAccount(**{"temp-url-key": "users-own"})
    with _tempurl.Lease(account, 3600) as lease:
        assert lease.key == "users-own" and not lease.created
    assert account.meta == {_tempurl.KEY: "users-own"}


def test_a_key_the_user_replaced_stays_and_expired_leases_are_swept():
    account = FakeAccount(**{"cloudimages-tempurl-lease-dead": "1"})
    with _tempurl.Lease(account, 3600):
        account.meta[_tempurl.KEY_2] = "replaced by the user"
    assert account.meta == {_tempurl.KEY_2: "replaced by the user", _tempurl.MARKER: account.meta[_tempurl.MARKER]}


def test_urls_live_minutes_not_hours():
    assert _tempurl.url_seconds(0) == 900 and _tempurl.url_seconds(20 * 1024 ** 3) == 900 + 20 * 60


class RacingAccount(FakeAccount):
    """Another transfer sets its own key right after this one set its key."""

    def post_account(self, headers):
        super().post_account(headers)
        if _tempurl.KEY_2.title() in {h.title() for h in headers} and "racer" not in self.meta.values():
            super().post_account({"X-Account-Meta-Temp-URL-Key-2": "racer"})


def test_a_key_set_by_a_racing_transfer_is_the_one_used():
    account = RacingAccount()
    with _tempurl.Lease(account, 3600) as lease:
        assert lease.key == "racer" and not lease.created
        assert not lease.refresh()


def test_a_key_replaced_after_the_read_back_is_taken_by_refresh():
    account = FakeAccount()
    with _tempurl.Lease(account, 3600) as lease:
        first = lease.key
        account.meta[_tempurl.KEY_2] = "set later by another transfer"
        assert lease.refresh() and lease.key == "set later by another transfer" != first
        assert not lease.refresh()


def leases(account):
    return sorted(k for k in account.meta if k.startswith(_tempurl.LEASE))


def test_expired_leases_are_swept_while_another_lease_lives():
    """Before: a live lease stopped every sweep, and dead ones piled up toward Swift's 90-key cap."""
    live = "x-account-meta-cloudimages-tempurl-lease-live"
    account = FakeAccount(**{"temp-url-key": "users-own", "cloudimages-tempurl-lease-dead1": "1",
                             "cloudimages-tempurl-lease-dead2": "2", "cloudimages-tempurl-lease-live": "9999999999"})
    with _tempurl.Lease(account, 3600) as lease:
        assert leases(account) == sorted([live, lease.header.lower()])  # swept when the lease is taken
        account.meta["x-account-meta-cloudimages-tempurl-lease-dead3"] = "3"
    assert leases(account) == [live] and account.meta[_tempurl.KEY] == "users-own"


def test_a_key_of_ours_a_killed_run_left_is_removed_by_the_next_run():
    account = FakeAccount()
    killed = _tempurl.Lease(account, 3600).__enter__()  # never let go
    account.meta[killed.header.lower()] = "1"  # ...and its lease has expired since
    with _tempurl.Lease(account, 3600) as lease:
        assert lease.key == killed.key
    assert account.meta == {}


@pytest.mark.skipif(_tempurl.generate_temp_url is None, reason="needs python-swiftclient")
def test_a_url_that_expired_before_glance_read_it_is_known(monkeypatch):
    account = FakeAccount(**{"temp-url-key": "k"})
    with _tempurl.Lease(account, 3600) as lease:
        assert not lease.url_expired()
        lease.sign("imports", "disk.vhd", 1024)
        assert not lease.url_expired()
        now = _tempurl.time.time()
        monkeypatch.setattr(_tempurl.time, "time", lambda: now + _tempurl.url_seconds(1024) + 1)
        assert lease.url_expired()
