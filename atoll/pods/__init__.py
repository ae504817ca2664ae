"""The pod registry's live side: endpoint discovery and health probes."""
