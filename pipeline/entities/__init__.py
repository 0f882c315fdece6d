"""Stage 4, entities: spaCy NER on new stories, names normalised and resolved, sides of
results tables typed, and stored stories enriched again when the rules change."""
