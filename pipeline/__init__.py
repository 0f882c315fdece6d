"""wirefeed: news feeds in, deduplicated and entity-tagged stories out. No Airflow here."""
