"""Talking to OpenStack services: Keystone tokens, the catalog, service sessions."""
