"""Run the real `wirefeed` command in a subprocess, as a user would."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any


def wirefeed(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pipeline", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=300,
    )


def wirefeed_json(*args: str, env: dict[str, str] | None = None) -> Any:
    done = wirefeed(*args, "--json", env=env)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)
