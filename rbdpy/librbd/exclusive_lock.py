"""The exclusive lock of an image (feature EXCLUSIVE_LOCK): one state machine, one owner.

Theory of operation: at most one client may write an image that has the exclusive-lock
feature. The lock is the cls ``lock`` named ``rbd_lock`` on the header object, exclusive,
tag ``internal``, with the cookie ``auto <watch handle>``: the cookie names our header
watch, so other clients can tell a live owner (its watch is still registered) from a dead
one. Taking it:

- the cls lock call succeeds (or EEXIST: it is already ours) — we own it;
- another client holds it and its watch is alive — we ask it to hand over with a
  REQUEST_LOCK notify and try again when it announces RELEASED_LOCK (or after a short
  interval). A lock taken by hand (``lock_acquire``, librbd's StandardPolicy) is never
  handed over: its owner answers EROFS, which fails our request;
- the holder's watch is gone — it is dead: we blocklist its address through the monitors
  (so a write it still has in flight cannot land after ours) and break its lock.

Once the cls lock is ours, the image context's ``after_acquire`` hook refreshes the header
and loads the object map; only then are we the owner (writes may go ahead), and we announce
ACQUIRED_LOCK. Releasing runs ``before_release`` (object map
unlocked), unlocks, and announces RELEASED_LOCK. When a peer asks for the lock we answer at
once ("will release") and release in a background task once our in-flight I/O is done.

States and the only moves between them (:data:`TRANSITIONS`)::

    UNLOCKED --acquire--> ACQUIRING --cls lock taken, map loaded--> LOCKED --release--> RELEASING
        ^                     |    |                                   |                    ^  |
        +----- gave up -------+    +------- post-acquire failed -------|--------------------+  |
        +---------------------------------- watch lost / forget -------+                       |
        +----------------------------------------------------------------------- unlocked -----+

Lock order (the image context's locks, outermost first):

1. ``ImageCtx.maintenance_mutex`` — one maintenance op (snapshot, rollback, ...) at a time;
2. :attr:`ExclusiveLock.mutex` — one acquire or release at a time;
3. the in-flight I/O count (an event, not a lock).

A write takes the lock *before* it counts itself in flight, so a release that holds the
mutex while it waits for in-flight I/O to drain never waits for a write that is itself
waiting for the mutex. ``drop`` releases without the mutex; it is for ``close`` and for
turning the feature off, where no acquire can be running on our behalf.

Mirrors: ceph src/librbd/ManagedLock.cc, ExclusiveLock.cc, managed_lock/AcquireRequest.cc,
BreakRequest.cc, GetLockerRequest.cc, exclusive_lock/StandardPolicy.cc,
AutomaticPolicy.cc, ImageWatcher.cc (handle_request_lock); kernel drivers/block/rbd.c
(rbd_try_lock, rbd_request_lock, find_watcher).
"""

from __future__ import annotations

import enum
import errno
import logging
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

import trio

from rbdpy.format import cls_lock
from rbdpy.format.constants import RBD_FEATURE_EXCLUSIVE_LOCK, RBD_LOCK_NAME
from rbdpy.format.watch_notify import NotifyOp, decode_response, encode_notify, encode_response
from rbdpy.librbd.object_io import ImageIoctx, exec_ops
from rbdpy.rados.proto.errors import CephError

log = logging.getLogger(__name__)

# librbd's lock tag and cookie prefix for the managed lock (ManagedLock / util).
WATCHER_LOCK_TAG = "internal"
WATCHER_LOCK_COOKIE_PREFIX = "auto"

# How long a write waits for a live owner to hand the lock over before failing with EBUSY.
# librbd waits without bound; a bound keeps a wedged peer from hanging us for ever.
LOCK_ACQUIRE_TIMEOUT = 30.0
_RETRY_INTERVAL = 0.5
# Lock-related notifies wait this long for acks (librbd's ImageWatcher uses 5 s).
NOTIFY_TIMEOUT_MS = 5000
# lock_acquire() attempts before giving up with EROFS (a dead owner is broken in between).
_BY_HAND_ATTEMPTS = 3


