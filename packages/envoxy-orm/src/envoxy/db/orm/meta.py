"""Deprecated 0.7 module of the model metaclass: use ``envoxy.db.orm.EnvoxyMeta``.

.. deprecated:: 1.0
   ``envoxy.db.orm.meta.EnvoxyMeta`` still works and warns once; the class is
   :class:`envoxy.db.orm.base.EnvoxyMeta`.
"""

from envoxy.utils.deprecation import deprecated_aliases

__getattr__ = deprecated_aliases(__name__, {"EnvoxyMeta": ("envoxy.db.orm.base", "EnvoxyMeta")})
