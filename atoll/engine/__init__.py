"""atoll-engine: periodic tasks (and, later, job workers)."""