class LockState(enum.Enum):
    UNLOCKED = "unlocked"
    ACQUIRING = "acquiring"
    LOCKED = "locked"
    RELEASING = "releasing"


class LockPolicy(enum.Enum):
    """Who decides when the lock moves (librbd's exclusive_lock policies)."""

    AUTOMATIC = "automatic"  # taken before the first write; handed over when a peer asks
    BY_HAND = "by hand"  # lock_acquire()/lock_release() only; peers' requests refused


TRANSITIONS: dict[LockState, frozenset[LockState]] = {
    LockState.UNLOCKED: frozenset({LockState.ACQUIRING}),
    # ACQUIRING -> RELEASING: the cls lock was taken but the post-acquire work failed.
    LockState.ACQUIRING: frozenset({LockState.LOCKED, LockState.UNLOCKED,
                                    LockState.RELEASING}),
    # LOCKED -> UNLOCKED without RELEASING: the watch behind our cookie was lost (the lock
    # no longer proves we are alive), or the header that holds it is being removed.
    LockState.LOCKED: frozenset({LockState.RELEASING, LockState.UNLOCKED}),
    LockState.RELEASING: frozenset({LockState.UNLOCKED}),
}


class LockStateError(RuntimeError):
    """A move the transition table does not allow: a bug in rbdpy, never a cluster error."""


class LockHost(Protocol):
    """What the exclusive lock needs from the image context that owns it."""

    # read-only here, so an image context may hold a richer ioctx type than the seam's
    @property
    def name(self) -> str: ...

    @property
    def header_oid(self) -> str: ...

    @property
    def ioctx(self) -> ImageIoctx: ...

    @property
    def features(self) -> int: ...

    def watch_handle(self) -> int | None: ...

    async def ensure_watch(self) -> None: ...

    async def after_acquire(self) -> None: ...

    async def before_release(self) -> None: ...

    async def wait_io_idle(self) -> None: ...

    def start_background(self, fn: Callable[[], Awaitable[None]], name: str) -> None: ...


