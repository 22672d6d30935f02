"""Alembic's environment for the workbench store: always run on the connection the store hands over
(:func:`workbench.store.engine.upgrade`), inside its transaction, so concurrent openers wait for one upgrade."""

from alembic import context

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=None, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
