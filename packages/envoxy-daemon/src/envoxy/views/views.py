"""Deprecated 0.7 path of the view base class: use ``from envoxy.views import View``.

.. deprecated:: 1.0
   ``envoxy.views.views.View`` still works and warns once; the class is
   :class:`envoxy.views.base.View`.
"""

from envoxy.utils.deprecation import deprecated_aliases

__getattr__ = deprecated_aliases(__name__, {"View": ("envoxy.views.base", "View")})