class ExclusiveLock:
    """The managed lock of one open image; see the module docstring for the protocol."""

    def __init__(self, host: LockHost) -> None:
        self._host = host
        self.state = LockState.UNLOCKED
        self.policy = LockPolicy.AUTOMATIC
        self.mutex = trio.Lock()
        # a peer's REQUEST_LOCK is being served by a background release
        self._release_requested = False
        # set when a peer announces RELEASED_LOCK: a waiting acquire retries at once
        self._peer_released = trio.Event()

    # -- state -----------------------------------------------------------------------------

    @property
    def is_owner(self) -> bool:
        return self.state is LockState.LOCKED

    def _move(self, new: LockState) -> None:
        if new not in TRANSITIONS[self.state]:
            raise LockStateError(f"exclusive lock of {self._host.name!r}: "
                                 f"{self.state.value} -> {new.value} is not a transition")
        log.debug("image %s: exclusive lock %s -> %s", self._host.name, self.state.value,
                  new.value)
        self.state = new

    @property
    def cookie(self) -> str:
        handle = self._host.watch_handle()
        return f"{WATCHER_LOCK_COOKIE_PREFIX} {handle or 0}"

    # -- events from the header watch ------------------------------------------------------

    def on_request_lock(self) -> bytes | None:
        """A peer's REQUEST_LOCK: the ack payload (None when we do not own the lock)."""
        if not self.is_owner:
            return None
        if self.policy is LockPolicy.BY_HAND:
            return encode_response(-errno.EROFS)
        if not self._release_requested:
            self._release_requested = True
            self._host.start_background(self._release_on_request,
                                        f"rbd lock hand-over {self._host.name}")
        return encode_response(0)

    def on_peer_released(self) -> None:
        self._peer_released.set()

    def on_watch_lost(self) -> None:
        """Our header watch is gone: the cookie no longer proves we are alive, so we stop
        acting as owner; the next write takes the lock again under a new watch."""
        if self.state is LockState.LOCKED:
            self._move(LockState.UNLOCKED)

    async def _release_on_request(self) -> None:
        try:
            await self.release()
        except Exception as e:  # the peer retries; never take the handle down for this
            log.warning("image %s: releasing the exclusive lock for a peer failed: %s",
                        self._host.name, e)
        finally:
            self._release_requested = False

    # -- acquire ---------------------------------------------------------------------------

    async def acquire(self, ask_live_owner: bool = True) -> None:
        """Own the lock before a write or a maintenance op (AutomaticPolicy); nothing to do
        when the image does not have the exclusive-lock feature.

        ``ask_live_owner=False`` is librbd's ``prepare_image_update`` without a lock request
        (snapshot rollback): a live owner keeps the lock and we fail with EROFS."""
        if self.is_owner or not self._host.features & RBD_FEATURE_EXCLUSIVE_LOCK:
            return
        if self.policy is LockPolicy.BY_HAND:
            raise CephError(errno.EROFS, "exclusive lock not held (managed by hand)")

        async def until_ours() -> None:
            with trio.move_on_after(LOCK_ACQUIRE_TIMEOUT):
                while not await self._try_lock(ask_live_owner):
                    with trio.move_on_after(_RETRY_INTERVAL):
                        await self._peer_released.wait()
                    self._peer_released = trio.Event()
                return
            raise CephError(errno.EBUSY, "timed out waiting for the exclusive lock")

        await self._take(until_ours)

    async def acquire_by_hand(self) -> None:
        """``lock_acquire``: switch to the by-hand policy and take the lock without ever
        asking a live owner for it (EROFS if one holds it)."""
        self.policy = LockPolicy.BY_HAND

        async def a_few_tries() -> None:
            for _ in range(_BY_HAND_ATTEMPTS):
                if await self._try_lock(ask_live_owner=False):
                    return
            raise CephError(errno.EROFS, "failed to acquire exclusive lock")

        await self._take(a_few_tries)

    async def _take(self, until_ours: Callable[[], Awaitable[None]]) -> None:
        """One acquisition under the mutex: ``until_ours`` returns once the cls lock is ours
        (or raises, and we are UNLOCKED again); then the post-acquire work."""
        if self.is_owner:
            return
        async with self.mutex:
            if self.is_owner:
                return
            await self._host.ensure_watch()
            self._move(LockState.ACQUIRING)
            try:
                await until_ours()
            except BaseException:
                self._move(LockState.UNLOCKED)
                raise
            await self._locked()

    async def _locked(self) -> None:
        """The cls lock is ours: finish acquiring, then own. Until ``after_acquire`` has
        loaded the object map we are still ACQUIRING, so a concurrent write waits at the
        mutex instead of writing around a map that is not loaded yet (it would leave objects
        the map then calls nonexistent, and reads of them would return zeros)."""
        log.debug("image %s: took the cls lock (%s)", self._host.name, self.cookie)
        try:
            # The previous owner may have changed the header (PostAcquireRequest).
            await self._host.after_acquire()
        except BaseException:
            await self._release()
            raise
        self._move(LockState.LOCKED)
        await self._notify(NotifyOp.ACQUIRED_LOCK)

    async def _try_lock(self, ask_live_owner: bool) -> bool:
        """One AcquireRequest round: True when the lock is ours, False to try again."""
        host = self._host
        if host.watch_handle() is None:
            raise CephError(errno.EROFS, "no header watch (read-only open)")
        try:
            await exec_ops(host.ioctx, host.header_oid, [cls_lock.lock(
                RBD_LOCK_NAME, cls_lock.ClsLockType.EXCLUSIVE, self.cookie,
                WATCHER_LOCK_TAG, "", (0, 0), 0)])
            return True
        except CephError as e:
            if e.errno == errno.EEXIST:
                return True
            if e.errno != errno.EBUSY:
                raise
        owner = await get_locker(host.ioctx, host.header_oid)
        if owner is None:
            return False  # released meanwhile
        locker_id, locker_info = owner
        if await _owner_is_alive(host.ioctx, host.header_oid, locker_id, locker_info):
            if not ask_live_owner:
                raise CephError(errno.EROFS, "exclusive lock is held by a live client")
            await self._request_from(locker_id)
            return False
        if locker_id.locker.num == host.ioctx.rados.get_instance_id():
            # Our own lock, left behind by a watch this client lost: drop it without
            # fencing ourselves (librbd's ReacquireRequest case).
            await exec_ops(host.ioctx, host.header_oid, [cls_lock.break_lock(
                RBD_LOCK_NAME, locker_id.locker, locker_id.cookie)])
            return False
        await _break_dead_owner(host.ioctx, host.header_oid, locker_id, locker_info,
                                host.name)
        return False

    async def _request_from(self, locker_id: Any) -> None:
        host = self._host
        log.debug("image %s: lock owned by live %s, requesting it", host.name,
                  locker_id.locker)
        gid = host.ioctx.rados.get_instance_id()
        payload = encode_notify(NotifyOp.REQUEST_LOCK, gid, host.watch_handle() or 0, False)
        result: Any = None
        try:
            _, result = await host.ioctx.notify_with_acks(host.header_oid, payload,
                                                          NOTIFY_TIMEOUT_MS)
        except CephError as e:
            log.debug("image %s: request-lock notify failed: %s", host.name, e)
        # An owner that keeps its lock (taken by hand) answers EROFS: our op fails.
        if result is not None and any(decode_response(p) == -errno.EROFS
                                      for p in result.acks.values()):
            raise CephError(errno.EROFS, "lock owner refused to release the lock")

    # -- release ---------------------------------------------------------------------------

    async def release(self) -> None:
        """Hand the lock back once in-flight I/O is done (no-op when not the owner)."""
        async with self.mutex:
            await self._host.wait_io_idle()
            if self.is_owner:
                await self._release()

    async def release_by_hand(self) -> None:
        """``lock_release``: EINVAL unless we own the lock."""
        if not self.is_owner:
            raise CephError(errno.EINVAL, "not exclusive lock owner")
        await self.release()

    async def drop(self) -> None:
        """Release now, without the mutex (close; turning the feature off)."""
        if self.is_owner:
            await self._release()

    def forget(self) -> None:
        """Stop owning without unlocking: the header holding the lock is being deleted."""
        if self.state is LockState.LOCKED:
            self._move(LockState.UNLOCKED)

    async def _release(self) -> None:
        """PreReleaseRequest + ReleaseRequest: object map unlocked, unlock, announce.
        Also undoes an acquire whose post-acquire work failed (from ACQUIRING)."""
        host = self._host
        self._move(LockState.RELEASING)
        try:
            await host.before_release()
            try:
                await exec_ops(host.ioctx, host.header_oid,
                               [cls_lock.unlock(RBD_LOCK_NAME, self.cookie)])
            except CephError as e:
                if e.errno != errno.ENOENT:
                    raise
        finally:
            self._move(LockState.UNLOCKED)
            await self._notify(NotifyOp.RELEASED_LOCK)
        log.debug("image %s: released exclusive lock", host.name)

    async def _notify(self, op: int) -> None:
        await notify_header(self._host.ioctx, self._host.header_oid, op,
                            self._host.watch_handle() or 0, self._host.name)


