"""The wirefeed-airflow image, natively: an AIRFLOW_HOME laid out as the Dockerfile lays out
/opt/airflow (the DAGs, the plugin, the default feeds), this project's virtualenv for the
image's Python, and the image's entrypoint, which runs a bare command as an Airflow
subcommand. Any service built from the image (api-server, scheduler, a Celery worker, a
one-shot) starts through `AirflowImage.launcher`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from tests.support.compose import Address, Service, mapped, native_env, own_address
from tests.support.stack import Launcher, Process, in_own_host

ROOT = Path(__file__).resolve().parents[2]

# In a container each component listens on all of its own interfaces; natively, on the
# address that stands for its container. (subcommand: setting of the host, of the port)
# A Celery worker's log server has no host setting: it listens on every interface, so each
# worker natively needs a port of its own (`loopback_addresses(..., everywhere=...)`).
_LISTENS = {
    ("api-server",): ("AIRFLOW__API__HOST", "AIRFLOW__API__PORT"),
    ("scheduler",): (
        "AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_HOST",
        "AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_PORT",
    ),
    ("celery", "worker"): (None, "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT"),
}


@dataclass(frozen=True)
class AirflowImage:
    home: Path

    @classmethod
    def lay_out(cls, home: Path) -> AirflowImage:
        home.mkdir(parents=True, exist_ok=True)
        for name in ("dags", "plugins", "feeds.yaml"):
            (home / name).symlink_to(ROOT / name)
        (home / "logs").mkdir()
        return cls(home)

    @property
    def env(self) -> dict[str, str]:
        """The image's own ENV (Dockerfile and its base image)."""
        return {
            "AIRFLOW_HOME": str(self.home),
            "WIREFEED_FEEDS_FILE": str(self.home / "feeds.yaml"),
        }

    def argv(self, service: Service) -> list[str]:
        if service.entrypoint():
            return service.argv()
        return ["airflow", *service.command()]

    def launcher(
        self,
        addresses: list[Address],
        extra_env: Mapping[str, str] | None = None,
        own_hosts: bool = False,
    ) -> Launcher:
        """Starts a service of the image with its compose environment (service names
        mapped), then `extra_env`; its output goes to logs/<container>.log in the home.
        `own_hosts`: each container a host of its own, named after it (`in_own_host`), as
        the replicas of a scaled service need to be told apart."""

        def launch(service: Service) -> Process:
            argv = [mapped(part, addresses) for part in self.argv(service)]
            extra = {**_listen_env(service, argv, addresses), **(extra_env or {})}
            if own_hosts:
                own = own_address(addresses, service.name)
                hosts = self.home / f"{service.name}.hosts"
                argv = in_own_host(argv, service.name, own.host, hosts)
                extra["HOSTNAME"] = service.name
            env = native_env(service, addresses, self.env, extra)
            return Process(argv, env, self.home / "logs" / f"{service.name}.log")

        return launch


def _listen_env(service: Service, argv: list[str], addresses: list[Address]) -> dict[str, str]:
    if argv[0] != "airflow":
        return {}
    settings = next((v for k, v in _LISTENS.items() if tuple(argv[1 : 1 + len(k)]) == k), None)
    if settings is None:
        return {}
    own = own_address(addresses, service.name)
    host, port = settings
    return {port: str(own.native_port), **({host: own.host} if host else {})}
