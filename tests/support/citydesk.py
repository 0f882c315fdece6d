"""A small feed of three ordinary local stories, dated the last few hours, for tests that
run the whole pipeline and then search what it stored."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

STORIES = (
    ("Harbour bridge reopens", "The harbour bridge reopened after engineers replaced its cables."),
    ("Library extends hours", "The central library will stay open until ten on weekdays."),
    ("Tram line gets new stop", "A stop near the stadium opens on the eastern tram line in May."),
)


def city_desk_rss(site: str = "http://127.0.0.1") -> bytes:
    """The feed, its stories' links under `site`."""
    now = datetime.now(UTC)
    items = "".join(
        f"<item><title>{title}</title><link>{site}/city/{n}</link>"
        f"<guid>city-{n}</guid><description>{text}</description>"
        f"<pubDate>{format_datetime(now - timedelta(hours=n))}</pubDate></item>"
        for n, (title, text) in enumerate(STORIES)
    )
    return (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>City desk</title>'
        f"<link>{site}/</link>{items}</channel></rss>"
    ).encode()
