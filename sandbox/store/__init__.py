"""Metadata store: SQLAlchemy models, repositories, Alembic migrations, key material."""
