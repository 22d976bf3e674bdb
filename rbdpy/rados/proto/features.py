"""Ceph feature bits: the RADOS feature word and the msgr2 banner feature word.

Theory of operation: two independent 64-bit masks are negotiated on every msgr2 connection.
The *msgr2* word (banner) says which frame formats both sides speak; rbdpy requires
``REVISION_1`` (msgr2.1) exactly as the kernel does. The *RADOS* word (CLIENT_IDENT /
SERVER_IDENT) says which encodings each side understands; encoders and decoders consult the
peer's word to choose struct versions. Several features were defined on a bit that an older
feature used, so Ceph tags them with an *incarnation*: a feature of incarnation 2 is only
present if the SERVER_JEWEL bit (57) is also set, incarnation 3 additionally needs
SERVER_MIMIC (28). :func:`has_feature` applies that rule (Ceph's ``HAVE_FEATURE``).

The set rbdpy advertises is exactly what a Pacific 16.2.15 librados client advertises,
0x3f01cfbdfffdffff (``ceph features`` on the reference cluster, FIELD_GUIDE §2.8).

Mirrors: ceph src/include/ceph_features.h (DEFINE_CEPH_FEATURE, CEPH_FEATUREMASK_*,
HAVE_FEATURE), src/include/msgr.h (CEPH_MSGR2_FEATURE_*); kernel
include/linux/ceph/ceph_features.h, net/ceph/messenger_v2.c (CEPH_MSGR2_*_FEATURES).
"""

from __future__ import annotations

from enum import IntFlag

# -- RADOS feature bits (ceph src/include/ceph_features.h) ----------------------------------
# Names follow Ceph's CEPH_FEATURE_<name>; where Ceph reuses a bit, every name is listed.
CEPH_FEATURE_UID = 1 << 0
CEPH_FEATURE_NOSRCADDR = 1 << 1
CEPH_FEATURE_SERVER_NAUTILUS = 1 << 2  # incarnation 3
CEPH_FEATURE_FLOCK = 1 << 3
CEPH_FEATURE_SUBSCRIBE2 = 1 << 4
CEPH_FEATURE_MONNAMES = 1 << 5
CEPH_FEATURE_RECONNECT_SEQ = 1 << 6
CEPH_FEATURE_DIRLAYOUTHASH = 1 << 7
CEPH_FEATURE_OBJECTLOCATOR = 1 << 8
CEPH_FEATURE_PGID64 = 1 << 9
CEPH_FEATURE_INCSUBOSDMAP = 1 << 10
CEPH_FEATURE_PGPOOL3 = 1 << 11
CEPH_FEATURE_OSDREPLYMUX = 1 << 12
CEPH_FEATURE_OSDENC = 1 << 13
CEPH_FEATURE_SERVER_KRAKEN = 1 << 14  # incarnation 2 (was OMAP)
CEPH_FEATURE_MONENC = 1 << 15
CEPH_FEATURE_SERVER_OCTOPUS = 1 << 16  # incarnation 3 (was QUERY_T)
CEPH_FEATURE_OSD_REPOP_MLCOD = 1 << 16  # incarnation 3
CEPH_FEATURE_OS_PERF_STAT_NS = 1 << 17  # incarnation 3; not set by Pacific librados
CEPH_FEATURE_CRUSH_TUNABLES = 1 << 18
CEPH_FEATURE_OSD_PGLOG_HARDLIMIT = 1 << 19  # incarnation 2
CEPH_FEATURE_SERVER_PACIFIC = 1 << 20  # incarnation 3
CEPH_FEATURE_SERVER_LUMINOUS = 1 << 21  # incarnation 2
CEPH_FEATURE_RESEND_ON_SPLIT = 1 << 21  # incarnation 2
CEPH_FEATURE_RADOS_BACKOFF = 1 << 21  # incarnation 2
CEPH_FEATURE_OSDMAP_PG_UPMAP = 1 << 21  # incarnation 2
CEPH_FEATURE_CRUSH_CHOOSE_ARGS = 1 << 21  # incarnation 2
CEPH_FEATURE_OSD_FIXED_COLLECTION_LIST = 1 << 22  # incarnation 2
CEPH_FEATURE_MSG_AUTH = 1 << 23
CEPH_FEATURE_RECOVERY_RESERVATION_2 = 1 << 24  # incarnation 2
CEPH_FEATURE_CRUSH_TUNABLES2 = 1 << 25
CEPH_FEATURE_CREATEPOOLID = 1 << 26
CEPH_FEATURE_REPLY_CREATE_INODE = 1 << 27
CEPH_FEATURE_SERVER_MIMIC = 1 << 28  # incarnation 2
CEPH_FEATURE_MDSENC = 1 << 29
CEPH_FEATURE_OSDHASHPSPOOL = 1 << 30
CEPH_FEATURE_MON_SINGLE_PAXOS = 1 << 31  # deprecated, still advertised
CEPH_FEATURE_STRETCH_MODE = 1 << 32  # incarnation 3
CEPH_FEATURE_OSD_PACKED_RECOVERY = 1 << 34  # retired, still advertised
CEPH_FEATURE_OSD_CACHEPOOL = 1 << 35
CEPH_FEATURE_CRUSH_V2 = 1 << 36
CEPH_FEATURE_EXPORT_PEER = 1 << 37
CEPH_FEATURE_OSDMAP_ENC = 1 << 39
CEPH_FEATURE_MDS_INLINE_DATA = 1 << 40
CEPH_FEATURE_CRUSH_TUNABLES3 = 1 << 41
CEPH_FEATURE_OSD_PRIMARY_AFFINITY = 1 << 41
CEPH_FEATURE_MSGR_KEEPALIVE2 = 1 << 42
CEPH_FEATURE_OSD_POOLRESEND = 1 << 43
CEPH_FEATURE_OSD_FADVISE_FLAGS = 1 << 46
CEPH_FEATURE_MDS_QUOTA = 1 << 47
CEPH_FEATURE_CRUSH_V4 = 1 << 48
CEPH_FEATURE_NEW_OSDOP_ENCODING = 1 << 56
CEPH_FEATURE_MON_STATEFUL_SUB = 1 << 57
CEPH_FEATURE_SERVER_JEWEL = 1 << 57
CEPH_FEATURE_CRUSH_TUNABLES5 = 1 << 58
CEPH_FEATURE_NEW_OSDOPREPLY_ENCODING = 1 << 58
CEPH_FEATURE_FS_FILE_LAYOUT_V2 = 1 << 58
CEPH_FEATURE_FS_BTIME = 1 << 59
CEPH_FEATURE_FS_CHANGE_ATTR = 1 << 59
CEPH_FEATURE_MSG_ADDR2 = 1 << 59
CEPH_FEATURE_OSD_RECOVERY_DELETES = 1 << 60
CEPH_FEATURE_CEPHX_V2 = 1 << 61
CEPH_FEATURE_RESERVED = 1 << 62  # sentinel, never set

