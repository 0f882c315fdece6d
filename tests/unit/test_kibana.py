"""Every Kibana saved object in kibana/*.ndjson: valid Kibana 8 export shape, references that
resolve inside the file, and fields that exist in the mapping `wirefeed setup` creates."""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path
from typing import Any

import pytest

from pipeline.index.store import Store
from tests.support.paths import shared_path

KIBANA = Path(__file__).resolve().parents[2] / "kibana"
FILES = sorted(KIBANA.glob("*.ndjson"))
TYPES = {"index-pattern", "search", "visualization", "dashboard", "lens"}
# Attributes a saved search has in a Kibana 8 export (the shared exports hold none).
SEARCH_ATTRIBUTES = {"title", "description", "columns", "sort", "kibanaSavedObjectMeta"}
# A data view without a time field (the feed registry) has no timeFieldName.
OPTIONAL = {"timeFieldName"}
AGGREGATABLE = {"keyword", "date", "integer", "long", "float", "double", "boolean"}
KQL_FIELD = re.compile(r"([A-Za-z_][\w.]*)\s*(?::|<=|>=|<|>)")


def _objects() -> list[dict[str, Any]]:
    objects = []
    for path in FILES:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            assert line.strip(), f"{path.name}:{number}: blank line"
            try:
                objects.append(json.loads(line))
            except json.JSONDecodeError as exc:
                pytest.fail(f"{path.name}:{number}: not JSON: {exc}")
    return objects


OBJECTS = _objects()


def _by_type(kind: str) -> list[dict[str, Any]]:
    return [o for o in OBJECTS if o["type"] == kind]


@pytest.fixture(scope="module")
def reference_shapes() -> dict[str, set[str]]:
    """Per type, the attributes every object of that type in a real Kibana 8 export has."""
    export = shared_path("corpora", "kibana", "parsedmarc_kibana8_export.ndjson")
    shapes: dict[str, set[str]] = {}
    for line in export.read_text(encoding="utf-8").splitlines():
        obj = json.loads(line)
        if "type" in obj:
            keys = set(obj["attributes"])
            shapes[obj["type"]] = shapes.get(obj["type"], keys) & keys
    return shapes


def _index_fields(mapping: dict[str, Any], prefix: str = "") -> dict[str, str]:
    """Dotted field name -> type, multi-fields (title.keyword) included."""
    fields = {}
    for name, spec in mapping.get("properties", {}).items():
        path = f"{prefix}{name}"
        if "properties" in spec:
            fields.update(_index_fields(spec, f"{path}."))
            continue
        fields[path] = spec.get("type", "object")
        for sub, sub_spec in spec.get("fields", {}).items():
            fields[f"{path}.{sub}"] = sub_spec["type"]
    return fields


@pytest.fixture(scope="module")
def fields_by_data_view(engine_admin) -> dict[str, dict[str, str]]:
    """The mappings as the real engine holds them after `setup()`, keyed by the data view
    title (the alias name without a prefix, as in production)."""
    from pipeline.index.store import make_client

    prefix = f"tkibana{uuid.uuid4().hex[:8]}-"
    client = make_client(engine_admin)
    store = Store(client, prefix)
    store.setup()
    try:
        result = {}
        for definition in store.index_definitions():
            mapping = client.indices.get_mapping(index=definition.alias)
            (index_mapping,) = mapping.values()
            result[definition.alias.removeprefix(prefix)] = _index_fields(index_mapping["mappings"])
        return result
    finally:
        client.indices.delete(index=list(client.indices.get(index=f"{prefix}*")))
        store.drop_templates()
        client.close()


def test_files_exist_and_every_object_is_a_kibana_8_saved_object():
    assert FILES, "no kibana/*.ndjson"
    ids = [(o.get("type"), o.get("id")) for o in OBJECTS]
    assert len(ids) == len(set(ids)), "duplicate type/id"
    for obj in OBJECTS:
        assert obj.get("type") in TYPES, obj.get("type")
        assert isinstance(obj.get("id"), str) and obj["id"]
        assert isinstance(obj.get("attributes"), dict)
        assert isinstance(obj.get("references"), list)
        assert obj.get("coreMigrationVersion", "").startswith("8.")
        assert re.fullmatch(r"\d+\.\d+\.\d+", obj.get("typeMigrationVersion", ""))
        assert obj["attributes"]["title"]


def test_attributes_have_the_shape_real_exports_use(reference_shapes):
    for obj in OBJECTS:
        wanted = reference_shapes.get(obj["type"], SEARCH_ATTRIBUTES) - OPTIONAL
        missing = wanted - set(obj["attributes"])
        assert not missing, f"{obj['type']} {obj['id']} lacks {sorted(missing)}"


def _json_attr(obj: dict[str, Any], *path: str) -> Any:
    value: Any = obj["attributes"]
    for key in path:
        value = value[key]
    assert isinstance(value, str), f"{obj['id']}: {'.'.join(path)} must be a JSON string"
    return json.loads(value)


