"""``python -m envoxy.tools.alembic`` is ``envoxy-alembic``."""

from envoxy.tools.alembic.cli import main

raise SystemExit(main())
