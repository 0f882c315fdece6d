"""Per-site boilerplate rules (trailer lines, chrome to prune), loaded from YAML.

The packaged `data/site_rules.yaml` holds the generic rules and a few sites; an operator adds
more without code through a file named by WIREFEED_SITE_RULES.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from lxml import etree

from pipeline.config import ConfigError

PACKAGED = Path(__file__).resolve().parents[1] / "data" / "site_rules.yaml"
ENV_VAR = "WIREFEED_SITE_RULES"


@dataclass(frozen=True, slots=True)
class Rules:
    drop_lines: tuple[re.Pattern[str], ...] = ()
    prune_xpath: tuple[etree.XPath, ...] = ()


@dataclass(frozen=True, slots=True)
class SiteRules:
    generic: Rules = field(default_factory=Rules)
    sites: dict[str, Rules] = field(default_factory=dict)
    max_line_chars: int = 320

    def for_host(self, host: str | None) -> Rules:
        """Generic rules plus those of every configured site `host` belongs to."""
        host = (host or "").lower().rstrip(".")
        lines, xpaths = list(self.generic.drop_lines), list(self.generic.prune_xpath)
        for site, rules in self.sites.items():
            if host == site or host.endswith(f".{site}"):
                lines.extend(rules.drop_lines)
                xpaths.extend(rules.prune_xpath)
        return Rules(tuple(lines), tuple(xpaths))

    def is_boilerplate(self, paragraph: str, host: str | None = None) -> bool:
        text = " ".join(paragraph.split())
        if not text or len(text) > self.max_line_chars:
            return False
        return any(p.search(text) for p in self.for_host(host).drop_lines)


def _rules(where: str, raw: Any) -> Rules:
    if raw is None:
        return Rules()
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: expected a mapping with drop_lines/prune_xpath")
    unknown = set(raw) - {"drop_lines", "prune_xpath"}
    if unknown:
        raise ConfigError(f"{where}: unknown keys {sorted(unknown)}")
    patterns = []
    for i, pattern in enumerate(raw.get("drop_lines") or []):
        try:
            patterns.append(re.compile(str(pattern), re.IGNORECASE))
        except re.error as exc:
            raise ConfigError(f"{where}.drop_lines[{i}]: bad pattern {pattern!r}: {exc}") from None
    xpaths = []
    for i, expression in enumerate(raw.get("prune_xpath") or []):
        try:
            xpaths.append(etree.XPath(str(expression)))
        except etree.XPathSyntaxError as exc:
            raise ConfigError(
                f"{where}.prune_xpath[{i}]: bad XPath {expression!r}: {exc}"
            ) from None
    return Rules(tuple(patterns), tuple(xpaths))


def parse_rules(document: Any, where: str) -> SiteRules:
    """Validate one rules document (already YAML-loaded); errors name the file and key."""
    if not isinstance(document, dict):
        raise ConfigError(f"{where}: expected a mapping at the top level")
    sites_raw = document.get("sites") or {}
    if not isinstance(sites_raw, dict):
        raise ConfigError(f"{where}: sites: expected a mapping of host to rules")
    sites = {
        str(host).lower(): _rules(f"{where}: sites.{host}", rules)
        for host, rules in sites_raw.items()
    }
    try:
        max_chars = int(document.get("max_line_chars", 320))
    except (TypeError, ValueError):
        raise ConfigError(f"{where}: max_line_chars must be an integer") from None
    return SiteRules(_rules(f"{where}: generic", document.get("generic")), sites, max_chars)


def merge(base: SiteRules, extra: SiteRules) -> SiteRules:
    sites = dict(base.sites)
    for host, rules in extra.sites.items():
        old = sites.get(host, Rules())
        sites[host] = Rules(old.drop_lines + rules.drop_lines, old.prune_xpath + rules.prune_xpath)
    generic = Rules(
        base.generic.drop_lines + extra.generic.drop_lines,
        base.generic.prune_xpath + extra.generic.prune_xpath,
    )
    return SiteRules(generic, sites, base.max_line_chars)


def load_file(path: Path) -> SiteRules:
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path}: cannot read site rules: {exc}") from None
    return parse_rules(document, str(path))


@lru_cache(maxsize=4)
def _load(extra_path: str | None) -> SiteRules:
    rules = load_file(PACKAGED)
    return merge(rules, load_file(Path(extra_path))) if extra_path else rules


def site_rules() -> SiteRules:
    """The packaged rules plus the operator's file, if WIREFEED_SITE_RULES names one."""
    return _load(os.environ.get(ENV_VAR) or None)