# -- helpers shared with the lock_* maintenance calls ------------------------------------------

async def notify_header(ioctx: ImageIoctx, header_oid: str, op: int, watch_handle: int,
                        image_name: str) -> None:
    """Tell the other clients of an image about ``op``; a failed notify is only logged
    (the peers refresh on their own next time they look)."""
    gid = ioctx.rados.get_instance_id()
    try:
        await ioctx.notify_with_acks(header_oid, encode_notify(op, gid, watch_handle),
                                     NOTIFY_TIMEOUT_MS)
    except CephError as e:
        log.debug("image %s: notify %d failed: %s", image_name, op, e)


async def get_locker(ioctx: ImageIoctx, header_oid: str) -> tuple[Any, Any] | None:
    """The current managed-lock holder as (locker id, locker info); None when unlocked.

    EBUSY when the image is locked by something other than librbd's managed lock (an
    advisory lock, or a cookie that does not name a watch)."""
    try:
        (info,) = await exec_ops(ioctx, header_oid, [cls_lock.get_info(RBD_LOCK_NAME)])
    except CephError as e:
        if e.errno == errno.ENOENT:
            return None
        raise
    if not info.lockers:
        return None
    if info.tag != WATCHER_LOCK_TAG or info.lock_type != cls_lock.ClsLockType.EXCLUSIVE:
        raise CephError(errno.EBUSY, "image locked by an incompatible (advisory) lock")
    locker_id, locker_info = next(iter(info.lockers.items()))
    prefix, _, handle = locker_id.cookie.partition(" ")
    if prefix != WATCHER_LOCK_COOKIE_PREFIX or not handle.isdigit():
        raise CephError(errno.EBUSY, "image locked with a foreign cookie")
    return locker_id, locker_info


