"""What the code imports is what pyproject.toml declares, for any pip that installs it.

The pip that ships with Python 3.11 (23.2) matches a requirement's extras by their literal
name: `lxml[html_clean]` (as jusText asks) finds nothing in lxml, which calls that extra
`html-clean`, so it installs lxml without lxml_html_clean and the first `wirefeed` command
dies with an ImportError. These tests resolve the declared requirements the same literal way
over the installed packages' own metadata, and check every imported distribution against it.
The modules only the test extra installs are hidden while the product is imported, as in an
install without it (some libraries import an optional module when it is there), all but the
one module of each provider that Airflow imports to list the installed providers.
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

# Import every module of the product, as a command, a DAG task and the worker pool do, and
# list the distributions that the loaded modules' files belong to.
_IMPORT_ALL = """
import importlib, importlib.metadata, json, pkgutil, sys
from pathlib import Path

hidden, listing = json.loads(sys.argv[1])

class Hidden:
    names = set(hidden)
    def find_spec(self, name, path=None, target=None):
        if name in self.names:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)

sys.meta_path.insert(0, Hidden())
sys.path.insert(0, "plugins")
import pipeline, wirefeed_airflow
for package in (pipeline, wirefeed_airflow):
    for module in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
        if not module.name.endswith(".__main__"):
            importlib.import_module(module.name)
import pipeline.enrich, pipeline.extract
page = b"<html><body><article><p>" + b"Some words of text. " * 80 + b"</p></article></body></html>"
pipeline.extract.extract_page(page)
pipeline.enrich.default_enricher()
owner = {}
for dist in importlib.metadata.distributions():
    for file in dist.files or []:
        if file.suffix == ".py":
            owner[str(Path(dist.locate_file(file)).resolve())] = dist.metadata["Name"]
files = {str(Path(m.__file__).resolve()) for name, m in list(sys.modules.items())
         if getattr(m, "__file__", None) and name not in listing}
print(json.dumps(sorted({owner[f] for f in files if f in owner})))
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


def _modules(distributions: set[str]) -> set[str]:
    """The dotted names of the Python modules and packages these distributions install."""
    names = set()
    for name in distributions:
        for file in importlib.metadata.distribution(name).files or []:
            if file.suffix != ".py" or ".." in file.parts or ".dist-info" in file.parts[0]:
                continue
            parts = file.with_suffix("").parts
            names.add(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


def _provider_listing(distributions: set[str]) -> set[str]:
    """What Airflow imports of every installed provider to list it: the module its
    `apache_airflow_provider` entry point names, and that module's packages."""
    names = set()
    for name in distributions:
        for entry in importlib.metadata.distribution(name).entry_points:
            if entry.group == "apache_airflow_provider":
                parts = entry.module.split(".")
                names |= {".".join(parts[:n]) for n in range(1, len(parts) + 1)}
    return names


def test_every_imported_distribution_is_installed_by_what_we_declare():
    product = literal_closure(PROJECT["dependencies"])
    tests_only = literal_closure(PROJECT["optional-dependencies"]["test"]) - product
    listing = _provider_listing(tests_only)
    hidden = sorted(_modules(tests_only) - _modules(product) - listing)
    done = subprocess.run(
        [sys.executable, "-c", _IMPORT_ALL, json.dumps([hidden, sorted(listing)])],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    imported = {canonicalize_name(name) for name in json.loads(done.stdout.splitlines()[-1])}
    assert imported - product - {"wirefeed"} == set()


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
