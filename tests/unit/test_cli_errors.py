"""Bad feeds files exit 2 and say what is wrong, before any engine is needed."""

from __future__ import annotations

import pytest

from tests.support.cli import wirefeed

NO_ENGINE = {"ELASTICSEARCH_URL": "http://127.0.0.1:9"}


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (None, "cannot read feeds file"),
        ("- name: no url here\n", "feed #1: field 'url': missing"),
        ("- url: ftp://example.com/feed.xml\n", "feed #1: field 'url'"),
        ("- url: file:///etc/passwd\n", "not an http(s) URL"),
        ("- url: https://user:hunter2@example.com/feed.xml\n", "credentials in the URL"),
        (
            "- url: https://example.com/a.xml\n"
            "- url: https://example.com/b.xml\n  full_text: sometimes\n",
            "feed #2: field 'full_text'",
        ),
        ("feeds: [unclosed\n", "not valid YAML"),
        ("just a string\n", "field 'feeds'"),
    ],
)
def test_bad_feeds_file_exits_2_naming_the_problem(tmp_path, content, expected):
    path = tmp_path / "feeds.yaml"
    if content is not None:
        path.write_text(content)
    done = wirefeed("run", "--once", "--feeds", str(path), env=NO_ENGINE)
    assert done.returncode == 2, done.stderr
    assert expected in done.stderr
    assert str(path) in done.stderr


def test_unknown_argument_exits_2():
    assert wirefeed("run", "--bogus").returncode == 2


def test_engine_down_exits_1_with_a_message(tmp_path):
    path = tmp_path / "feeds.yaml"
    path.write_text("- url: http://127.0.0.1:9/feed.xml\n")
    done = wirefeed("setup", env=NO_ENGINE)
    assert done.returncode == 1
    assert "search engine" in done.stderr
    assert "Traceback" not in done.stderr
