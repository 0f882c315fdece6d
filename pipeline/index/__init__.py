"""The index layer, the only part that talks to Elasticsearch: the client, mappings,
templates, index versions and aliases, and one repository per index. It stores the records
and documents it is given; what a story is, the stories stage decides."""
