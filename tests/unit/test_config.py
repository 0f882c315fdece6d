"""Settings from the environment: defaults, validation, and errors that name the variable."""

from __future__ import annotations

import ipaddress

import pytest

from pipeline.config import ConfigError, Settings, env_int, env_number


def test_defaults_without_any_variable():
    settings = Settings.from_env({})
    assert settings.engine.url == "http://localhost:9200"
    assert settings.fetch.max_body_bytes == 10 * 1024 * 1024
    assert settings.fetch.only_networks == ()


def test_networks_are_parsed_and_bad_ones_named():
    settings = Settings.from_env({"WIREFEED_ONLY_NETWORKS": "127.0.0.0/8, ::1/128"})
    assert settings.fetch.only_networks == (
        ipaddress.ip_network("127.0.0.0/8"),
        ipaddress.ip_network("::1/128"),
    )
    with pytest.raises(ConfigError, match="WIREFEED_ALLOW_PRIVATE_NETWORKS: 'ten' is not"):
        Settings.from_env({"WIREFEED_ALLOW_PRIVATE_NETWORKS": "ten"})


@pytest.mark.parametrize("raw", ["0", "-3", "many", "1.5"])
def test_env_int_refuses_what_is_not_a_positive_whole_number(raw):
    with pytest.raises(ConfigError, match="WIREFEED_BATCH_SIZE: must be a positive whole"):
        env_int({"WIREFEED_BATCH_SIZE": raw}, "WIREFEED_BATCH_SIZE", 50)


def test_env_int_and_env_number_defaults_and_values():
    assert env_int({}, "X", 50) == 50
    assert env_int({"X": " 7 "}, "X", 50) == 7
    assert env_number({"X": "2.5"}, "X", 1.0) == 2.5
    with pytest.raises(ConfigError, match="X: 'soon' is not a number"):
        env_number({"X": "soon"}, "X", 1.0)
    with pytest.raises(ConfigError, match="X: must be positive"):
        env_number({"X": "0"}, "X", 1.0)


def test_several_engine_urls_are_every_node_the_client_may_use():
    settings = Settings.from_env({"ELASTICSEARCH_URL": "http://a:9200, http://b:9201,"})
    assert settings.engine.urls == ["http://a:9200", "http://b:9201"]
    with pytest.raises(ConfigError, match="ELASTICSEARCH_URL"):
        Settings.from_env({"ELASTICSEARCH_URL": "http://a:9200,b:9201"})
