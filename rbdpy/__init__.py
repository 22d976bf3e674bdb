"""rbdpy: a pure-Python Ceph RBD client.

Public modules: :mod:`rbdpy.rados`, :mod:`rbdpy.rbd`, :mod:`rbdpy.aio`.
"""

from rbdpy._version import __version__

__all__ = ["__version__"]