# Incarnation masks (ceph_features.h CEPH_FEATURE_INCARNATION_*): a feature defined with
# incarnation N is only "had" when these extra bits are present too.
CEPH_FEATURE_INCARNATION_1 = 0
CEPH_FEATURE_INCARNATION_2 = CEPH_FEATURE_SERVER_JEWEL
CEPH_FEATURE_INCARNATION_3 = CEPH_FEATURE_SERVER_JEWEL | CEPH_FEATURE_SERVER_MIMIC

# CEPH_FEATUREMASK_<name> = bit | incarnation mask, for the features rbdpy tests.
CEPH_FEATUREMASK_SERVER_NAUTILUS = CEPH_FEATURE_SERVER_NAUTILUS | CEPH_FEATURE_INCARNATION_3
CEPH_FEATUREMASK_SERVER_OCTOPUS = CEPH_FEATURE_SERVER_OCTOPUS | CEPH_FEATURE_INCARNATION_3
CEPH_FEATUREMASK_SERVER_PACIFIC = CEPH_FEATURE_SERVER_PACIFIC | CEPH_FEATURE_INCARNATION_3
CEPH_FEATUREMASK_SERVER_LUMINOUS = CEPH_FEATURE_SERVER_LUMINOUS | CEPH_FEATURE_INCARNATION_2
CEPH_FEATUREMASK_RESEND_ON_SPLIT = CEPH_FEATURE_RESEND_ON_SPLIT | CEPH_FEATURE_INCARNATION_2
CEPH_FEATUREMASK_RADOS_BACKOFF = CEPH_FEATURE_RADOS_BACKOFF | CEPH_FEATURE_INCARNATION_2
CEPH_FEATUREMASK_OSDMAP_PG_UPMAP = CEPH_FEATURE_OSDMAP_PG_UPMAP | CEPH_FEATURE_INCARNATION_2
CEPH_FEATUREMASK_CRUSH_CHOOSE_ARGS = CEPH_FEATURE_CRUSH_CHOOSE_ARGS | CEPH_FEATURE_INCARNATION_2
CEPH_FEATUREMASK_SERVER_MIMIC = CEPH_FEATURE_SERVER_MIMIC | CEPH_FEATURE_INCARNATION_2
CEPH_FEATUREMASK_SERVER_KRAKEN = CEPH_FEATURE_SERVER_KRAKEN | CEPH_FEATURE_INCARNATION_2
CEPH_FEATUREMASK_STRETCH_MODE = CEPH_FEATURE_STRETCH_MODE | CEPH_FEATURE_INCARNATION_3

# What a Pacific 16.2.15 client advertises, bit for bit [verified locally with
# `ceph features` on the reference cluster; FIELD_GUIDE §2.8]. Spelled as the literal and
# pinned by tests to the OR of the bits above, so a typo in either shows up.
CEPH_FEATURES_SUPPORTED_DEFAULT = 0x3F01_CFBD_FFFD_FFFF

# Send 0: the server tells us through IDENT_MISSING_FEATURES if it needs more (librados and
# the kernel both rely on that; FIELD_GUIDE §2.8).
CEPH_FEATURES_REQUIRED_DEFAULT = 0


def has_feature(features: int, mask: int) -> bool:
    """Ceph's ``HAVE_FEATURE``: every bit of a CEPH_FEATUREMASK_* value is present."""
    return features & mask == mask


class Msgr2Feature(IntFlag):
    """CEPH_MSGR2_FEATURE_* (ceph src/include/msgr.h): the banner's feature namespace."""

    REVISION_1 = 1 << 0  # msgr2.1 frame formats (rev1 crc/secure layouts)
    COMPRESSION = 1 << 1  # Quincy+ on-wire compression; rbdpy never offers it


# Like the kernel (messenger_v2.c CEPH_MSGR2_SUPPORTED/REQUIRED_FEATURES): msgr2.1 only.
MSGR2_SUPPORTED_FEATURES = int(Msgr2Feature.REVISION_1)
MSGR2_REQUIRED_FEATURES = int(Msgr2Feature.REVISION_1)
