"""Validating config override values the way librbd's ConfigProxy accepts them.

Pool- and image-level config overrides are metadata keys ``conf_<option>``. librbd refuses
an override for an unknown option, for an option that may not be overridden at that level,
or with a value its option type rejects (integer and size syntax with SI/IEC suffixes,
floats, booleans, enums, bounds, and the feature list of ``rbd_default_features``).

Mirrors: ceph src/librbd/api/Config.cc (is_option_name), src/common/config.cc (set_val),
src/common/strtol.cc (strict_si_cast, strict_iec_cast), src/common/options.cc.
"""

from __future__ import annotations

import errno
import math
import re

from rbdpy.format.constants import RBD_FEATURE_MAP
from rbdpy.librbd.config_schema import RBD_OPTIONS, RbdOption
from rbdpy.rados.proto.errors import CephError

# The metadata key prefix of config overrides (ImageCtx::METADATA_CONF_PREFIX).
CONF_PREFIX = "conf_"

# strict_si_cast: decimal digits, optional sign, one optional SI suffix (powers of 1000 in
# Pacific's si_cast? no: librbd stores the text; only acceptance matters here).
_SI_INT = re.compile(r"[+-]?[0-9]+[KMGTPE]?")
# strict_iec_cast: digits then an optional IEC prefix, optionally followed by "i" or "B",
# or a bare "B" ("1Ki", "1MB", "1B" parse; "1MiB" does not -- checked with python3-rbd).
_IEC_SIZE = re.compile(r"\+?[0-9]+(?:[KMGTPE][iB]?|B)?")
_SUFFIX_POW = {"K": 1, "M": 2, "G": 3, "T": 4, "P": 5, "E": 6}


def _int_value(text: str, iec: bool) -> int | None:
    pattern = _IEC_SIZE if iec else _SI_INT
    if not pattern.fullmatch(text):
        return None
    digits = text.rstrip("iB")
    unit = 1
    if digits and digits[-1] in _SUFFIX_POW:
        unit = (1024 if iec else 1000) ** _SUFFIX_POW[digits[-1]]
        digits = digits[:-1]
    return int(digits) * unit


def _float_value(text: str) -> float | None:
    # strtod: no surrounding space, no Python-only spellings (underscores)
    if not text or text != text.strip() or "_" in text:
        return None
    try:
        return float(text)
    except ValueError:
        return None


def validate_value(opt: RbdOption, value: str) -> bool:
    """ConfigProxy::set_val's acceptance of ``value`` for ``opt`` (type, bounds, enum)."""
    number: float | None
    if opt.type == "bool":
        if value.lower() in ("true", "false"):
            return True
        return bool(re.fullmatch(r"[+-]?[0-9]+", value))
    if opt.type in ("uint", "int", "size"):
        n = _int_value(value, iec=opt.type == "size")
        if n is None or (opt.type in ("uint", "size") and n < 0):
            return False
        number = n
    elif opt.type == "float":
        number = _float_value(value)
        if number is None:
            return False
    else:
        if opt.enum and value not in opt.enum:
            return False
        if opt.name == "rbd_default_features":
            return _features_value_ok(value)
        return True
    if math.isnan(number):
        return True
    if opt.min is not None and number < opt.min:
        return False
    return not (opt.max is not None and number > opt.max)


def _features_value_ok(value: str) -> bool:
    """options.cc's rbd_default_features validator: a number, or feature names."""
    if not value or value.isdigit():
        return True
    return all(name.strip() in RBD_FEATURE_MAP for name in value.split(","))


def check_override(key: str, value: str, image: bool) -> None:
    """Validate a ``conf_*`` metadata key/value (EINVAL); other keys pass."""
    if not key.startswith(CONF_PREFIX):
        return
    opt = RBD_OPTIONS.get(key[len(CONF_PREFIX):])
    if opt is None or (image and not opt.image):
        raise CephError(errno.EINVAL, f"validation for {key} failed: not allowed "
                                      f"{'image' if image else 'pool'} level override")
    if not validate_value(opt, value):
        raise CephError(errno.EINVAL, f"validation for {key} failed: bad value")


__all__ = ["CONF_PREFIX", "check_override", "validate_value"]
