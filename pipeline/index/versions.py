"""Index setup and versions: templates, indices behind aliases, mapping upgrades, the
copy into a new version and the alias swap of a reindex."""

from __future__ import annotations

from elasticsearch import BadRequestError, Elasticsearch, NotFoundError, helpers

from pipeline.index.definitions import index_definitions
from pipeline.index.indices import Indices, StoreError
from pipeline.index.templates import (
    CopyResult,
    IndexDefinition,
    index_name,
    template_set,
    version_of,
)


class IndexVersions(Indices):
    """Every index behind its alias over versioned indices (`articles` -> `articles-v1`)."""

    def __init__(self, client: Elasticsearch, prefix: str = "") -> None:
        super().__init__(client, prefix)
        self._definitions = {d.alias: (d.version, d.mapping) for d in index_definitions(prefix)}

    def index_definitions(self) -> list[IndexDefinition]:
        return [IndexDefinition(a, v, m) for a, (v, m) in self._definitions.items()]

    def put_templates(self) -> None:
        """Component and index templates for every versioned index; PUT replaces them."""
        templates = template_set(self._prefix, self.index_definitions())
        for name, body in templates.components.items():
            self.client.cluster.put_component_template(name=name, **body)
        for name, body in templates.index_templates.items():
            self.client.indices.put_index_template(name=name, **body)

    def drop_templates(self) -> None:
        """Remove this store's templates (a throwaway prefix's, in tests); indices stay."""
        templates = template_set(self._prefix, self.index_definitions())
        for name in templates.index_templates:
            self.client.options(ignore_status=404).indices.delete_index_template(name=name)
        for name in templates.components:
            self.client.options(ignore_status=404).cluster.delete_component_template(name=name)

    def setup(self) -> list[str]:
        """Templates, then missing indices and aliases, then new mapping fields on the
        indices behind each alias; safe to repeat."""
        self.put_templates()
        actions = []
        for definition in self.index_definitions():
            alias = definition.alias
            current = self.alias_indices(alias)
            if not current:
                index = index_name(alias, definition.version)
                if self.client.indices.exists(index=index):
                    self.client.indices.put_alias(index=index, name=alias, is_write_index=True)
                    actions.append(f"aliased {alias} -> {index}")
                else:
                    # Settings and mapping come from the index template.
                    self.client.indices.create(
                        index=index, aliases={alias: {"is_write_index": True}}
                    )
                    actions.append(f"created {index}")
                current = [index]
            try:
                self.client.indices.put_mapping(index=current, **definition.mapping)
            except BadRequestError as exc:
                raise StoreError(
                    f"{alias}: the index mapping cannot take the new definition "
                    f"({exc.message}); build a new version with `wirefeed reindex`"
                ) from None
        return actions

    def alias_indices(self, alias: str) -> list[str]:
        try:
            return sorted(self.client.indices.get_alias(name=alias))
        except NotFoundError:
            return []

    def write_index(self, alias: str) -> str:
        """The index behind `alias` that takes writes."""
        response = self.client.indices.get_alias(name=alias)
        indices = sorted(response)
        for index in indices:
            if response[index]["aliases"][alias].get("is_write_index"):
                return index
        if len(indices) == 1:
            return indices[0]
        raise StoreError(f"{alias}: no write index among {', '.join(indices)}")

    def versions(self, alias: str) -> list[str]:
        """Every version index of `alias`, oldest first."""
        names = self.client.indices.get(index=f"{alias}-v*", expand_wildcards="open")
        found = [(version_of(alias, n), n) for n in names]
        return [n for v, n in sorted(f for f in found if f[0] is not None)]

    def create_next_version(self, alias: str) -> tuple[str, str]:
        """A new version index after the newest one (settings and mapping from the
        template); returns (current write index, new index).

        A newer version that the alias does not point at yet is an unfinished reindex: it is
        returned again, so a retried copy resumes instead of starting a third version.
        """
        self.put_templates()
        source = self.write_index(alias)
        newest = self.versions(alias)[-1]
        if newest != source and (version_of(alias, newest) or 0) > (version_of(alias, source) or 0):
            return source, newest
        target = index_name(alias, (version_of(alias, newest) or 0) + 1)
        self.client.indices.create(index=target)
        return source, target

    def copy_index(self, source: str, target: str) -> CopyResult:
        """Copy every document of `source` into `target`: a scroll over `source`, written
        to `target` in bulk, each document with its version as an external version.

        Done by the client, not the server's reindex API, so that one path runs on every
        engine (the test distribution has no reindex module) and that path is what the
        tests exercise. External versioning makes a pass repeatable: a second pass adds
        documents written to `source` since the first and updates those changed there, but
        never overwrites a newer version that was written to `target` directly (409, kept).
        """
        self.client.indices.refresh(index=source)
        source_count = int(self.client.count(index=source)["count"])
        actions = (
            {
                "_op_type": "index",
                "_index": target,
                "_id": hit["_id"],
                "version": hit["_version"],
                "version_type": "external",
                "_source": hit["_source"],
            }
            for hit in helpers.scan(
                self.client, index=source, query={"sort": ["_doc"]}, version=True, size=1000
            )
        )
        created = updated = 0
        failures = []
        for ok, item in self._streaming_bulk(actions):
            info = item["index"]
            if ok:
                created += info.get("result") == "created"
                updated += info.get("result") == "updated"
            elif info.get("status") != 409:
                failures.append(f"{info.get('_id')}: {info.get('error')}")
        self.client.indices.refresh(index=target)
        return CopyResult(
            source=source,
            target=target,
            source_count=source_count,
            target_count=int(self.client.count(index=target)["count"]),
            created=created,
            updated=updated,
            failures=failures,
        )

    def swap_alias(self, alias: str, source: str, target: str) -> None:
        """Move `alias` (and its writes) from `source` to `target` in one atomic request."""
        self.client.indices.update_aliases(
            actions=[
                {"remove": {"index": source, "alias": alias}},
                {"add": {"index": target, "alias": alias, "is_write_index": True}},
            ]
        )

    def drop_version(self, alias: str, index: str) -> None:
        """Delete an old version; refuses the index the alias still points at."""
        if version_of(alias, index) is None:
            raise StoreError(f"{index} is not a version of {alias}")
        if index in self.alias_indices(alias):
            raise StoreError(f"{index} is still behind {alias}; swap the alias first")
        self.client.indices.delete(index=index)

    def refresh(self) -> None:
        self.client.indices.refresh(index=[self.articles, self.feeds, self.dedup_keys])
