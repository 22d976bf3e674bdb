"""Internal package.

``rbdpy.rados`` is imported first on purpose: its package initialisation pulls in
``rbdpy.format`` (the ioctx lock helpers), and ``rbdpy.format.cls`` in turn needs
``rbdpy.rados.proto``; importing a librbd module (which starts with ``rbdpy.format``)
before ``rbdpy.rados`` would otherwise enter that cycle from the wrong end.
"""

import rbdpy.rados  # noqa: F401  (import order, see above)
