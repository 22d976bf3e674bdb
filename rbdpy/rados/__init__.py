"""``rbdpy.rados``: the python-rados drop-in, and the package of rbdpy's RADOS client.

The public names (``Rados``, ``Ioctx``, the ``LIBRADOS_*`` constants, the exception classes,
...) live in :mod:`rbdpy.rados.facade`. This package module only re-exports them, and it does
so lazily, on first attribute access: the wire core under :mod:`rbdpy.rados.proto` and the trio
drivers beside it (``client``, ``ioctx``, ``objecter``, ...) are submodules of this package, and
importing one of them must not run the facade's code (nor start importing the thread portal).

``from rbdpy import rados``, ``import rbdpy.rados`` and ``from rbdpy.rados import Rados`` all
give the facade's objects, so every name and ``isinstance`` relation holds either way.
"""

from __future__ import annotations

import importlib
import importlib.util
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rbdpy.rados.facade import *  # noqa: F403

_FACADE = "rbdpy.rados.facade"


def _load_facade() -> Any:
    facade = importlib.import_module(_FACADE)
    # Copy once, so later lookups are plain module attributes and never reach __getattr__.
    globals().update({name: getattr(facade, name) for name in facade.__all__})
    globals()["__all__"] = list(facade.__all__)
    return facade


def __getattr__(name: str) -> Any:
    if name == "__all__":
        _load_facade()
        return globals()["__all__"]
    if name.startswith("__"):
        raise AttributeError(name)
    if importlib.util.find_spec(f"{__name__}.{name}") is not None:
        # ``from rbdpy.rados import exceptions`` inside the drivers asks the package first:
        # a submodule is imported as itself, without loading the facade (which imports
        # the drivers: importing a driver module first would otherwise be circular).
        return importlib.import_module(f"{__name__}.{name}")
    facade = _load_facade()
    try:
        return getattr(facade, name)
    except AttributeError:
        raise AttributeError(f"module 'rbdpy.rados' has no attribute {name!r}") from None


def __dir__() -> list[str]:
    facade = _load_facade()
    return sorted(set(globals()) | set(facade.__all__))
