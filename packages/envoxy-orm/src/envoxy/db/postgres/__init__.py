"""The PostgreSQL driver layer shared by ``pgsqlc`` and the ORM engines of ``psql_servers``.

- :mod:`envoxy.db.postgres.options`: the libpq options that bound connecting and that
  carry ``statement_timeout`` and keepalives (imports no driver);
- :mod:`envoxy.db.postgres.deadline`: psycopg2 connections whose every round trip has a
  client-side deadline (imports psycopg2: ``envoxy-orm[postgres]``);
- :mod:`envoxy.db.postgres.pooler`: a key behind a transaction pooler (PgBouncer):
  settings per transaction, no startup options;
- :mod:`envoxy.db.postgres.hosts`: several hosts per key and ``target_session_attrs``;
- :mod:`envoxy.db.postgres.budget`: the connections one process may open to a key.

It imports no SQLAlchemy, so ``pgsqlc`` can use it without the ORM.
"""