def test_json_string_attributes_parse_and_name_their_references():
    for obj in OBJECTS:
        ref_names = {r["name"] for r in obj["references"]}
        kind = obj["type"]
        if kind == "index-pattern":
            assert isinstance(_json_attr(obj, "fields"), list)
        if kind in ("visualization", "search", "dashboard"):
            source = _json_attr(obj, "kibanaSavedObjectMeta", "searchSourceJSON")
            assert source["query"]["language"] in ("kuery", "lucene")
            if kind != "dashboard":
                assert source["indexRefName"] in ref_names
        if kind == "visualization":
            state = _json_attr(obj, "visState")
            assert state["type"] and state["aggs"]
            assert state["title"] == obj["attributes"]["title"]
            assert isinstance(_json_attr(obj, "uiStateJSON"), dict)
        if kind == "search":
            assert all(isinstance(c, str) for c in obj["attributes"]["columns"])
            assert all(len(s) == 2 for s in obj["attributes"]["sort"])
        if kind == "dashboard":
            panels = _json_attr(obj, "panelsJSON")
            assert panels
            for panel in panels:
                assert f"{panel['panelIndex']}:{panel['panelRefName']}" in ref_names
                assert set(panel["gridData"]) >= {"i", "x", "y", "w", "h"}
                assert panel["gridData"]["x"] + panel["gridData"]["w"] <= 48
            assert isinstance(_json_attr(obj, "optionsJSON"), dict)


def test_references_resolve_inside_the_files():
    present = {(o["type"], o["id"]) for o in OBJECTS}
    for obj in OBJECTS:
        for ref in obj["references"]:
            assert (ref["type"], ref["id"]) in present, f"{obj['id']} -> {ref}"


def test_the_promised_objects_are_there():
    titles = {(o["type"], o["attributes"]["title"]) for o in OBJECTS}
    assert {
        ("search", "Latest stories"),
        ("search", "Stories by person"),
        ("dashboard", "News overview"),
        ("dashboard", "Feed health"),
    } <= titles
    views = {o["attributes"]["title"]: o["attributes"] for o in _by_type("index-pattern")}
    assert views["articles"]["timeFieldName"] == "published_at"
    assert "feeds" in views
    (overview,) = [o for o in _by_type("dashboard") if o["attributes"]["title"] == "News overview"]
    panels = {p["title"] for p in json.loads(overview["attributes"]["panelsJSON"])}
    assert {
        "Stories over time by outlet",
        "Top people",
        "Top organisations",
        "Top places",
        "Top outlets",
        "Latest headlines",
    } <= panels


def test_the_feed_health_dashboard_lists_degraded_feeds_with_their_reason():
    (dashboard,) = [o for o in _by_type("dashboard") if o["attributes"]["title"] == "Feed health"]
    shown = {r["id"] for r in dashboard["references"]}
    lists = [
        o
        for o in _by_type("visualization")
        if o["id"] in shown
        and _json_attr(o, "kibanaSavedObjectMeta", "searchSourceJSON")["query"]["query"]
        == "status : degraded"
    ]
    assert [_data_view_title(o) for o in lists] == ["feeds"]
    fields = [agg["params"].get("field") for agg in _json_attr(lists[0], "visState")["aggs"]]
    assert {"url", "last_error.keyword"} <= set(fields)


def _data_view_title(obj: dict[str, Any]) -> str:
    views = {o["id"]: o["attributes"]["title"] for o in _by_type("index-pattern")}
    (ref,) = [r for r in obj["references"] if r["type"] == "index-pattern"]
    return views[ref["id"]]


@pytest.mark.engine
def test_every_named_field_exists_in_the_index_mapping(fields_by_data_view):
    for view in _by_type("index-pattern"):
        fields = fields_by_data_view[view["attributes"]["title"]]
        time_field = view["attributes"].get("timeFieldName")
        if time_field:
            assert fields.get(time_field) == "date", view["id"]
    for obj in _by_type("search") + _by_type("visualization"):
        fields = fields_by_data_view[_data_view_title(obj)]
        source = _json_attr(obj, "kibanaSavedObjectMeta", "searchSourceJSON")
        named = set(KQL_FIELD.findall(source["query"]["query"]))
        if obj["type"] == "search":
            named |= set(obj["attributes"]["columns"])
            named |= {field for field, _ in obj["attributes"]["sort"]}
        else:
            for agg in _json_attr(obj, "visState")["aggs"]:
                field = agg["params"].get("field")
                if field:
                    # Aggregations need doc values: keyword, date, numbers, booleans.
                    assert fields.get(field) in AGGREGATABLE, f"{obj['id']}: {field}"
        for field in named:
            assert field in fields, f"{obj['id']} names {field!r}, not in the mapping"
