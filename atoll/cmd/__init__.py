"""Console scripts: atoll-api, atoll-engine, atoll-manage."""
