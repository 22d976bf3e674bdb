"""make_ex and the errno → exception tables (ARCHITECTURE §7; rados.pyx / rbd.pyx)."""

from __future__ import annotations

import errno
import pickle

import pytest

from rbdpy.librbd import exceptions as rbdx
from rbdpy.rados import exceptions as radosx

RADOS_TABLE = {
    errno.EPERM: "PermissionError",
    errno.ENOENT: "ObjectNotFound",
    errno.EIO: "IOError",
    errno.ENOSPC: "NoSpace",
    errno.EEXIST: "ObjectExists",
    errno.EBUSY: "ObjectBusy",
    errno.ENODATA: "NoData",
    errno.EINTR: "InterruptedOrTimeoutError",
    errno.ETIMEDOUT: "TimedOut",
    errno.EACCES: "PermissionDeniedError",
    errno.EINPROGRESS: "InProgress",
    errno.EISCONN: "IsConnected",
    errno.EINVAL: "InvalidArgumentError",
    errno.ENOTCONN: "NotConnected",
    errno.ESHUTDOWN: "ConnectionShutdown",
}

RBD_TABLE = {
    errno.EPERM: "PermissionError",
    errno.ENOENT: "ImageNotFound",
    errno.EIO: "IOError",
    errno.ENOSPC: "NoSpace",
    errno.EEXIST: "ImageExists",
    errno.EINVAL: "InvalidArgument",
    errno.EROFS: "ReadOnlyImage",
    errno.EBUSY: "ImageBusy",
    errno.ENOTEMPTY: "ImageHasSnapshots",
    errno.ENOSYS: "FunctionNotSupported",
    errno.EDOM: "ArgumentOutOfRange",
    errno.ESHUTDOWN: "ConnectionShutdown",
    errno.ETIMEDOUT: "Timeout",
    errno.EDQUOT: "DiskQuotaExceeded",
    errno.EOPNOTSUPP: "OperationNotSupported",
    125: "OperationCanceled",
}


@pytest.mark.parametrize(("code", "name"), sorted(RADOS_TABLE.items()))
def test_rados_make_ex(code: int, name: str) -> None:
    for ret in (code, -code):
        exc = radosx.make_ex(ret, "doing things")
        assert type(exc).__name__ == name
        assert exc.errno == code
        assert str(exc).startswith(f"[errno {code}] ")
        assert str(exc).endswith("(doing things)")
    assert set(radosx.errno_to_exception) == set(RADOS_TABLE)


def test_rados_make_ex_fallbacks() -> None:
    exc = radosx.make_ex(-errno.EROFS, "ro")
    assert type(exc) is radosx.OSError and exc.errno == errno.EROFS
    assert str(exc) == f"[errno {errno.EROFS}] ro"
    # cmpext mismatch: -(MAX_ERRNO + offset)
    mismatch = radosx.make_ex(-(radosx.MAX_ERRNO + 17), "cmpext")
    assert isinstance(mismatch, radosx.ExtendMismatch)
    assert mismatch.offset == 17 and mismatch.errno == radosx.MAX_ERRNO + 17
    assert radosx.ERRNO_TO_EXCEPTION is radosx.errno_to_exception


@pytest.mark.parametrize(("code", "name"), sorted(RBD_TABLE.items()))
def test_rbd_make_ex(code: int, name: str) -> None:
    for ret in (code, -code):
        exc = rbdx.make_ex(ret, "opening image")
        assert type(exc).__name__ == name
        assert exc.errno == code
    assert set(rbdx.errno_to_exception) == set(RBD_TABLE)


def test_rbd_group_table_differs_only_for_enoent_eexist() -> None:
    diff = {
        code
        for code in rbdx.errno_to_exception
        if rbdx.errno_to_exception[code] is not rbdx.group_errno_to_exception[code]
    }
    assert diff == {errno.ENOENT, errno.EEXIST}
    exc = rbdx.make_ex(-errno.ENOENT, "group", rbdx.group_errno_to_exception)
    assert type(exc) is rbdx.ObjectNotFound
    assert str(exc) == "[errno 2] RBD object not found (group)"
    assert type(rbdx.make_ex(-errno.EXDEV, "x")) is rbdx.OSError


def test_tables_are_read_only() -> None:
    with pytest.raises(TypeError):
        radosx.errno_to_exception[1] = radosx.IOError  # type: ignore[index]
    with pytest.raises(TypeError):
        rbdx.errno_to_exception[1] = rbdx.IOError  # type: ignore[index]


def test_pickle_keeps_class_message_and_errno() -> None:
    for exc in (
        radosx.make_ex(-errno.ENOENT, "gone"),
        radosx.ExtendMismatch("cmp", 4100, 5),
        rbdx.make_ex(-errno.EBUSY, "busy"),
        rbdx.Error("plain", 3),
    ):
        clone = pickle.loads(pickle.dumps(exc))
        assert type(clone) is type(exc)
        assert str(clone) == str(exc)
        assert clone.args == exc.args
        assert vars(clone) == vars(exc)


def test_public_module_names() -> None:
    assert radosx.ObjectNotFound.__module__ == "rbdpy.rados"
    assert rbdx.ImageNotFound.__module__ == "rbdpy.rbd"
    assert repr(radosx.ObjectNotFound("x")) == "ObjectNotFound('RADOS object not found (x)')"
