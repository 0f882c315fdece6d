"""Component and index templates for the versioned indices behind each alias.

Pure data: `store` puts these bodies. A template matches every version of its alias
(`articles-v1`, `articles-v2`, ...), so an index created by a reindex gets the current
settings and mapping without repeating them at the call site.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from pipeline.index.mappings import INDEX_SETTINGS

# Above the built-in templates of Elasticsearch 8 (priority 100-200); our patterns never
# overlap theirs, but an explicit priority makes the precedence plain.
TEMPLATE_PRIORITY = 500


@dataclass(frozen=True, slots=True)
class IndexDefinition:
    """One alias, the version `setup` creates first, and the mapping every version uses."""

    alias: str
    version: int
    mapping: dict[str, Any]


@dataclass(frozen=True, slots=True)
class CopyResult:
    """One copy pass from one version index into another (`Store.copy_index`)."""

    source: str
    target: str
    source_count: int  # documents in `source` when the pass started
    target_count: int  # documents in `target` after the pass
    created: int
    updated: int
    failures: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        """Every document `source` held is in `target` (documents are never deleted)."""
        return not self.failures and self.target_count >= self.source_count


@dataclass(frozen=True, slots=True)
class TemplateSet:
    components: dict[str, dict[str, Any]]  # name -> body of PUT _component_template
    index_templates: dict[str, dict[str, Any]]  # name -> body of PUT _index_template


def index_name(alias: str, version: int) -> str:
    return f"{alias}-v{version}"


def version_of(alias: str, index: str) -> int | None:
    """The version number of `index` if it is a version of `alias`, else None."""
    match = re.fullmatch(re.escape(alias) + r"-v(\d+)", index)
    return int(match.group(1)) if match else None


def settings_component(prefix: str) -> str:
    return f"{prefix}wirefeed-settings"


def template_set(prefix: str, definitions: list[IndexDefinition]) -> TemplateSet:
    """Templates for these definitions: one shared settings component, one mapping
    component per alias, and one index template per alias composed of the two."""
    settings_name = settings_component(prefix)
    components = {settings_name: {"template": {"settings": dict(INDEX_SETTINGS)}}}
    index_templates = {}
    for definition in definitions:
        mapping_name = f"{definition.alias}-mappings"
        components[mapping_name] = {"template": {"mappings": definition.mapping}}
        index_templates[f"{definition.alias}-template"] = {
            "index_patterns": [f"{definition.alias}-v*"],
            "composed_of": [settings_name, mapping_name],
            "priority": TEMPLATE_PRIORITY,
            "_meta": {"managed_by": "wirefeed", "alias": definition.alias},
        }
    return TemplateSet(components=components, index_templates=index_templates)
