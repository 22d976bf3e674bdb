"""Config override validation (rbdpy.librbd.config) pinned by librbd's own answers.

Each row is (option, value, accepted) as python3-rbd 16.2.15 answered
``RBD().config_set(ioctx, option, value)`` on a devcluster (accepted = no InvalidArgument);
one config_set (then config_remove) per row.
"""

from __future__ import annotations

import pytest

from rbdpy.librbd.config_check import CONF_PREFIX, check_override, validate_value
from rbdpy.librbd.config_schema import RBD_OPTIONS
from rbdpy.rados.proto.errors import CephError

LIBRBD_16_2_15 = [
    ('rbd_cache', 'true', True),
    ('rbd_cache', 'True', True),
    ('rbd_cache', 'TRUE', True),
    ('rbd_cache', '1', True),
    ('rbd_cache', '0', True),
    ('rbd_cache', '2', True),
    ('rbd_cache', '-1', True),
    ('rbd_cache', 'yes', False),
    ('rbd_cache', 'on', False),
    ('rbd_cache', '', False),
    ('rbd_cache', ' true', False),
    ('rbd_qos_iops_limit', '10', True),
    ('rbd_qos_iops_limit', '-1', False),
    ('rbd_qos_iops_limit', '1K', True),
    ('rbd_qos_iops_limit', '1k', False),
    ('rbd_qos_iops_limit', '1Ki', False),
    ('rbd_qos_iops_limit', '1M', True),
    ('rbd_qos_iops_limit', '1G', True),
    ('rbd_qos_iops_limit', '1E', True),
    ('rbd_qos_iops_limit', '1.5', False),
    ('rbd_qos_iops_limit', 'abc', False),
    ('rbd_qos_iops_limit', '', False),
    ('rbd_qos_iops_limit', ' 5', False),
    ('rbd_qos_iops_limit', '5 ', False),
    ('rbd_qos_iops_limit', '0x10', False),
    ('rbd_qos_iops_limit', '1KB', False),
    ('rbd_qos_iops_limit', '1B', False),
    ('rbd_readahead_max_bytes', '10', True),
    ('rbd_readahead_max_bytes', '1K', True),
    ('rbd_readahead_max_bytes', '1Ki', True),
    ('rbd_readahead_max_bytes', '1M', True),
    ('rbd_readahead_max_bytes', '1MB', True),
    ('rbd_readahead_max_bytes', '1MiB', False),
    ('rbd_readahead_max_bytes', '-1', False),
    ('rbd_readahead_max_bytes', '1.5K', False),
    ('rbd_readahead_max_bytes', 'abc', False),
    ('rbd_readahead_max_bytes', '1B', True),
    ('rbd_journal_object_flush_age', '1', True),
    ('rbd_journal_object_flush_age', '1.5', True),
    ('rbd_journal_object_flush_age', '-1', True),
    ('rbd_journal_object_flush_age', 'abc', False),
    ('rbd_journal_object_flush_age', '1e3', True),
    ('rbd_journal_object_flush_age', 'inf', True),
    ('rbd_journal_object_flush_age', 'nan', True),
    ('rbd_journal_object_flush_age', '', False),
    ('rbd_cache_policy', 'writeback', True),
    ('rbd_cache_policy', 'bogus', False),
    ('rbd_cache_policy', '', False),
    ('rbd_default_features', '61', True),
    ('rbd_default_features', 'layering', True),
    ('rbd_default_features', 'layering,bogus', False),
    ('rbd_default_features', 'bogus', False),
    ('rbd_default_features', '', True),
    ('rbd_discard_granularity_bytes', '4096', True),
    ('rbd_discard_granularity_bytes', '1024', False),
    ('rbd_discard_granularity_bytes', '33554432', True),
    ('rbd_discard_granularity_bytes', '33554433', False),
    ('rbd_mirror_image_perf_stats_prio', '-1', False),
    ('rbd_mirror_image_perf_stats_prio', '5', True),
    ('rbd_mirror_image_perf_stats_prio', '12', False),
    ('rbd_default_data_pool', 'x', True),
    ('rbd_default_data_pool', '', True),
]


@pytest.mark.parametrize(("name", "value", "accepted"), LIBRBD_16_2_15)
def test_value_acceptance_matches_librbd(name: str, value: str, accepted: bool) -> None:
    assert validate_value(RBD_OPTIONS[name], value) is accepted


def test_override_keys() -> None:
    check_override("not_conf_key", "anything", image=True)  # plain metadata passes
    check_override(CONF_PREFIX + "rbd_cache", "true", image=True)
    check_override(CONF_PREFIX + "rbd_default_order", "20", image=False)
    for key, image in (("nonexist", False), ("rbd_default_order", True),
                       ("rbd_mirror_concurrent_image_deletions", True),
                       ("rbd_validate_pool", False)):
        with pytest.raises(CephError) as ei:
            check_override(CONF_PREFIX + key, "1", image=image)
        assert ei.value.errno == 22


def test_schema_counts() -> None:
    # python3-rbd 16.2.15: 109 pool-level options, 77 of them image-level
    assert len(RBD_OPTIONS) == 109
    assert sum(o.image for o in RBD_OPTIONS.values()) == 77
