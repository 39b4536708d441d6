"""The client's address behind our reverse proxies: X-Forwarded-For is read from the
right, past the proxies we trust, and only when the request came from one of them."""

from ipaddress import ip_network

import pytest
from django.test import Client

from hongyan.core.client_address import client_address
from hongyan.core.models import AuditEntry

NGINX = "10.0.0.2"
GATEWAY = "10.0.1.7"
PROXIES = (ip_network("10.0.0.0/24"), ip_network(GATEWAY), ip_network("fd00::/64"))


def test_no_proxies_configured_means_remote_addr_whatever_the_header():
    assert client_address(NGINX, "203.0.113.5", ()) == NGINX


def test_a_trusted_proxy_hands_on_the_client():
    assert client_address(NGINX, "203.0.113.5", PROXIES) == "203.0.113.5"


def test_a_chain_of_two_trusted_proxies_is_walked_through():
    # client -> gateway -> nginx -> us
    assert client_address(NGINX, f"203.0.113.5, {GATEWAY}", PROXIES) == "203.0.113.5"


def test_what_the_client_wrote_left_of_its_own_address_is_not_believed():
    assert client_address(NGINX, "198.51.100.1, 203.0.113.5", PROXIES) == "203.0.113.5"
    # even when the forged entry claims to be one of our proxies
    assert client_address(NGINX, f"{GATEWAY}, 203.0.113.5", PROXIES) == "203.0.113.5"


def test_an_untrusted_sender_cannot_forge_its_address():
    assert client_address("203.0.113.5", "198.51.100.1", PROXIES) == "203.0.113.5"
    assert client_address("203.0.113.5", NGINX, PROXIES) == "203.0.113.5"


def test_a_trusted_proxy_without_the_header_is_itself_the_client():
    assert client_address(NGINX, "", PROXIES) == NGINX


@pytest.mark.parametrize(
    "header",
    [
        "garbage",
        " , ,",
        ",",
        "203.0.113.5:4711",  # a port is not part of an address we accept
        "unknown",
        "203.0.113.5, not-an-ip",  # the hop our proxy wrote is unreadable: trust nothing
        "999.1.1.1",
        "\x00\xff" * 50,
        "1.2.3.4" + ",x" * 5000,
    ],
)
def test_a_malformed_header_falls_back_to_remote_addr(header):
    assert client_address(NGINX, header, PROXIES) == NGINX


def test_a_malformed_remote_addr_is_kept_as_it_is():
    assert client_address("", "203.0.113.5", PROXIES) == ""
    assert client_address("garbage", "203.0.113.5", PROXIES) == "garbage"


def test_ipv6_clients_and_proxies():
    assert client_address("fd00::2", "2001:db8::1", PROXIES) == "2001:db8::1"
    assert client_address(NGINX, " 2001:DB8:0::1 ", PROXIES) == "2001:db8::1"
    assert client_address("fd00::2", f"2001:db8::1, {NGINX}", PROXIES) == "2001:db8::1"
    assert client_address("2001:db8::9", "203.0.113.5", PROXIES) == "2001:db8::9"


def test_ipv4_seen_through_a_dual_stack_socket_is_recognised():
    assert client_address(f"::ffff:{NGINX}", "203.0.113.5", PROXIES) == "203.0.113.5"


def test_cidr_networks_cover_every_address_in_them():
    assert client_address("10.0.0.254", "203.0.113.5", PROXIES) == "203.0.113.5"
    assert client_address("10.0.2.1", "203.0.113.5", PROXIES) == "10.0.2.1"
    assert client_address("10.0.1.8", "203.0.113.5", PROXIES) == "10.0.1.8"


def test_when_every_hop_is_ours_the_furthest_one_is_the_client():
    # a staff PC inside a trusted network, going through both proxies
    assert client_address(NGINX, f"10.0.0.50, {GATEWAY}", PROXIES) == "10.0.0.50"


# --- through the application ------------------------------------------------------


@pytest.fixture
def behind_nginx(settings):
    settings.TRUSTED_PROXIES = PROXIES


def from_behind_nginx(client_ip: str) -> Client:
    return Client(REMOTE_ADDR=NGINX, headers={"X-Forwarded-For": client_ip})


def test_the_audit_row_carries_the_forwarded_client_address(db, behind_nginx):
    from_behind_nginx("203.0.113.5").post("/login/", {"username": "nobody", "password": "x"})
    entry = AuditEntry.objects.get(action="auth.login")
    assert entry.ip == "203.0.113.5"


def test_without_trusted_proxies_the_audit_row_keeps_remote_addr(db):
    from_behind_nginx("203.0.113.5").post("/login/", {"username": "nobody", "password": "x"})
    assert AuditEntry.objects.get(action="auth.login").ip == NGINX


def test_a_garbage_header_from_a_trusted_proxy_is_no_error(db, behind_nginx):
    response = from_behind_nginx("\u202e<script>, ;;;, [::1]:80").get("/login/")
    assert response.status_code == 200
