"""ImageCtx: the state of one open RBD image, and its open/refresh/close.

Format 2 images are read through cls_rbd; a format 1 image (no ``rbd_id.<name>``, a
``<name>.rbd`` header instead) is read through rbdpy.librbd.format1 (``old_format``).

Theory of operation: every librbd subsystem (I/O, snapshots, diff, maintenance, config,
metadata, advisory locks, and later layering, trash, groups, migration, mirroring, crypto)
works on an :class:`ImageCtx`. It holds what the header says (size, order, features,
flags, object prefix, striping, data pool, snap context, create time), where the image is
read from (HEAD or a snapshot), the object map while we own the exclusive lock, the
:class:`~rbdpy.librbd.exclusive_lock.ExclusiveLock`, the header watch, and the accounting
that lets maintenance ops and lock hand-overs wait for in-flight I/O. The public face
(rbdpy.librbd.image.AsyncImage) only delegates to the subsystems.

Opening resolves the name to an id (``rbd_id.<name>``, or the directory when opened by id),
then reads the header ``rbd_header.<id>`` in ONE compound op of cls_rbd getters, as
librbd's RefreshRequest batches its metadata reads (plus stripe unit/count when the image
has STRIPINGV2). A read-write open registers a watch on the header, as librbd's
ImageWatcher does: the watch handle names our exclusive-lock cookie, other clients see us
among the watchers (so ``rbd rm`` refuses while we have the image open), and their
notifications reach us. A HEADER_UPDATE from a peer makes us refresh before our next
operation; lock requests and announcements go to the exclusive lock.

Writes run through :meth:`ImageCtx.writing`: they wait while a maintenance op holds the
write gate, take the exclusive lock, and count themselves in flight. Maintenance ops run
through :meth:`ImageCtx.exclusive_op`: one at a time (``maintenance_mutex``), with new
writes held at the gate and in-flight ones drained, as the lock owner. The lock order is
written down in rbdpy.librbd.exclusive_lock.

Snapshot records are read on demand in one compound op of cls ``snapshot_get`` calls and
cached until the next refresh (librbd's ``snap_info``); :meth:`ImageCtx.lookup_snap` finds a
user-namespace snapshot by name as ``ImageCtx::get_snap_id`` does.

Mirrors: ceph src/librbd/ImageCtx.h/.cc, image/OpenRequest.cc, RefreshRequest.cc,
CloseRequest.cc, ImageWatcher.cc (handle_notify, handle_error); kernel drivers/block/rbd.c
(struct rbd_device, rbd_dev_refresh).
"""

from __future__ import annotations

import errno
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

import trio

from rbdpy.format import cls_rbd
from rbdpy.format.constants import (
    RBD_DIRECTORY,
    RBD_FEATURE_MIGRATING,
    RBD_FEATURE_OBJECT_MAP,
    RBD_FEATURE_STRIPINGV2,
    RBD_FLAG_OBJECT_MAP_INVALID,
    header_name,
    id_obj_name,
    object_map_name,
)
from rbdpy.format.object_map import BitVector
from rbdpy.format.types import (
    MigrationHeaderType,
    MigrationSpec,
    ParentImageSpec,
    SnapshotInfo,
    UserSnapshotNamespace,
)
from rbdpy.format.v1_header import HeaderV1, header_object_name
from rbdpy.format.watch_notify import NOT_PROXIED, NotifyOp, decode_notify_op, encode_response
from rbdpy.librbd import exceptions as rbdx
from rbdpy.librbd import format1
from rbdpy.librbd.exclusive_lock import ExclusiveLock, notify_header
from rbdpy.librbd.migration_stream import RawFileStream, parse_source_spec
from rbdpy.librbd.object_io import WatchHandle, exec_ops
from rbdpy.librbd.object_map import ObjectMap
from rbdpy.rados import exceptions as rados_errors
from rbdpy.rados.proto.bytestr import to_bytes, to_str
from rbdpy.rados.proto.constants import CEPH_NOSNAP
from rbdpy.rados.proto.errors import CephError
from rbdpy.rados.proto.types import SnapContext
from rbdpy.striping.layout import FileLayout
from rbdpy.striping.striper import get_num_objects

