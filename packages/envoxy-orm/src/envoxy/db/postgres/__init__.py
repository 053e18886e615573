"""The PostgreSQL driver layer shared by ``pgsqlc`` and the ORM engines of ``psql_servers``.

- :mod:`envoxy.db.postgres.options`: the libpq options that bound connecting and that
  carry ``statement_timeout`` and keepalives (imports no driver);
- :mod:`envoxy.db.postgres.deadline`: psycopg2 connections whose every round trip has a
  client-side deadline (imports psycopg2: ``envoxy-orm[postgres]``).

It imports no SQLAlchemy, so ``pgsqlc`` can use it without the ORM.
"""
