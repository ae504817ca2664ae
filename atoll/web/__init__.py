"""ASGI middleware shared by the admin API and the gateway, one per file.

Each is a small ASGI class; an app is built by listing them (see `atoll.api.app`).
"""
