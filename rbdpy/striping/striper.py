"""Map image byte ranges to RADOS object extents and back.

Theory of operation: with stripe unit ``su``, stripe count ``sc`` and object size ``os``,
image offset ``off`` lies in block ``off // su``; blocks go round-robin over the ``sc``
objects of an object set (``stripepos = block % sc``), each object of a set holding
``os // su`` blocks, one per stripe (``stripeno = block // sc``). So the object is
``(stripeno // (os // su)) * sc + stripepos`` and the offset inside it
``(stripeno % (os // su)) * su + off % su``. ``file_to_extents`` walks a request one stripe
unit at a time, and gives ONE ``ObjectExtent`` per object and contiguous object range, with
``buffer_extents`` saying which parts of the caller's buffer it carries (in buffer order);
the result is sorted by object number, as Ceph's ``LightweightObjectExtents``. A layout with
a stripe count of 1 maps linearly, and Ceph then treats the whole object as one stripe unit
(so each object gets a single buffer extent); we do the same so our extents equal Ceph's.
``extent_to_file`` is the inverse, one file extent per stripe unit piece.

Mirrors: ceph src/osdc/Striper.cc (file_to_extents, extent_to_file, get_num_objects,
get_file_offset); kernel net/ceph/striper.c (ceph_calc_file_object_mapping,
ceph_file_to_extents, ceph_extent_to_file).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from rbdpy.striping.layout import FileLayout

log = logging.getLogger(__name__)


@dataclass(slots=True)
class ObjectExtent:
    """One contiguous range of one object, and where its bytes sit in the caller's buffer.

    ``buffer_extents`` are ``(buffer_offset, length)`` pairs whose lengths sum to
    ``length``; object bytes ``[offset, offset + length)`` are those pieces, in order.
    """

    objectno: int
    offset: int
    length: int
    buffer_extents: list[tuple[int, int]] = field(default_factory=list)


def _check_range(offset: int, length: int) -> None:
    if offset < 0 or length < 0:
        raise ValueError(f"negative extent {offset}~{length}")


def file_to_extents(layout: FileLayout, offset: int, length: int,
                    buffer_offset: int = 0) -> list[ObjectExtent]:
    """Split image range ``offset~length`` into per-object extents (Striper::file_to_extents).

    :param layout: the image's striping.
    :param offset: image byte offset.
    :param length: bytes; 0 gives an empty list (Ceph asserts ``len > 0``).
    :param buffer_offset: added to every buffer offset (for requests made of several image
        extents sharing one buffer, as librbd's ImageRequest does).
    :returns: extents sorted by object number; contiguous pieces of one object merged.
    """
    _check_range(offset, length)
    object_size = layout.object_size
    stripe_count = layout.stripe_count
    # Striper: "sc is one, reset su to os" -- the mapping is linear either way, but this
    # decides how many buffer extents an object gets, which callers may compare.
    su = object_size if stripe_count == 1 else layout.stripe_unit
    stripes_per_object = object_size // su

    block_off = offset % su
    if 0 < length <= su - block_off:
        # The whole range sits in one stripe unit (every small I/O): one extent.
        stripeno, stripepos = divmod(offset // su, stripe_count)
        objectsetno, stripe_in_object = divmod(stripeno, stripes_per_object)
        return [ObjectExtent(objectsetno * stripe_count + stripepos,
                             stripe_in_object * su + block_off, length,
                             [(buffer_offset, length)])]

    by_object: dict[int, list[ObjectExtent]] = {}
    cur = offset
    left = length
    while left > 0:
        blockno, block_off = divmod(cur, su)
        stripeno, stripepos = divmod(blockno, stripe_count)
        objectsetno, stripe_in_object = divmod(stripeno, stripes_per_object)
        objectno = objectsetno * stripe_count + stripepos
        x_offset = stripe_in_object * su + block_off
        x_len = min(left, su - block_off)

        extents = by_object.get(objectno)
        if extents is None:
            extents = by_object[objectno] = []
        last = extents[-1] if extents else None
        if last is not None and last.offset + last.length == x_offset:
            last.length += x_len
        else:
            # Ceph inserts after the object's existing extents (upper_bound by object
            # number); a single request never produces two for one object, but keep it.
            last = ObjectExtent(objectno, x_offset, x_len)
            extents.append(last)
        last.buffer_extents.append((cur - offset + buffer_offset, x_len))
        left -= x_len
        cur += x_len

    result = [ex for objno in sorted(by_object) for ex in by_object[objno]]
    log.debug("file_to_extents %d~%d -> %d object extents", offset, length, len(result))
    return result


def extent_to_file(layout: FileLayout, objectno: int, offset: int,
                   length: int) -> list[tuple[int, int]]:
    """Map object range ``objectno:offset~length`` back to image extents (Striper::extent_to_file).

    :returns: ``(image_offset, length)`` pairs, one per stripe-unit piece, in object order.
    """
    _check_range(offset, length)
    su = layout.stripe_unit
    stripe_count = layout.stripe_count
    stripes_per_object = layout.stripes_per_object
    objectsetno, stripepos = divmod(objectno, stripe_count)
    off_in_block = offset % su
    extents: list[tuple[int, int]] = []
    while length > 0:
        stripeno = offset // su + objectsetno * stripes_per_object
        blockno = stripeno * stripe_count + stripepos
        extent_len = min(length, su - off_in_block)
        extents.append((blockno * su + off_in_block, extent_len))
        off_in_block = 0
        offset += extent_len
        length -= extent_len
    return extents


def get_file_offset(layout: FileLayout, objectno: int, offset: int) -> int:
    """The image offset of byte ``offset`` of object ``objectno`` (Striper::get_file_offset)."""
    su = layout.stripe_unit
    objectsetno, stripepos = divmod(objectno, layout.stripe_count)
    stripeno = offset // su + objectsetno * layout.stripes_per_object
    return (stripeno * layout.stripe_count + stripepos) * su + offset % su


def get_num_objects(layout: FileLayout, size: int) -> int:
    """How many objects an image of ``size`` bytes spans (Striper::get_num_objects).

    Whole object sets count ``stripe_count`` objects each; in the last, partial set only
    the objects reached by the first stripe count. This is the object-map length.
    """
    if size < 0:
        raise ValueError(f"negative size {size}")
    su = layout.stripe_unit
    sc = layout.stripe_count
    period = layout.period
    num_periods = -(-size // period)
    remainder = size % period
    missing = 0
    if 0 < remainder < sc * su:
        missing = sc - (-(-remainder // su))
    return num_periods * sc - missing