async def _owner_is_alive(ioctx: ImageIoctx, header_oid: str, locker_id: Any,
                          locker_info: Any) -> bool:
    """Is the holder's watch (named by its cookie) still registered on the header?"""
    handle = int(locker_id.cookie.partition(" ")[2])
    watchers = await ioctx.list_watchers(header_oid)
    return any(w.cookie == handle and w.name.num == locker_id.locker.num
               and same_addr(w.addr, locker_info.addr) for w in watchers)


async def _break_dead_owner(ioctx: ImageIoctx, header_oid: str, locker_id: Any,
                            locker_info: Any, image_name: str) -> None:
    """BreakRequest: fence the dead owner first, so a late write of its cannot land after
    ours, then break its lock."""
    addr = locker_info.addr
    log.debug("image %s: breaking lock of dead owner %s at %s", image_name, locker_id.locker,
              addr)
    try:
        await ioctx.rados.blocklist_add(addr_text(addr))
    except Exception as e:  # breaking still frees the image; fencing is best effort here
        log.warning("image %s: blocklisting dead lock owner %s failed: %s", image_name,
                    addr_text(addr), e)
    try:
        await exec_ops(ioctx, header_oid, [cls_lock.break_lock(
            RBD_LOCK_NAME, locker_id.locker, locker_id.cookie)])
    except CephError as e:
        if e.errno != errno.ENOENT:
            raise


def same_addr(a: Any, b: Any) -> bool:
    """Equal entity addresses, ignoring the address type: the lock records LEGACY even for
    msgr2 clients, while the watch list has the real type (the kernel compares the same way)."""
    return bool(a.host == b.host and a.port == b.port and a.nonce == b.nonce)


def addr_text(addr: Any) -> str:
    """``host:port/nonce``, as ``ceph osd blocklist`` and python-rbd print addresses."""
    return f"{addr.host}:{addr.port}/{addr.nonce}"


__all__ = ["LOCK_ACQUIRE_TIMEOUT", "NOTIFY_TIMEOUT_MS", "TRANSITIONS", "WATCHER_LOCK_COOKIE_PREFIX",
           "WATCHER_LOCK_TAG", "ExclusiveLock", "LockHost", "LockPolicy", "LockState",
           "LockStateError", "addr_text", "get_locker", "notify_header", "same_addr"]