if TYPE_CHECKING:
    from rbdpy.rados.ioctx import AsyncIoctx

log = logging.getLogger(__name__)

# RBD_FEATURES_ALL as librbd 16.2 knows it, less journaling (0x40), which rbdpy does not
# implement: an image that requires a feature outside this set is refused at open.
SUPPORTED_FEATURES = 0x0FFF & ~0x40

# snapshot_get calls per compound op when reading the snapshot table (keeps one op small).
_SNAP_GET_BATCH = 64
# Re-reads of the snapshot table when snapshots vanish between the two reads it takes.
_SNAP_TABLE_ATTEMPTS = 5


class ImageCtx:
    """One open image: header state, snapshot table, exclusive lock, watch, I/O gates.

    Build with :meth:`open` (or construct, then ``await ctx.open_image()``).
    """

    def __init__(self, ioctx: AsyncIoctx, name: str | bytes | None = None,
                 snapshot: str | bytes | None = None, read_only: bool = False,
                 image_id: str | bytes | None = None, *,
                 snap_id: int | None = None) -> None:
        if name is None and image_id is None:
            raise rbdx.InvalidArgument("image name or image id was not specified")
        if name is not None and image_id is not None:
            raise rbdx.InvalidArgument("only need to specify image name or image id")
        for what, value in (("name", name), ("snapshot", snapshot), ("image_id", image_id)):
            if value is not None and not isinstance(value, (str, bytes)):
                raise rbdx.InvalidArgument(f"{what} must be a string")
        self.ioctx = ioctx
        self.name = to_str(name) if name is not None else ""
        # what the caller named the image by, as python-rbd's messages show it
        self.name_arg = to_bytes(name if name is not None else image_id or "")
        self.image_id = to_str(image_id) if image_id is not None else ""
        self.snap_name = to_str(snapshot) if snapshot is not None else None
        self.snap_id = CEPH_NOSNAP
        # a parent is opened at its snapshot by id (the child's parent spec names no name)
        self._open_snap_id = snap_id
        # False once a refresh finds the snapshot we read from removed (librbd's
        # snap_exists): reads then fail with ENOENT, even if a snapshot of the same name
        # was created again (it has another id).
        self.snap_exists = True
        # Opening at a snapshot is not a read-only open (python-rbd uses rbd_open): I/O
        # writes fail with EROFS while a snapshot is set, snapshot maintenance works.
        self.read_only = bool(read_only)
        self.header_oid = ""
        # A format 1 (legacy) image: found by its ``<name>.rbd`` header (rbdpy.librbd.format1);
        # no id, no features, data objects named ``<block name>.%012x``.
        self.old_format = False
        # the size at the snapshot being read (HEAD's when none is set), and HEAD's
        self.size = 0
        self.head_size = 0
        self.order = 22
        self.features = 0
        self.incompatible_features = 0
        self.flags = 0
        self.op_features = 0
        self.object_prefix = ""
        self.stripe_unit = 0
        self.stripe_count = 0
        self.layout = FileLayout(1 << 22, 1, 1 << 22)
        self.data_pool_id = -1
        self.data_ioctx: AsyncIoctx = ioctx
        self.snapc = SnapContext()
        self.create_timestamp = (0, 0)
        # The clone's parent (cls ``parent_get``; ``exists()`` is False for a plain image)
        # and how many bytes of the image still map onto it: at HEAD, and at the read
        # point (HEAD or the snapshot set). None: no parent there (a flattened HEAD can
        # keep snapshots that still read from the parent).
        self.parent_spec = ParentImageSpec()
        self.head_parent_overlap: int | None = None
        self.parent_overlap: int | None = None
        # The parent's context (read-only, at parent_spec.snap_id), opened on first need
        # and kept until close; one whose spec a refresh no longer names is retired, not
        # closed, since reads started before the refresh may still use it.
        self.parent: ImageCtx | None = None
        self._parent_open_lock = trio.Lock()
        self._retired_parents: list[ImageCtx] = []
        # Live migration (librbd's migration_info): the header's migration spec while the
        # MIGRATING feature is set. A destination reads its source like a parent (the
        # source becomes parent_spec, the migration overlap the parent overlap, at the
        # source snapshot snap_seqs maps the read point to); a source opens read-only.
        # rbdpy.librbd.migration sets ignore_migrating (OPEN_FLAG_IGNORE_MIGRATING) to
        # see either header as a plain image.
        self.migration_spec: MigrationSpec | None = None
        self.ignore_migrating = False
        # An import-only destination's source (a raw file): io.py reads it where it would
        # read a parent; parent_spec stays empty.
        self.migration_stream: RawFileStream | None = None
        # object number -> set when the copy-up of that object in flight finishes
        self.copyups_in_flight: dict[int, trio.Event] = {}
        self.closed = True
        self.watch: WatchHandle | None = None
        self.watch_lost = False
        # The cluster blocklisted this client (our header watch failed with EBLOCKLISTED,
        # i.e. ESHUTDOWN): as librbd, every I/O and every change fails with ESHUTDOWN from
        # then on; cached header facts (size, snapshots) can still be read.
        self.blocklisted = False
        self.object_map: ObjectMap | None = None
        # At a snapshot: that snapshot's object map, read once per refresh (librbd's
        # SetSnapRequest loads it), so reads skip objects the snapshot never had -- for a
        # clone or a parent, straight to the parent. None when absent or flagged invalid.
        self.snap_object_map: BitVector | None = None
        self.exclusive_lock = ExclusiveLock(self)
        self.needs_refresh = False
        # snapshot records by id, read on demand and dropped by every refresh
        self.snap_table: dict[int, SnapshotInfo] | None = None
        # in-flight I/O, drained before the lock is handed over or a maintenance op runs
        self._io_in_flight = 0
        self._io_idle = trio.Event()
        self._io_idle.set()
        # maintenance ops run one at a time; while one runs, new writes wait at the gate
        self.maintenance_mutex = trio.Lock()
        self._write_gate: trio.Event | None = None

    # -- open / refresh / close ------------------------------------------------------------

    @classmethod
    async def open(cls, ioctx: AsyncIoctx, name: str | bytes | None = None,
                   snapshot: str | bytes | None = None, read_only: bool = False,
                   image_id: str | bytes | None = None) -> ImageCtx:
        ctx = cls(ioctx, name, snapshot, read_only, image_id)
        await ctx.open_image()
        return ctx

    async def open_image(self) -> None:
        """OpenRequest: name ↔ id, header, data pool, snapshot, watch."""
        io = self.ioctx
        if not self.image_id:
            try:
                (self.image_id,) = await exec_ops(io, id_obj_name(self.name),
                                                  [cls_rbd.get_id()])
            except CephError as e:
                # OpenRequest: no format 2 id object, so try the format 1 header
                if e.errno != errno.ENOENT or not await format1.exists(io, self.name):
                    raise
                self.old_format = True
        else:
            try:
                (self.name,) = await exec_ops(io, RBD_DIRECTORY,
                                              [cls_rbd.dir_get_name(self.image_id)])
            except CephError as e:
                # An image in the trash has no directory entry; librbd then opens it
                # nameless if the header exists.
                if e.errno != errno.ENOENT:
                    raise
        self.header_oid = header_object_name(self.name) if self.old_format \
            else header_name(self.image_id)
        await self.refresh()
        if self.data_pool_id >= 0 and self.data_pool_id != io.pool_id:
            self.data_ioctx = await io.rados.open_ioctx2(self.data_pool_id)
            self.data_ioctx.set_namespace(io.get_namespace())
        if self._open_snap_id is not None:
            self.snap_id = self._open_snap_id
            await self.refresh()
            if not self.snap_exists:
                raise CephError(errno.ENOENT, f"snapshot {self.snap_id:#x} not found")
        elif self.snap_name is not None:
            info = await self.lookup_snap(self.snap_name)
            if info is None:
                raise CephError(errno.ENOENT, f"snapshot {self.snap_name!r} not found")
            self.snap_id = info.id
            await self.refresh()
        unsupported = self.incompatible_features & ~SUPPORTED_FEATURES
        if unsupported:
            raise CephError(errno.ENOSYS, f"image uses unsupported features {unsupported:#x}")
        if not self.read_only:
            self.watch = await io.watch(self.header_oid, self._handle_notify,
                                        self._handle_watch_error)
        self.closed = False
        log.debug("opened image %r id %s size %d features %#x", self.name, self.image_id,
                  self.size, self.features)

    async def refresh(self) -> None:
        """RefreshRequest: re-read the header in one compound op."""
        if self.old_format:
            self._apply_v1_header(await format1.read_header(self.ioctx, self.name))
            return
        calls: list[Any] = [
            cls_rbd.get_size(CEPH_NOSNAP),
            cls_rbd.get_features(CEPH_NOSNAP, self.read_only),
            cls_rbd.get_object_prefix(),
            cls_rbd.get_flags(CEPH_NOSNAP),
            cls_rbd.get_snapcontext(),
            cls_rbd.op_features_get(),
            cls_rbd.get_data_pool(),
            cls_rbd.get_create_timestamp(),
            cls_rbd.parent_get(),
            cls_rbd.parent_overlap_get(CEPH_NOSNAP),
        ]
        res = await exec_ops(self.ioctx, self.header_oid, calls)
        size, feats, self.object_prefix, self.flags, self.snapc, self.op_features, \
            self.data_pool_id, self.create_timestamp, self.parent_spec, \
            self.head_parent_overlap = res
        if not self.parent_spec.exists():
            self.head_parent_overlap = None
        self.parent_overlap = self.head_parent_overlap
        self.size, self.order = size.size, size.order
        self.head_size = size.size
        self.snap_table = None
        self.features, self.incompatible_features = feats.features, feats.incompatible
        if self.features & RBD_FEATURE_STRIPINGV2:
            (suc,) = await exec_ops(self.ioctx, self.header_oid,
                                    [cls_rbd.get_stripe_unit_count()])
            self.stripe_unit, self.stripe_count = suc.stripe_unit, suc.stripe_count
        else:
            self.stripe_unit, self.stripe_count = 1 << self.order, 1
        self.layout = FileLayout.for_image(self.order, self.stripe_unit, self.stripe_count)
        self.needs_refresh = False
        if self.snap_id != CEPH_NOSNAP:
            try:
                snap_size, snap_overlap = await exec_ops(
                    self.ioctx, self.header_oid,
                    [cls_rbd.get_size(self.snap_id), cls_rbd.parent_overlap_get(self.snap_id)])
                self.size = snap_size.size
                self.parent_overlap = snap_overlap if self.parent_spec.exists() else None
                self.snap_exists = True
                self.snap_object_map = await self._load_snap_object_map()
            except CephError as e:
                # The snapshot we read from was removed by someone: librbd then reports
                # size 0 and fails reads with ENOENT.
                if e.errno != errno.ENOENT:
                    raise
                self.size = 0
                self.parent_overlap = None
                self.snap_exists = False
                self.snap_object_map = None
        else:
            self.snap_exists = True
            self.snap_object_map = None
        self.migration_spec = None
        self.migration_stream = None
        if self.features & RBD_FEATURE_MIGRATING and not self.ignore_migrating:
            await self._refresh_migration()

    async def _load_snap_object_map(self) -> BitVector | None:
        """The object map of the snapshot being read, if it can be trusted: the feature
        is on, the snapshot's flags do not mark it invalid, and it has one entry per
        object. Snapshot maps only ever learn that an object exists with the data the
        parent gave it (a copy-up), so a map read once stays safe to skip holes with."""
        if not self.features & RBD_FEATURE_OBJECT_MAP:
            return None
        try:
            (flags,) = await exec_ops(self.ioctx, self.header_oid,
                                      [cls_rbd.get_flags(self.snap_id)])
            if flags & RBD_FLAG_OBJECT_MAP_INVALID:
                return None
            (bits,) = await exec_ops(self.ioctx, object_map_name(self.image_id, self.snap_id),
                                     [cls_rbd.object_map_load()])
        except CephError as e:
            log.debug("image %s: no object map at snapshot %#x: %s", self.name, self.snap_id,
                      e)
            return None
        if not isinstance(bits, BitVector) or len(bits) != self.num_objects():
            return None
        return bits

    def _apply_v1_header(self, hdr: HeaderV1) -> None:
        """RefreshRequest's v1 path: everything comes from the header object; a format 1
        image has no features, flags, parent, data pool, striping or timestamps."""
        self.order, self.head_size, self.object_prefix = hdr.order, hdr.size, hdr.block_name
        self.features = self.incompatible_features = self.flags = self.op_features = 0
        self.data_pool_id = -1
        self.create_timestamp = (0, 0)
        self.parent_spec = ParentImageSpec()
        self.head_parent_overlap = self.parent_overlap = None
        self.snapc = SnapContext(hdr.snap_seq, tuple(s.id for s in hdr.snapshots))
        self.snap_table = {s.id: SnapshotInfo(id=s.id, name=s.name, image_size=s.size)
                           for s in sorted(hdr.snapshots, key=lambda s: s.id)}
        self.stripe_unit, self.stripe_count = 1 << self.order, 1
        self.layout = FileLayout.for_image(self.order, self.stripe_unit, self.stripe_count)
        self.needs_refresh = False
        self.migration_spec = None
        self.migration_stream = None
        if self.snap_id == CEPH_NOSNAP:
            self.size, self.snap_exists = self.head_size, True
        elif self.snap_id in self.snap_table:
            self.size, self.snap_exists = self.snap_table[self.snap_id].image_size, True
        else:
            self.size, self.snap_exists = 0, False

    async def _refresh_migration(self) -> None:
        """RefreshRequest's migration header step: a source refuses writers (EROFS); a
        destination's source stands in for the parent (MIGRATION_HEADER_TYPE_DST).

        What rbdpy cannot read right raises ENOSYS rather than return wrong data: an
        import-only source other than a raw file, a destination that is also a clone, and
        a destination snapshot the source has no counterpart of."""
        (spec,) = await exec_ops(self.ioctx, self.header_oid, [cls_rbd.migration_get()])
        self.migration_spec = spec
        if spec.header_type == MigrationHeaderType.SRC:
            if not self.read_only:
                raise CephError(errno.EROFS, "image being migrated")
            return
        if spec.header_type != MigrationHeaderType.DST:
            raise CephError(errno.EINVAL, f"unexpected migration header {spec.header_type}")
        if self.parent_spec.exists():
            raise CephError(errno.ENOSYS, "rbdpy cannot migrate clones")
        if spec.source_spec:
            # import-only (ENOSYS for a source rbdpy cannot read, snapshots included)
            if spec.snap_seqs or self.snap_id != CEPH_NOSNAP:
                raise CephError(errno.ENOSYS, "rbdpy cannot import snapshots")
            self.migration_stream = RawFileStream.from_spec(parse_source_spec(spec.source_spec))
            self.head_parent_overlap = spec.overlap
            self.parent_overlap = min(spec.overlap, self.size)
            return
        src_snap_id = CEPH_NOSNAP
        if self.snap_id != CEPH_NOSNAP:
            by_dst = {dst: src for src, dst in spec.snap_seqs.items()}
            if self.snap_id not in by_dst:
                raise CephError(errno.ENOSYS, "snapshot has no migration source snapshot")
            src_snap_id = by_dst[self.snap_id]
        self.parent_spec = ParentImageSpec(spec.pool_id, spec.pool_namespace, spec.image_id,
                                           src_snap_id)
        self.head_parent_overlap = spec.overlap
        self.parent_overlap = min(spec.overlap, self.size) if self.snap_exists else None

    def migration_blocks_writes(self) -> bool:
        """A migration destination with snapshots needs librbd's deep-copy copy-up (each
        snapshot gets the source's data at the matching source snapshot); rbdpy's copy-up
        only brings HEAD's, so writes there are refused (ENOSYS)."""
        spec = self.migration_spec
        return spec is not None and spec.header_type == MigrationHeaderType.DST \
            and bool(spec.snap_seqs or self.snapc.snaps)

    async def maybe_refresh(self) -> None:
        """Refresh if a peer announced a header change since we last read it."""
        if self.needs_refresh:
            await self.refresh()

    async def close(self) -> None:
        """CloseRequest: drain I/O, release the exclusive lock, remove the watch."""
        if self.closed:
            return
        self.closed = True
        await self._io_idle.wait()
        await self.exclusive_lock.drop()
        if self.watch is not None:
            watch, self.watch = self.watch, None
            try:
                await watch.close()
            except Exception as e:  # a watch already gone must not fail close
                log.debug("close %s: unwatch failed: %s", self.name, e)
        if self.data_ioctx is not self.ioctx:
            self.data_ioctx.close()
        parents = [*self._retired_parents, *([self.parent] if self.parent else [])]
        self.parent, self._retired_parents = None, []
        for parent in parents:
            await parent.close_parent_image()

    async def close_parent_image(self) -> None:
        """Close a parent context this image opened, with the pool context it opened."""
        await self.close()
        self.ioctx.close()

    # -- the parent chain -------------------------------------------------------------------

    def has_parent(self) -> bool:
        """True when some of the image at the read point still maps onto a parent."""
        return self.parent_overlap is not None and self.parent_overlap > 0

    async def get_parent(self) -> ImageCtx | None:
        """The parent's context at the read point, opened (read-only, at the parent
        snapshot) on first use; None when nothing at the read point maps onto a parent.

        The parent opens its own parent the same way when a read reaches it, so a chain of
        any depth is walked lazily (librbd's RefreshParentRequest opens the chain eagerly).
        """
        if self.parent_overlap is None or self.migration_stream is not None:
            return None  # no parent, or an import-only migration's stream stands in
        current = self.parent
        if current is not None and self._is_parent(current):
            return current  # every clone read after the first: no lock, no I/O
        async with self._parent_open_lock:
            spec = self.parent_spec
            current = self.parent
            if current is not None and self._is_parent(current):
                return current
            parent_ioctx = await self.ioctx.rados.open_ioctx2(spec.pool_id)
            try:
                parent_ioctx.set_namespace(spec.pool_namespace)
                parent = ImageCtx(parent_ioctx, image_id=spec.image_id, read_only=True,
                                  snap_id=spec.snap_id)
                await parent.open_image()
            except BaseException:
                parent_ioctx.close()
                raise
            if current is not None:
                self._retired_parents.append(current)
            self.parent = parent
            log.debug("image %s: opened parent %s@%#x in pool %d", self.name, parent.name,
                      spec.snap_id, spec.pool_id)
            return parent

    def _is_parent(self, ctx: ImageCtx) -> bool:
        """Whether ``ctx`` is the image and snapshot the parent spec names now."""
        spec = self.parent_spec
        return ctx.image_id == spec.image_id and ctx.snap_id == spec.snap_id \
            and ctx.ioctx.pool_id == spec.pool_id \
            and ctx.ioctx.get_namespace() == spec.pool_namespace

    async def parent_overlap_at(self, snap_id: int) -> int | None:
        """The parent overlap at HEAD (CEPH_NOSNAP) or at a snapshot; None: no parent."""
        await self.maybe_refresh()
        if not self.parent_spec.exists():
            return None
        if snap_id == CEPH_NOSNAP:
            return self.head_parent_overlap
        (overlap,) = await exec_ops(self.ioctx, self.header_oid,
                                    [cls_rbd.parent_overlap_get(snap_id)])
        return int(overlap) if overlap is not None else None

    # -- checks ------------------------------------------------------------------------------

    def require_not_closed(self) -> None:
        if self.closed:
            raise rbdx.InvalidArgument("image is closed")

    def require_not_blocklisted(self) -> None:
        if self.blocklisted:
            raise CephError(errno.ESHUTDOWN, "this client is blocklisted")

    def require_writable(self) -> None:
        """I/O writes and HEAD changes: refused on a read-only open or at a snapshot."""
        self.require_not_read_only()
        if self.snap_id != CEPH_NOSNAP:
            raise CephError(errno.EROFS, "a snapshot is set: image is read-only")
        if self.migration_blocks_writes():
            raise CephError(errno.ENOSYS, "rbdpy cannot write a migrating image with "
                            "snapshots")

    def require_not_read_only(self) -> None:
        """Snapshot maintenance: librbd checks only the open mode (``ictx->read_only``)."""
        if self.read_only:
            raise CephError(errno.EROFS, "image is read-only")

    @property
    def name_bytes(self) -> bytes:
        """The image name as python-rbd's messages print it (bytes)."""
        return to_bytes(self.name)

    def num_objects(self, size: int | None = None) -> int:
        """Data objects an image of ``size`` bytes (default: the current size) spans."""
        return get_num_objects(self.layout, self.size if size is None else size)

    # -- the snapshot table ----------------------------------------------------------------

    async def snap_infos(self) -> dict[int, SnapshotInfo]:
        """Every snapshot by id, ascending (librbd's ``snap_info`` order).

        Read once per header refresh: the snap context's ids, then one compound op of
        ``snapshot_get`` per batch. A snapshot removed between the two reads (ENOENT)
        makes us refresh and read again.
        """
        await self.maybe_refresh()
        if self.snap_table is None and self.old_format:
            await self.refresh()  # the v1 header holds the table
        if self.snap_table is not None:
            return self.snap_table
        for _attempt in range(_SNAP_TABLE_ATTEMPTS):
            ids = sorted(self.snapc.snaps)
            infos: dict[int, SnapshotInfo] = {}
            try:
                for i in range(0, len(ids), _SNAP_GET_BATCH):
                    batch = ids[i:i + _SNAP_GET_BATCH]
                    res = await exec_ops(self.ioctx, self.header_oid,
                                         [cls_rbd.snapshot_get(s) for s in batch])
                    for snap_id, info in zip(batch, res, strict=True):
                        infos[snap_id] = info
            except CephError as e:
                if e.errno != errno.ENOENT:
                    raise
                await self.refresh()
                continue
            self.snap_table = infos
            return infos
        raise CephError(errno.ESTALE, "snapshot table keeps changing under us")

    async def lookup_snap(self, name: str) -> SnapshotInfo | None:
        """The user-namespace snapshot called ``name`` (``ImageCtx::get_snap_id``)."""
        for info in (await self.snap_infos()).values():
            if isinstance(info.snapshot_namespace, UserSnapshotNamespace) \
                    and info.name == name:
                return info
        return None

    # -- the header watch --------------------------------------------------------------------

    def _handle_notify(self, notify_id: int, notifier_id: int, watch_id: int,
                       data: bytes) -> bytes | None:
        op = decode_notify_op(data)
        log.debug("image %s: notify op %s from %d", self.name, op, notifier_id)
        if op == NotifyOp.HEADER_UPDATE:
            self.needs_refresh = True
        elif op == NotifyOp.RELEASED_LOCK:
            self.exclusive_lock.on_peer_released()
        elif op == NotifyOp.REQUEST_LOCK:
            return self.exclusive_lock.on_request_lock()
        elif op is not None and op > NotifyOp.HEADER_UPDATE and op not in NOT_PROXIED:
            # A maintenance op (snap create, resize, ...) proxied to the lock owner. We do
            # not run peers' ops: as owner we answer EOPNOTSUPP, which makes librbd fall
            # back to requesting the lock and running the op itself (what librbd's own
            # ImageWatcher answers for an op it does not know). Non-owners ack empty.
            if self.exclusive_lock.is_owner:
                return encode_response(-errno.EOPNOTSUPP)
        return None

    def _handle_watch_error(self, watch_id: int, err: int) -> None:
        # librbd re-registers the watch and re-takes the lock; we drop ownership now and
        # the next write re-acquires under a new watch.
        log.debug("image %s: header watch error %d", self.name, err)
        self.exclusive_lock.on_watch_lost()
        self.watch_lost = True
        if err == -errno.ESHUTDOWN:  # EBLOCKLISTED
            log.info("image %s: this client was blocklisted; image I/O now fails",
                     self.name)
            self.blocklisted = True

    async def notify_header(self, op: int) -> None:
        """Announce ``op`` (usually HEADER_UPDATE) to the image's other clients."""
        await notify_header(self.ioctx, self.header_oid, op, self.watch_handle() or 0,
                            self.name)

    # -- what the exclusive lock needs from us (exclusive_lock.LockHost) -------------------

    def watch_handle(self) -> int | None:
        return self.watch.id if self.watch is not None else None

    async def ensure_watch(self) -> None:
        """Register a new header watch after losing ours: the lock cookie names the watch,
        so without a live one we cannot own the lock (ImageWatcher's re-register)."""
        if not self.watch_lost:
            return
        old, self.watch = self.watch, None
        if old is not None:
            try:
                await old.close()
            except Exception as e:  # the old registration is gone anyway
                log.debug("image %s: closing lost watch: %s", self.name, e)
        self.object_map = None
        self.require_not_blocklisted()
        try:
            self.watch = await self.ioctx.watch(self.header_oid, self._handle_notify,
                                                self._handle_watch_error)
        except rados_errors.Error as e:
            # the rados layer speaks python-rados; librbd's callers want the errno back
            raise CephError(e.errno or errno.EIO, str(e)) from e
        self.watch_lost = False
        self.needs_refresh = True

    async def after_acquire(self) -> None:
        """PostAcquireRequest: re-read the header, lock and load the object map."""
        await self.refresh()
        if self.features & RBD_FEATURE_OBJECT_MAP \
                and not self.flags & RBD_FLAG_OBJECT_MAP_INVALID:
            om = ObjectMap(self.ioctx, self.image_id)
            await om.lock()
            await om.load(self.num_objects(self.head_size))
            self.object_map = om

    async def before_release(self) -> None:
        """PreReleaseRequest: let go of the object map."""
        om, self.object_map = self.object_map, None
        if om is not None:
            await om.unlock()

    async def wait_io_idle(self) -> None:
        await self._io_idle.wait()

    def start_background(self, fn: Callable[[], Awaitable[None]], name: str) -> None:
        # The handle's background tasks outlive this call (a lock hand-over for a peer must
        # not run inside the notify callback that asked for it); a crash there is logged
        # once and leaves the handle serving.
        self.ioctx.rados.background.start_soon(fn, name=name)

    # -- in-flight I/O and the write gate ----------------------------------------------------

    def io_start(self) -> None:
        self._io_in_flight += 1
        if self._io_idle.is_set():
            self._io_idle = trio.Event()

    def io_done(self) -> None:
        self._io_in_flight -= 1
        if self._io_in_flight == 0:
            self._io_idle.set()

    async def writing(self, fn: Callable[[], Awaitable[Any]]) -> Any:
        """Run a mutating op as the lock owner, counted as in-flight I/O."""
        self.require_writable()
        self.require_not_blocklisted()
        await self.maybe_refresh()
        while True:
            gate = self._write_gate
            if gate is not None:
                await gate.wait()  # a maintenance op runs: wait, as librbd queues writes
                continue
            await self.exclusive_lock.acquire()
            if self._write_gate is None:
                break
        # no checkpoint between the last gate check and here
        self.io_start()
        try:
            return await fn()
        finally:
            self.io_done()

    @asynccontextmanager
    async def exclusive_op(self, ask_live_owner: bool = True) -> AsyncIterator[None]:
        """A maintenance op (snapshot create/remove/rollback, ...): one at a time, new
        writes held back and in-flight ones drained (librbd's block_writes /
        suspend_requests), run as the exclusive-lock owner and counted as in-flight I/O so
        a peer's lock request waits for it. ``ask_live_owner``: see
        :meth:`ExclusiveLock.acquire`."""
        self.require_not_blocklisted()
        async with self.maintenance_mutex:
            gate = trio.Event()
            self._write_gate = gate
            try:
                await self._io_idle.wait()
                await self.maybe_refresh()
                await self.exclusive_lock.acquire(ask_live_owner)
                self.io_start()
                try:
                    yield
                finally:
                    self.io_done()
                if self.snap_id != CEPH_NOSNAP and self.exclusive_lock.is_owner:
                    # Reading a snapshot: librbd holds no lock (and no HEAD object map,
                    # which must not filter snapshot reads) there; give it back.
                    await self.exclusive_lock.release()
            finally:
                self._write_gate = None
                gate.set()


__all__ = ["SUPPORTED_FEATURES", "ImageCtx"]
