"""Paths for tests: where the shared, read-only corpora live (tests skip clearly when they
are absent), and temporary directories other accounts may enter."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared"


def shared_path(*parts: str) -> Path:
    """A path under ../shared, or a skip that says the folder is missing on this machine."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"shared corpus not present on this machine: {path}")
    return path


def open_tempdir(prefix: str) -> Path:
    """A new temporary directory that other accounts may enter: the engine and PostgreSQL
    run as accounts of their own when the tests run as root, and pytest's temporary
    directories are private to this user."""
    path = Path(tempfile.mkdtemp(prefix=prefix))
    path.chmod(0o755)
    return path
