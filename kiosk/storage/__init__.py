"""Persistence: SQLAlchemy 2.0 models, the engine set-up, and Alembic migrations."""
