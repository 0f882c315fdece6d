"""What the code imports is what pyproject.toml declares, for any pip that installs it.

The pip that ships with Python 3.11 (23.2) matches a requirement's extras by their literal
name: `lxml[html_clean]` (as jusText asks) finds nothing in lxml, which calls that extra
`html-clean`, so it installs lxml without lxml_html_clean and the first `wirefeed` command
dies with an ImportError. These tests resolve the declared requirements the same literal way
over the installed packages' own metadata, and run the product with nothing else importable.
"""

from __future__ import annotations

import importlib.metadata
import json
import subprocess
import sys
import tomllib
from pathlib import Path

from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]

# Import every module of the product, as a command, a DAG task and the worker pool do, with
# every installed package that the declared requirements do not bring made unimportable, as
# it is on a machine that installed only those: an optional import of such a package (requests
# tries chardet) then takes its fallback, and a needed one fails.
_IMPORT_ALL = """
import importlib, importlib.abc, importlib.metadata, json, pkgutil, sys
allowed = set(json.loads(sys.argv[1]))
owners = importlib.metadata.packages_distributions()
canonical = lambda name: name.lower().replace("_", "-").replace(".", "-")

class Uninstalled(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        dists = {canonical(d) for d in owners.get(name, [])}
        if "." not in name and dists and not dists & allowed:
            raise ModuleNotFoundError(f"No module named {name!r} (not declared)", name=name)

sys.meta_path.insert(0, Uninstalled())
sys.path.insert(0, "plugins")
import pipeline, wirefeed_airflow
for package in (pipeline, wirefeed_airflow):
    for module in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
        if not module.name.endswith(".__main__"):
            importlib.import_module(module.name)
import pipeline.entities.ner, pipeline.text.extract
page = b"<html><body><article><p>" + b"Some words of text. " * 80 + b"</p></article></body></html>"
assert pipeline.text.extract.extract_page(page).text
pipeline.entities.ner.default_enricher()
"""


def _provided_extras(name: str) -> set[str]:
    return set(importlib.metadata.distribution(name).metadata.get_all("Provides-Extra") or [])


def _applies(requirement: Requirement, extras: set[str]) -> bool:
    if requirement.marker is None:
        return True
    environment = default_environment()
    return any(
        requirement.marker.evaluate({**environment, "extra": extra}) for extra in extras or {""}
    )


def literal_closure(requirements: list[str]) -> set[str]:
    """The distributions these requirements install when extras match by literal name only."""
    installed: set[str] = set()
    pending = [(Requirement(r), set()) for r in requirements]
    while pending:
        requirement, parent_extras = pending.pop()
        if not _applies(requirement, parent_extras):
            continue
        name = canonicalize_name(requirement.name)
        extras = set(requirement.extras) & _provided_extras(requirement.name)
        key = name if not extras else f"{name}[{','.join(sorted(extras))}]"
        if key in installed:
            continue
        installed.add(key)
        for line in importlib.metadata.distribution(requirement.name).requires or []:
            pending.append((Requirement(line), extras))
    return {key.partition("[")[0] for key in installed}


def test_the_product_runs_with_only_what_we_declare_installed():
    allowed = sorted(literal_closure(PROJECT["dependencies"]) | {"wirefeed"})
    done = subprocess.run(
        [sys.executable, "-c", _IMPORT_ALL, json.dumps(allowed)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]


def test_what_the_code_imports_by_name_is_declared_by_name():
    """A package our code imports directly is a direct dependency, not there by chance
    through another package's requirements. A namespace that several distributions share
    (`airflow`: core, task SDK, providers) counts when the declared ones install any of them."""
    declared = {canonicalize_name(Requirement(r).name) for r in PROJECT["dependencies"]}
    installed = literal_closure(PROJECT["dependencies"])
    names = importlib.metadata.packages_distributions()
    missing = {}
    for path in [*ROOT.glob("pipeline/**/*.py"), *ROOT.glob("plugins/**/*.py")]:
        for top in _imported_top_levels(path.read_text(encoding="utf-8")):
            dists = {canonicalize_name(d) for d in names.get(top, [])}
            allowed = declared | {"wirefeed"} | (installed if len(dists) > 1 else set())
            if dists and not dists & allowed:
                missing.setdefault(top, str(path.relative_to(ROOT)))
    assert missing == {}


def _imported_top_levels(source: str) -> set[str]:
    import ast

    tops = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            tops |= {alias.name.partition(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            tops.add(node.module.partition(".")[0])
    return tops


def test_the_literal_resolution_drops_an_extra_under_another_spelling():
    """The control: resolving the way pip 23.2 does really loses what jusText asks for."""
    assert "lxml-html-clean" not in literal_closure(["justext"])
    assert "lxml-html-clean" in literal_closure(["lxml[html-clean]"])
