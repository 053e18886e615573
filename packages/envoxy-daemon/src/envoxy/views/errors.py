"""Deprecated: renamed :mod:`envoxy.views.error_responses` (it holds the error *answers*;
``exceptions.py`` modules hold exceptions).

.. deprecated:: 1.1
   Import from :mod:`envoxy.views.error_responses`; the names here still work and warn once.
"""

from envoxy.utils.deprecation import moved_module

__getattr__ = moved_module(__name__, "envoxy.views.error_responses", since="1.1")
