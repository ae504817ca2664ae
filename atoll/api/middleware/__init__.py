"""Small ASGI middleware, one per file, composed as a literal list in `atoll.api.app`."""
