"""Persistence: SQLAlchemy 2 models, the async engine, and one query module per table."""
