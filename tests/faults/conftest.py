"""Fixtures of the fault and hostile-input suite, and the one-line reliability summary.

Tests report what they observed into `reliability`: each injected fault, each hostile input
tried, the stories expected against the stories found after recovery, and every place a
secret was searched for. The summary line printed at the end is computed from those.
"""

from __future__ import annotations

import shutil
from collections import Counter
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

import pytest

from pipeline.index.store import Store
from tests.support.engine import LocalEngine
from tests.support.loopback import free_port
from tests.support.paths import open_tempdir


@dataclass
class Reliability:
    faults: Counter[str] = field(default_factory=Counter)
    hostile: Counter[str] = field(default_factory=Counter)
    lost: int = 0
    duplicates: int = 0
    leaks: int = 0
    story_checks: int = 0
    places_scanned: int = 0
    recoveries: dict[str, str] = field(default_factory=dict)

    def fault(self, kind: str, count: int = 1) -> None:
        self.faults[kind] += count

    def recovered(self, fault: str, how: str) -> None:
        """How the system came back from `fault` (how long it took), for the summary."""
        self.recoveries[fault] = how

    def hostile_input(self, name: str) -> None:
        self.hostile[name] += 1

    def check_stories(self, expected: Collection[str], found: Sequence[str]) -> tuple[int, int]:
        """(lost, duplicated): expected URLs not found, and URLs found more than once."""
        lost = len(set(expected) - set(found))
        duplicated = len(found) - len(set(found))
        self.lost += lost
        self.duplicates += duplicated
        self.story_checks += 1
        return lost, duplicated

    def scan(self, secret: str, places: Mapping[str, str]) -> list[str]:
        """The names of the places whose text holds `secret`."""
        leaked = [name for name, text in places.items() if secret in text]
        self.leaks += len(leaked)
        self.places_scanned += len(places)
        return leaked

    def line(self) -> str:
        return (
            f"reliability: faults injected {sum(self.faults.values())}, "
            f"hostile inputs tried {sum(self.hostile.values())}, "
            f"stories lost {self.lost}, duplicates {self.duplicates}, leaks {self.leaks}"
        )


RELIABILITY = Reliability()


@pytest.fixture()
def reliability() -> Reliability:
    return RELIABILITY


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    r = RELIABILITY
    if not (r.faults or r.hostile or r.places_scanned or r.story_checks):
        return
    terminalreporter.write_sep("-", "reliability")
    terminalreporter.write_line(
        f"faults: {dict(sorted(r.faults.items()))}; story checks {r.story_checks}; "
        f"places scanned for secrets {r.places_scanned}"
    )
    for fault, how in sorted(r.recoveries.items()):
        terminalreporter.write_line(f"recovery from {fault}: {how}")
    terminalreporter.write_line(r.line())


def stored_documents(store: Store, index: str) -> list[dict]:
    store.client.indices.refresh(index=index)
    response = store.client.search(index=index, size=10_000, query={"match_all": {}})
    return [hit["_source"] for hit in response["hits"]["hits"]]


@pytest.fixture(scope="session")
def spare_engine() -> Iterator[LocalEngine]:
    """A second, private engine instance (never the shared one) that a test may stop."""
    home = open_tempdir("wirefeed-spare-engine-")
    engine = LocalEngine(home, free_port(range(9290, 9300)))
    engine.start()
    try:
        yield engine
    finally:
        engine.stop()
        shutil.rmtree(home, ignore_errors=True)
