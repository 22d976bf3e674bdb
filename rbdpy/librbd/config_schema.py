"""Pacific 16.2 librbd configuration schema: the ``rbd_*`` options a pool or image may
override (what ``rbd config pool ls`` / ``rbd config image ls`` list).

Generated, not hand-written: each row is (name, type, default as librbd prints it, min,
max, allowed values, image-level). Names and defaults come from python3-rbd 16.2.15
``RBD().config_list(ioctx)`` on a pool without overrides (plus ``Image.config_list()`` for
the image-level flag); types, bounds and enums from ``ceph config help <name> -f json``
against a 16.2.15 devcluster. Regenerate with the same two calls when the floor moves.

Mirrors: ceph src/common/options.cc (rbd options), src/librbd/api/Config.cc
(EXCLUDE_OPTIONS, EXCLUDE_IMAGE_OPTIONS: already applied to these rows).
"""

from __future__ import annotations

from typing import NamedTuple


class RbdOption(NamedTuple):
    name: str
    type: str  # bool, int, uint, size, float, str (options.cc Option::type_t)
    default: str
    min: float | None
    max: float | None
    enum: tuple[str, ...]
    image: bool  # also an image-level option (not in EXCLUDE_IMAGE_OPTIONS / rbd_mirror_*)


RBD_OPTIONS: dict[str, RbdOption] = {o.name: o for o in (
    RbdOption('rbd_atime_update_interval', 'uint', '60', 0, None, (), True),
    RbdOption('rbd_balance_parent_reads', 'bool', 'false', None, None, (), True),
    RbdOption('rbd_balance_snap_reads', 'bool', 'false', None, None, (), True),
    RbdOption('rbd_blkin_trace_all', 'bool', 'false', None, None, (), True),
    RbdOption('rbd_blocklist_expire_seconds', 'uint', '0', None, None, (), True),
    RbdOption('rbd_blocklist_on_break_lock', 'bool', 'true', None, None, (), True),
    RbdOption('rbd_cache', 'bool', 'true', None, None, (), True),
    RbdOption('rbd_cache_block_writes_upfront', 'bool', 'false', None, None, (), True),
    RbdOption('rbd_cache_max_dirty', 'size', '25165824', None, None, (), True),
    RbdOption('rbd_cache_max_dirty_age', 'float', '1.000000', None, None, (), True),
    RbdOption('rbd_cache_max_dirty_object', 'uint', '0', None, None, (), True),
    RbdOption('rbd_cache_policy',
              'str', 'writearound', None, None, ('writethrough', 'writeback', 'writearound'), True),
    RbdOption('rbd_cache_size', 'size', '33554432', None, None, (), True),
    RbdOption('rbd_cache_target_dirty', 'size', '16777216', None, None, (), True),
    RbdOption('rbd_cache_writethrough_until_flush', 'bool', 'true', None, None, (), True),
    RbdOption('rbd_clone_copy_on_read', 'bool', 'false', None, None, (), True),
    RbdOption('rbd_compression_hint',
              'str', 'none', None, None, ('none', 'compressible', 'incompressible'), True),
    RbdOption('rbd_concurrent_management_ops', 'uint', '10', 1, None, (), True),
    RbdOption('rbd_default_clone_format', 'str', 'auto', None, None, ('1', '2', 'auto'), False),
    RbdOption('rbd_default_data_pool', 'str', '', None, None, (), False),
    RbdOption('rbd_default_features', 'str', '61', None, None, (), False),
    RbdOption('rbd_default_map_options', 'str', '', None, None, (), True),
    RbdOption('rbd_default_order', 'uint', '22', None, None, (), False),
    RbdOption('rbd_default_snapshot_quiesce_mode',
              'str', 'required', None, None, ('required', 'ignore-error', 'skip'), True),
    RbdOption('rbd_default_stripe_count', 'uint', '0', None, None, (), False),
    RbdOption('rbd_default_stripe_unit', 'size', '0', None, None, (), False),
    RbdOption('rbd_disable_zero_copy_writes', 'bool', 'true', None, None, (), True),
    RbdOption('rbd_discard_granularity_bytes', 'uint', '65536', 4096, 33554432, (), True),
    RbdOption('rbd_enable_alloc_hint', 'bool', 'true', None, None, (), True),
    RbdOption('rbd_invalidate_object_map_on_timeout', 'bool', 'true', None, None, (), True),
    RbdOption('rbd_io_scheduler', 'str', 'simple', None, None, ('none', 'simple'), True),
    RbdOption('rbd_io_scheduler_simple_max_delay', 'uint', '0', 0, None, (), True),
    RbdOption('rbd_journal_commit_age', 'float', '5.000000', None, None, (), True),
    RbdOption('rbd_journal_max_concurrent_object_sets', 'uint', '0', None, None, (), True),
    RbdOption('rbd_journal_max_payload_bytes', 'size', '16384', None, None, (), True),
    RbdOption('rbd_journal_object_flush_age', 'float', '0.000000', None, None, (), True),
    RbdOption('rbd_journal_object_flush_bytes', 'size', '1048576', None, None, (), True),
    RbdOption('rbd_journal_object_flush_interval', 'uint', '0', None, None, (), True),
    RbdOption('rbd_journal_object_max_in_flight_appends', 'uint', '0', None, None, (), True),
    RbdOption('rbd_journal_object_writethrough_until_flush', 'bool', 'true', None, None, (), True),
    RbdOption('rbd_journal_order', 'uint', '24', 12, 26, (), False),
    RbdOption('rbd_journal_pool', 'str', '', None, None, (), False),
    RbdOption('rbd_journal_splay_width', 'uint', '4', None, None, (), False),
    RbdOption('rbd_localize_parent_reads', 'bool', 'false', None, None, (), True),
    RbdOption('rbd_localize_snap_reads', 'bool', 'false', None, None, (), True),
    RbdOption('rbd_mirror_concurrent_image_deletions', 'uint', '1', 1, None, (), False),
    RbdOption('rbd_mirror_concurrent_image_syncs', 'uint', '5', None, None, (), False),
    RbdOption('rbd_mirror_delete_retry_interval', 'float', '30.000000', None, None, (), False),
    RbdOption('rbd_mirror_image_perf_stats_prio', 'int', '5', 0, 11, (), False),
    RbdOption('rbd_mirror_image_policy_migration_throttle', 'uint', '300', None, None, (), False),
    RbdOption('rbd_mirror_image_policy_rebalance_timeout',
              'float', '0.000000', None, None, (), False),
    RbdOption('rbd_mirror_image_policy_type',
              'str', 'simple', None, None, ('none', 'simple'), False),
    RbdOption('rbd_mirror_image_policy_update_throttle_interval',
              'float', '1.000000', 1, None, (), False),
    RbdOption('rbd_mirror_image_state_check_interval', 'uint', '30', 1, None, (), False),
    RbdOption('rbd_mirror_journal_commit_age', 'float', '5.000000', None, None, (), False),
    RbdOption('rbd_mirror_journal_poll_age', 'float', '5.000000', None, None, (), False),
    RbdOption('rbd_mirror_leader_heartbeat_interval', 'uint', '5', 1, None, (), False),
    RbdOption('rbd_mirror_leader_max_acquire_attempts_before_break',
              'uint', '3', None, None, (), False),
    RbdOption('rbd_mirror_leader_max_missed_heartbeats', 'uint', '2', None, None, (), False),
    RbdOption('rbd_mirror_memory_autotune', 'bool', 'true', None, None, (), False),
    RbdOption('rbd_mirror_memory_base', 'size', '805306368', None, None, (), False),
    RbdOption('rbd_mirror_memory_cache_autotune_interval',
              'float', '30.000000', None, None, (), False),
    RbdOption('rbd_mirror_memory_cache_min', 'size', '134217728', None, None, (), False),
    RbdOption('rbd_mirror_memory_cache_resize_interval',
              'float', '5.000000', None, None, (), False),
    RbdOption('rbd_mirror_memory_expected_fragmentation', 'float', '0.150000', 0, 1, (), False),
    RbdOption('rbd_mirror_memory_target', 'size', '4294967296', None, None, (), False),
    RbdOption('rbd_mirror_perf_stats_prio', 'int', '5', 0, 11, (), False),
    RbdOption('rbd_mirror_sync_point_update_age', 'float', '30.000000', None, None, (), False),
    RbdOption('rbd_mirroring_delete_delay', 'uint', '0', None, None, (), True),
    RbdOption('rbd_mirroring_max_mirroring_snapshots', 'uint', '5', 3, None, (), True),
    RbdOption('rbd_mirroring_replay_delay', 'uint', '0', None, None, (), True),
    RbdOption('rbd_mirroring_resync_after_disconnect', 'bool', 'false', None, None, (), True),
    RbdOption('rbd_move_parent_to_trash_on_remove', 'bool', 'false', None, None, (), True),
    RbdOption('rbd_move_to_trash_on_remove', 'bool', 'false', None, None, (), True),
    RbdOption('rbd_move_to_trash_on_remove_expire_seconds', 'uint', '0', None, None, (), True),
    RbdOption('rbd_mtime_update_interval', 'uint', '60', 0, None, (), True),
    RbdOption('rbd_non_blocking_aio', 'bool', 'true', None, None, (), True),
    RbdOption('rbd_parent_cache_enabled', 'bool', 'false', None, None, (), True),
    RbdOption('rbd_persistent_cache_mode',
              'str', 'disabled', None, None, ('disabled', 'rwl', 'ssd'), True),
    RbdOption('rbd_persistent_cache_path', 'str', '/tmp', None, None, (), True),
    RbdOption('rbd_persistent_cache_size', 'uint', '1073741824', 1073741824, None, (), True),
    RbdOption('rbd_plugins', 'str', '', None, None, (), True),
    RbdOption('rbd_qos_bps_burst', 'uint', '0', None, None, (), True),
    RbdOption('rbd_qos_bps_burst_seconds', 'uint', '1', 1, None, (), True),
    RbdOption('rbd_qos_bps_limit', 'uint', '0', None, None, (), True),
    RbdOption('rbd_qos_iops_burst', 'uint', '0', None, None, (), True),
    RbdOption('rbd_qos_iops_burst_seconds', 'uint', '1', 1, None, (), True),
    RbdOption('rbd_qos_iops_limit', 'uint', '0', None, None, (), True),
    RbdOption('rbd_qos_read_bps_burst', 'uint', '0', None, None, (), True),
    RbdOption('rbd_qos_read_bps_burst_seconds', 'uint', '1', 1, None, (), True),
    RbdOption('rbd_qos_read_bps_limit', 'uint', '0', None, None, (), True),
    RbdOption('rbd_qos_read_iops_burst', 'uint', '0', None, None, (), True),
    RbdOption('rbd_qos_read_iops_burst_seconds', 'uint', '1', 1, None, (), True),
    RbdOption('rbd_qos_read_iops_limit', 'uint', '0', None, None, (), True),
    RbdOption('rbd_qos_schedule_tick_min', 'uint', '50', 1, None, (), True),
    RbdOption('rbd_qos_write_bps_burst', 'uint', '0', None, None, (), True),
    RbdOption('rbd_qos_write_bps_burst_seconds', 'uint', '1', 1, None, (), True),
    RbdOption('rbd_qos_write_bps_limit', 'uint', '0', None, None, (), True),
    RbdOption('rbd_qos_write_iops_burst', 'uint', '0', None, None, (), True),
    RbdOption('rbd_qos_write_iops_burst_seconds', 'uint', '1', 1, None, (), True),
    RbdOption('rbd_qos_write_iops_limit', 'uint', '0', None, None, (), True),
    RbdOption('rbd_quiesce_notification_attempts', 'uint', '10', 1, None, (), True),
    RbdOption('rbd_read_from_replica_policy',
              'str', 'default', None, None, ('default', 'balance', 'localize'), True),
    RbdOption('rbd_readahead_disable_after_bytes', 'size', '52428800', None, None, (), True),
    RbdOption('rbd_readahead_max_bytes', 'size', '524288', None, None, (), True),
    RbdOption('rbd_readahead_trigger_requests', 'uint', '10', None, None, (), True),
    RbdOption('rbd_request_timed_out_seconds', 'uint', '30', None, None, (), True),
    RbdOption('rbd_skip_partial_discard', 'bool', 'true', None, None, (), True),
    RbdOption('rbd_sparse_read_threshold_bytes', 'size', '65536', None, None, (), True),
)}

__all__ = ["RBD_OPTIONS", "RbdOption"]
