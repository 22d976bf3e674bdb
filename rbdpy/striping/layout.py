"""The striping layout of an RBD image: stripe unit, stripe count and object size.

Theory of operation: an image is cut into *stripe units*; consecutive units go round-robin
over ``stripe_count`` objects (an *object set*) until each object of the set holds
``object_size`` bytes, then the next object set starts. ``FileLayout`` only holds the three
numbers and checks what the striper needs (``object_size`` a positive multiple of
``stripe_unit``). The librbd creation rules (order in [12, 25], "both or neither" of stripe
unit and count, stripe unit a factor of the object size) and librbd's default-layout rule
(no STRIPINGV2 → one stripe unit per object, one object per set) are separate functions,
because images written by other tools must still be readable.

Mirrors: ceph src/include/fs_types.h (file_layout_t), src/librbd/ImageCtx.cc (init_layout),
src/librbd/image/CreateRequest.cc (validate_order, validate_striping); kernel
include/linux/ceph/ceph_fs.h (ceph_file_layout).
"""

from __future__ import annotations

import errno as _errno
from dataclasses import dataclass

from rbdpy.rados.proto.errors import CephError

# librbd CreateRequest::validate_order accepts object orders 12..25 (4 KiB .. 32 MiB).
RBD_MIN_ORDER = 12
RBD_MAX_ORDER = 25
RBD_DEFAULT_OBJ_ORDER = 22  # src/include/rbd_types.h: 4 MiB objects


class InvalidLayout(CephError, ValueError):
    """A layout librbd would refuse; carries EINVAL (or EDOM for a bad order, as librbd)."""

    def __init__(self, message: str, errno: int = _errno.EINVAL) -> None:
        super().__init__(errno, message)


@dataclass(frozen=True, slots=True)
class FileLayout:
    """The three numbers of ``file_layout_t`` the striper uses.

    :param stripe_unit: bytes written to one object before moving to the next of the set.
    :param stripe_count: objects in one object set.
    :param object_size: bytes per object (``1 << order`` for RBD).
    :raises InvalidLayout: if a value is not positive or ``stripe_unit`` does not divide
        ``object_size`` (Striper asserts ``object_size >= su``; librbd requires a factor).
    """

    stripe_unit: int
    stripe_count: int
    object_size: int

    def __post_init__(self) -> None:
        if self.stripe_unit <= 0 or self.stripe_count <= 0 or self.object_size <= 0:
            raise InvalidLayout(
                f"layout values must be positive: su={self.stripe_unit} "
                f"sc={self.stripe_count} os={self.object_size}")
        if self.object_size % self.stripe_unit:
            raise InvalidLayout(
                f"stripe unit {self.stripe_unit} is not a factor of the object size "
                f"{self.object_size}")

    @property
    def stripes_per_object(self) -> int:
        """Stripe units stored in one object."""
        return self.object_size // self.stripe_unit

    @property
    def period(self) -> int:
        """Bytes covered by one full object set (``file_layout_t::get_period``)."""
        return self.stripe_count * self.object_size

    @property
    def is_default(self) -> bool:
        """True when striping is trivial: the image maps linearly onto its objects."""
        # Striper::file_to_extents treats a count of 1 as su = object_size.
        return self.stripe_count == 1

    @classmethod
    def for_image(cls, order: int, stripe_unit: int = 0, stripe_count: int = 0) -> FileLayout:
        """The layout librbd uses for an image header's values (``ImageCtx::init_layout``).

        A header without STRIPINGV2 reports stripe unit and count 0 (or the trivial pair);
        librbd then uses one stripe unit per object and one object per set.

        :param order: the header's object order (object size ``1 << order``).
        :param stripe_unit: ``get_stripe_unit_count`` stripe unit, 0 when absent.
        :param stripe_count: ``get_stripe_unit_count`` stripe count, 0 when absent.
        """
        if not 0 < order < 64:
            raise InvalidLayout(f"object order {order} out of range", _errno.EDOM)
        object_size = 1 << order
        if stripe_unit == 0 or stripe_count == 0:
            return cls(object_size, 1, object_size)
        return cls(stripe_unit, stripe_count, object_size)


def validate_order(order: int) -> None:
    """Refuse an object order outside [12, 25] with EDOM (``CreateRequest::validate_order``)."""
    if order > RBD_MAX_ORDER or order < RBD_MIN_ORDER:
        raise InvalidLayout(
            f"order must be in the range [{RBD_MIN_ORDER}, {RBD_MAX_ORDER}]", _errno.EDOM)


def validate_striping(order: int, stripe_unit: int, stripe_count: int) -> None:
    """librbd's creation check of stripe unit and count (``validate_striping``), EINVAL.

    Both or neither must be given (0 = not given); a given stripe unit must divide the
    object size. librbd has no minimum stripe unit here; the ``rbd`` CLI's own parsing
    adds none either for values that divide the object size.
    """
    if bool(stripe_unit) != bool(stripe_count):
        raise InvalidLayout("must specify both (or neither) of stripe-unit and stripe-count")
    object_size = 1 << order
    if stripe_unit and (stripe_unit > object_size or object_size % stripe_unit):
        raise InvalidLayout("stripe unit is not a factor of the object size")


def uses_fancy_striping(order: int, stripe_unit: int, stripe_count: int) -> bool:
    """Whether librbd sets STRIPINGV2 and stores stripe unit/count for these values.

    Mirrors CreateRequest: non-default only when the unit differs from the object size or
    the count differs from 1 (0 meaning "not given" in both).
    """
    return (stripe_unit != 0 and stripe_unit != (1 << order)) or (
        stripe_count != 0 and stripe_count != 1)
