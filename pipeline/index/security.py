"""Who may do what in the engine: the least-privilege role and user the DAGs write with.

The one definition of them. `wirefeed security setup` applies it (the compose file's
`elasticsearch-setup` service runs that command), and the tests apply it the same way. The
role names every index of `store.index_definitions` for the same index prefix, so an index
added there is granted here without anyone remembering to.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from elasticsearch import Elasticsearch

from pipeline.config import ConfigError
from pipeline.index.definitions import index_definitions

# `setup` puts component and index templates; the health and info calls need `monitor`.
CLUSTER_PRIVILEGES = ("monitor", "manage_index_templates")
DEFAULT_USER = "wirefeed"
KIBANA_USER = "kibana_system"


def writer_role_name(prefix: str = "") -> str:
    return f"{prefix}wirefeed_writer"


def writer_index_patterns(prefix: str = "") -> list[str]:
    """Every version of every wirefeed index of this prefix (`articles-v1`, `articles-v2`...)."""
    return [f"{d.alias}*" for d in index_definitions(prefix)]


def writer_role(prefix: str = "") -> dict[str, Any]:
    """The body of PUT _security/role/<writer_role_name(prefix)>."""
    return {
        "cluster": list(CLUSTER_PRIVILEGES),
        "indices": [{"names": writer_index_patterns(prefix), "privileges": ["all"]}],
    }


@dataclass(frozen=True, slots=True)
class SecuritySetup:
    """What `apply` creates or updates. Passwords never go into repr()."""

    prefix: str = ""
    user: str = DEFAULT_USER
    password: str = field(default="", repr=False)
    kibana_password: str | None = field(default=None, repr=False)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> SecuritySetup:
        password = env.get("WIREFEED_ES_PASSWORD") or ""
        if len(password) < 6:
            raise ConfigError("WIREFEED_ES_PASSWORD: required, at least 6 characters")
        kibana = env.get("KIBANA_SYSTEM_PASSWORD") or None
        if kibana is not None and len(kibana) < 6:
            raise ConfigError("KIBANA_SYSTEM_PASSWORD: at least 6 characters when set")
        return cls(
            prefix=env.get("WIREFEED_INDEX_PREFIX", ""),
            user=env.get("WIREFEED_ES_USER") or DEFAULT_USER,
            password=password,
            kibana_password=kibana,
        )


def apply(client: Elasticsearch, setup: SecuritySetup) -> list[str]:
    """Create or update the writer role and user (and Kibana's password, if given); safe to
    repeat. `client` must be allowed to manage security (the `elastic` superuser)."""
    done = []
    if setup.kibana_password:
        client.security.change_password(username=KIBANA_USER, password=setup.kibana_password)
        done.append(f"password of {KIBANA_USER} set")
    role = writer_role_name(setup.prefix)
    client.security.put_role(name=role, **writer_role(setup.prefix))
    done.append(f"role {role}: {', '.join(writer_index_patterns(setup.prefix))}")
    client.security.put_user(username=setup.user, password=setup.password, roles=[role])
    done.append(f"user {setup.user} with role {role}")
    return done
