"""Settings from the environment, validated once, with errors that name the variable."""

from __future__ import annotations

import base64
import ipaddress
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

# The language the default entity model reads; a text whose language is unsure is read as it.
DEFAULT_LANGUAGE = "en"


class ConfigError(ValueError):
    """A setting or a feeds file is wrong; the message names where and which field."""


_SECRET_VARIABLES = (
    "ELASTICSEARCH_PASSWORD",
    "ELASTICSEARCH_API_KEY",
    "WIREFEED_ES_PASSWORD",
    "KIBANA_SYSTEM_PASSWORD",
)
# Shorter values would blank out ordinary words of the output.
_MIN_SECRET = 4


def secret_values(env: Mapping[str, str]) -> tuple[str, ...]:
    """Values that must never be shown: the engine password and API key, the password in
    the engine URL, and the Basic auth header value they travel in. Longest first."""
    values = {env.get(name) or "" for name in _SECRET_VARIABLES}
    url = env.get("ELASTICSEARCH_URL") or ""
    # The URL need not be valid here: everything between "//" and "@" is credentials.
    if "@" in url:
        userinfo = url.split("//", 1)[-1].rsplit("@", 1)[0]
        values |= {userinfo, userinfo.partition(":")[2]}
    password = env.get("ELASTICSEARCH_PASSWORD")
    if password:
        pair = f"{env.get('ELASTICSEARCH_USERNAME') or ''}:{password}"
        values.add(base64.b64encode(pair.encode()).decode())
    return tuple(sorted((v for v in values if len(v) >= _MIN_SECRET), key=len, reverse=True))


def redact(text: str, secrets: Iterable[str]) -> str:
    for secret in secrets:
        text = text.replace(secret, "***")
    return text


def _networks(name: str, raw: str) -> tuple[Network, ...]:
    nets = []
    for part in (p.strip() for p in raw.split(",")):
        if not part:
            continue
        try:
            nets.append(ipaddress.ip_network(part, strict=False))
        except ValueError as exc:
            raise ConfigError(f"{name}: {part!r} is not a CIDR network ({exc})") from None
    return tuple(nets)


def env_number(env: Mapping[str, str], name: str, default: float) -> float:
    """A positive number from the environment, or `default` when the variable is unset."""
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name}: {raw!r} is not a number") from None
    if value <= 0:
        raise ConfigError(f"{name}: must be positive, got {raw!r}")
    return value


def env_int(env: Mapping[str, str], name: str, default: int) -> int:
    """A positive whole number from the environment, or `default` when unset."""
    raw = (env.get(name) or "").strip()
    if not raw:
        return default
    if not raw.isdigit() or int(raw) <= 0:
        raise ConfigError(f"{name}: must be a positive whole number, got {raw!r}")
    return int(raw)


@dataclass(frozen=True, slots=True)
class EngineSettings:
    """Where the search engine is and how to log in. Secrets never go into repr()."""

    url: str = "http://localhost:9200"  # several nodes: comma-separated URLs
    api_key: str | None = field(default=None, repr=False)
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    index_prefix: str = ""
    ca_certs: str | None = None
    verify_certs: bool = True

    @property
    def urls(self) -> list[str]:
        """Every node the client may talk to: losing one of them is then not fatal."""
        return [u.strip() for u in self.url.split(",") if u.strip()]


@dataclass(frozen=True, slots=True)
class FetchSettings:
    user_agent: str = "wirefeed/0.1 (+https://github.com/wirefeed/wirefeed)"
    connect_timeout: float = 10.0
    total_timeout: float = 30.0
    max_body_bytes: int = 10 * 1024 * 1024
    max_redirects: int = 5
    per_host_limit: int = 2
    global_limit: int = 200
    allow_networks: tuple[Network, ...] = ()
    only_networks: tuple[Network, ...] = ()


@dataclass(frozen=True, slots=True)
class Settings:
    engine: EngineSettings = field(default_factory=EngineSettings)
    fetch: FetchSettings = field(default_factory=FetchSettings)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        engine = EngineSettings(
            url=env.get("ELASTICSEARCH_URL") or "http://localhost:9200",
            api_key=env.get("ELASTICSEARCH_API_KEY") or None,
            username=env.get("ELASTICSEARCH_USERNAME") or None,
            password=env.get("ELASTICSEARCH_PASSWORD") or None,
            index_prefix=env.get("WIREFEED_INDEX_PREFIX", ""),
        )
        if not engine.urls or not all(u.startswith(("http://", "https://")) for u in engine.urls):
            shown = redact(engine.url, secret_values(env))
            raise ConfigError(
                f"ELASTICSEARCH_URL: must be an http(s) URL, or several separated by commas, "
                f"got {shown!r}"
            )
        defaults = FetchSettings()
        fetch = FetchSettings(
            user_agent=env.get("WIREFEED_USER_AGENT") or defaults.user_agent,
            connect_timeout=env_number(env, "WIREFEED_CONNECT_TIMEOUT", defaults.connect_timeout),
            total_timeout=env_number(env, "WIREFEED_TOTAL_TIMEOUT", defaults.total_timeout),
            max_body_bytes=env_int(env, "WIREFEED_MAX_BODY_BYTES", defaults.max_body_bytes),
            per_host_limit=env_int(env, "WIREFEED_PER_HOST_LIMIT", defaults.per_host_limit),
            global_limit=env_int(env, "WIREFEED_GLOBAL_LIMIT", defaults.global_limit),
            allow_networks=_networks(
                "WIREFEED_ALLOW_PRIVATE_NETWORKS", env.get("WIREFEED_ALLOW_PRIVATE_NETWORKS", "")
            ),
            only_networks=_networks(
                "WIREFEED_ONLY_NETWORKS", env.get("WIREFEED_ONLY_NETWORKS", "")
            ),
        )
        return cls(engine=engine, fetch=fetch)
