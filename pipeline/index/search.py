"""Full-text search over the stories."""

from __future__ import annotations

from pipeline.index.indices import Indices
from pipeline.models import SearchHit


class SearchIndex(Indices):
    """Stories found by words, best first, with highlighted fragments."""

    def search(self, query: str, size: int = 10) -> list[SearchHit]:
        response = self.client.search(
            index=self.articles,
            size=size,
            query={
                "multi_match": {
                    "query": query,
                    "fields": ["title^3", "body", "copies.title"],
                    "type": "best_fields",
                }
            },
            highlight={"fields": {"title": {}, "body": {"fragment_size": 160}}},
            source_includes=["title", "url", "source", "published_at"],
        )
        hits = []
        for hit in response["hits"]["hits"]:
            src = hit["_source"]
            fragments = [f for frags in hit.get("highlight", {}).values() for f in frags]
            hits.append(
                SearchHit(
                    id=hit["_id"],
                    title=src.get("title", ""),
                    url=src.get("url", ""),
                    source=src.get("source", ""),
                    published_at=src.get("published_at"),
                    score=float(hit["_score"] or 0.0),
                    highlight=fragments,
                )
            )
        return hits
