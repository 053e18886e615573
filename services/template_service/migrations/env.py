"""Alembic environment of this service.

The logic lives in envoxy-alembic (``envoxy.tools.alembic.environment``) so it is
upgraded with the framework; run migrations with ``envoxy-alembic``.
"""

from envoxy.tools.alembic.environment import run_migrations

run_migrations()
