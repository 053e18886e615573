"""Deprecated: renamed :mod:`envoxy.tools.alembic.exceptions`.

Every Envoxy module of exceptions is named ``exceptions.py``.

.. deprecated:: 1.1
   Import from :mod:`envoxy.tools.alembic.exceptions`; the names here still work and warn once.
"""

from envoxy.utils.deprecation import moved_module

__getattr__ = moved_module(__name__, "envoxy.tools.alembic.exceptions", since="1.1")
