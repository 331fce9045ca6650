"""Persistence: SQLAlchemy models, the database handle and migrations. Knows nothing of Qt."""
