"""Stage 1, feeds: the registry (YAML, OPML), the schedule, polite polling of each feed
through the guarded fetcher, and parsing its body into entries; feed state and health."""
