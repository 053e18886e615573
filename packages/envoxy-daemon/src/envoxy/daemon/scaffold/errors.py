"""Deprecated: renamed :mod:`envoxy.daemon.scaffold.exceptions`.

Every Envoxy module of exceptions is named ``exceptions.py``.

.. deprecated:: 1.1
   Import from :mod:`envoxy.daemon.scaffold.exceptions`; the names here still work and warn once.
"""

from envoxy.utils.deprecation import moved_module

__getattr__ = moved_module(__name__, "envoxy.daemon.scaffold.exceptions", since="1.1")
