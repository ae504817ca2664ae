"""Atoll: many OpenStack regions ("pods") that look and behave like one cloud."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("atoll")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0"
