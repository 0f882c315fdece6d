"""What every wirefeed DAG shares: the connection id, retries with backoff, a start date."""

from __future__ import annotations

import os
from datetime import datetime, timedelta

CONN_ID = os.environ.get("WIREFEED_ES_CONN_ID", "elasticsearch_default")
START_DATE = datetime(2026, 1, 1)
DEFAULT_ARGS = {
    "owner": "wirefeed",
    "retries": 3,
    "retry_delay": timedelta(seconds=30),
    "retry_exponential_backoff": True,
    "max_retry_delay": timedelta(minutes=10),
}
