"""The SSRF guard's address rules, on its own."""

from __future__ import annotations

import ipaddress

import pytest

from pipeline.feeds.netguard import BlockedAddress, NetworkPolicy, is_public, parse_ip_literal

NON_PUBLIC = [
    "10.0.0.1",
    "127.0.0.1",
    "169.254.169.254",
    "172.16.5.4",
    "192.168.1.1",
    "100.64.0.1",
    "224.0.0.1",
    "0.0.0.0",
    "::1",
    "::",
    "fe80::1",
    "fc00::1",
    "ff02::1",
    "::ffff:10.0.0.1",
    "64:ff9b::a9fe:a9fe",
    "64:ff9b::808:808",
]


@pytest.mark.parametrize("address", NON_PUBLIC)
def test_non_public_addresses_are_refused(address):
    ip = ipaddress.ip_address(address)
    assert not is_public(ip)
    with pytest.raises(BlockedAddress):
        NetworkPolicy().check_address(ip)


@pytest.mark.parametrize("address", ["8.8.8.8", "2a00:1450:4001::200e", "151.101.1.1"])
def test_public_addresses_pass(address):
    NetworkPolicy().check_address(ipaddress.ip_address(address))


@pytest.mark.parametrize("host", ["2130706433", "0x7f.1", "017700000001", "[::1]", "127.1"])
def test_odd_spellings_of_loopback_are_literals(host):
    ip = parse_ip_literal(host)
    assert ip is not None and ip.is_loopback
    with pytest.raises(BlockedAddress):
        NetworkPolicy().check_host(host)


def test_allow_list_opens_only_its_networks():
    policy = NetworkPolicy(allow=(ipaddress.ip_network("127.0.0.0/8"),))
    policy.check_address(ipaddress.ip_address("127.0.0.1"))
    with pytest.raises(BlockedAddress):
        policy.check_address(ipaddress.ip_address("10.0.0.1"))
    with pytest.raises(BlockedAddress):
        policy.check_address(ipaddress.ip_address("169.254.169.254"))


def test_exclusive_mode_refuses_names_before_resolving_them():
    policy = NetworkPolicy(only=(ipaddress.ip_network("127.0.0.0/8"),))
    assert policy.check_host("127.0.0.1") == ipaddress.ip_address("127.0.0.1")
    assert policy.check_host("localhost") is None  # resolved, then its addresses are checked
    with pytest.raises(BlockedAddress):
        policy.check_host("example.com")
    with pytest.raises(BlockedAddress):
        policy.check_address(ipaddress.ip_address("8.8.8.8"))


def test_settings_read_both_network_lists_from_the_environment():
    from pipeline.config import ConfigError, Settings

    fetch = Settings.from_env(
        {
            "WIREFEED_ALLOW_PRIVATE_NETWORKS": "127.0.0.0/8, 10.1.0.0/16",
            "WIREFEED_ONLY_NETWORKS": "",
        }
    ).fetch
    assert [str(n) for n in fetch.allow_networks] == ["127.0.0.0/8", "10.1.0.0/16"]
    assert fetch.only_networks == ()
    with pytest.raises(ConfigError, match="WIREFEED_ALLOW_PRIVATE_NETWORKS"):
        Settings.from_env({"WIREFEED_ALLOW_PRIVATE_NETWORKS": "not-a-net"})
