"""Stage 3, stories: fingerprints (MinHash signatures and sketches), exact and near-duplicate
matching, story assignment through claimed keys, and the story documents themselves."""
