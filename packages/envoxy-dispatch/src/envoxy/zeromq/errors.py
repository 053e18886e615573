"""Deprecated: renamed :mod:`envoxy.zeromq.exceptions`.

Every Envoxy module of exceptions is named ``exceptions.py``.

.. deprecated:: 1.1
   Import from :mod:`envoxy.zeromq.exceptions`; the names here still work and warn once.
"""

from envoxy.utils.deprecation import moved_module

__getattr__ = moved_module(__name__, "envoxy.zeromq.exceptions", since="1.1")
