"""Alembic environment: runs migrations on the connection ivmon hands it."""

from alembic import context

from monitor.storage.schema import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("ivmon runs its migrations itself: use 'ivmon migrate'")

context.configure(connection=connection, target_metadata=Base.metadata,
                  render_as_batch=connection.dialect.name == "sqlite")
with context.begin_transaction():
    context.run_migrations()
