"""Storage: SQLAlchemy tables, Alembic migrations, the batched recorder and queries."""
