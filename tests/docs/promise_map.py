"""Which tests check each promise of docs/wire-format.md and docs/operations.md.

Keys are the ids tests/docs/doc_promises.py derives from the docs; values are the tests that check
the promise against the server's own state (XRANGE, XINFO, keyspace snapshots) or, for a CLI or
HTTP promise, against what the command or endpoint shows. `NOT_PROMISES` lists the paragraphs that
promise nothing (examples, introductions), each with the reason. A promise added to the docs fails
tests/docs/test_docs_promises.py until it is listed here.
"""

from __future__ import annotations

__all__ = ["KNOWN_GAPS", "NOT_PROMISES", "PROMISE_TESTS"]

_W = "tests/wire/"
_ENTRIES = _W + "test_entries_and_lanes.py::"
_DEAD = _W + "test_dead_letter_entries.py::"
_TRIM = _W + "test_trimming.py::"
_CONTRACT = "tests/runtime/test_delivery_contract.py::"
_REDIS = "tests/runtime/test_redis_delivery.py::"
_OUTCOMES = "tests/runtime/test_publish_outcomes.py::"
_FAULTS_W = "tests/faults/test_write_path_faults.py::"
_READING = "tests/runtime/test_reading_on_redis.py::"
_TRIM_LOOP = "tests/runtime/test_trim_never_stops.py::"
_WIRE_UNIT = "tests/runtime/test_wire_and_config.py::"
_REGISTRY_BUS = "tests/registry/test_schema_versions_on_the_bus.py::"
_OPS = "tests/operator/"
_PRECEDENCE = _OPS + "test_server_precedence.py::"
_ERRORS = _OPS + "test_server_errors.py::"
_DLQ = _OPS + "test_dlq.py::"
_DLQ_RAW = _OPS + "test_dlq_on_the_server.py::"
_METRICS = _OPS + "test_metrics.py::"
_FAULTS = _OPS + "test_metrics_under_faults.py::"
_READ_ONLY = _OPS + "test_read_only_commands.py::"
_SCHEMA_CLI = _OPS + "test_schema_registry_cli.py::"
_REPLAY = "tests/cli/test_dlq_replay_to_group.py::"
_GROUP_CLI = "tests/cli/test_group_command.py::"
_PUBLISH_CLI = "tests/cli/test_publish_command.py::"
_OBSERVER = "tests/observers/test_observer_client.py::"
_LEASES = "tests/replicas/test_replica_leases.py::"
_PARTITIONS = "tests/replicas/test_partitions.py::"
_BEST_EFFORT = "tests/runtime/test_best_effort_delivery.py::"
_BE = "wire-format#best-effort-delivery-noack-groups/"
_LAYOUT = "tests/cluster/test_key_layout.py::"
_RP = "wire-format#replay:-back-to-the-group-that-gave-up-and-to-no-other/"

PROMISE_TESTS: dict[str, list[str]] = {
    # docs/wire-format.md
    "wire-format#streams-and-lanes/every-bus-message-type-declares-in": [
        "tests/runtime/test_wire_and_config.py::test_message_spec_reads_the_route_and_fingerprint",
        _ENTRIES + "test_each_priority_goes_to_its_lane_with_its_number",
    ],
    "wire-format#streams-and-lanes/<stream>": [
        _ENTRIES + "test_each_priority_goes_to_its_lane_with_its_number",
    ],
    "wire-format#streams-and-lanes/{<stream>}:urgent": [
        _ENTRIES + "test_each_priority_goes_to_its_lane_with_its_number",
    ],
    "wire-format#streams-and-lanes/{<stream>}:dead-letter": [
        _DEAD + "test_an_undecodable_entry_is_kept_whole_with_the_dl_fields_after_it",
    ],
    "wire-format#streams-and-lanes/{<stream>}:retry:<group>": [
        _REPLAY + "test_each_group_gets_back_only_its_own_dead_letters",
        _DLQ_RAW
        + "test_replay_by_reason_moves_only_letters_of_that_reason_to_their_groups_retry_lane",
    ],
    "wire-format#intro/two-things-are-versioned:-the-entry": [
        _LAYOUT + "test_layout_2_keeps_the_bulk_lane_key_and_tags_the_others",
        _ENTRIES + "test_each_priority_goes_to_its_lane_with_its_number",
    ],
    "wire-format#streams-and-lanes/{<stream>}:dead-letter:replayed": [
        _LAYOUT + "test_layout_2_keeps_the_bulk_lane_key_and_tags_the_others",
        _REPLAY + "test_a_second_dead_letter_of_a_replayed_entry_is_removed_not_replayed",
    ],
    "wire-format#streams-and-lanes/all-keys-of-one-stream-share": [
        _LAYOUT + "test_every_key_of_a_routed_stream_is_in_the_bulk_lanes_slot",
        _LAYOUT + "test_every_registry_key_of_the_contract_is_in_one_slot",
        _LAYOUT + "test_a_stream_name_that_would_change_the_hash_tag_is_refused",
    ],
    "wire-format#streams-and-lanes/a-writer-puts-a-message-on": [
        _ENTRIES + "test_each_priority_goes_to_its_lane_with_its_number",
        _ENTRIES + "test_without_a_chosen_priority_the_routes_priority_applies",
        _REDIS + "test_messages_buffered_during_an_outage_are_delivered_after_restart",
    ],
    "wire-format#streams-and-lanes/only-the-route-s-producer-engine": [
        _WIRE_UNIT + "test_an_engine_may_only_publish_its_own_message_types",
        _WIRE_UNIT + "test_an_engine_may_only_subscribe_to_types_routed_to_it",
    ],
    "wire-format#partitioned-streams/a-route-may-cut-its-stream": [
        _PARTITIONS
        + "test_the_partition_of_a_key_is_crc32_of_its_utf8_bytes_modulo_the_partitions",
        _PARTITIONS + "test_routes_on_one_stream_must_agree_on_its_partitions",
        _PARTITIONS
        + "test_each_instrument_stays_on_its_partition_in_order_and_one_replica_reads_it",
        _PARTITIONS + "test_the_generated_acl_grants_every_partitions_keys",
    ],
    "wire-format#replica-leases/processes-of-one-engine-that-keep": [
        _LEASES + "test_each_replica_handles_only_the_streams_it_holds",
        "tests/engines_e2e/test_replicas_on_redis.py::"
        "test_two_vpin_replicas_raise_the_alerts_of_one_vpin",
    ],
    "wire-format#replica-leases/{<stream>}:lease:<group>": [
        _LEASES + "test_a_newcomer_gets_its_fair_share_and_no_stream_has_two_holders",
        _LEASES + "test_a_killed_holder_is_replaced_and_nothing_is_lost",
        "tests/security/test_replica_leases_under_acl.py::"
        "test_an_engine_user_may_not_touch_another_engines_leases",
    ],
    "wire-format#replica-leases/nautilus:replicas:<group>": [
        _LEASES + "test_a_newcomer_gets_its_fair_share_and_no_stream_has_two_holders",
        _LEASES + "test_a_replica_that_stops_hands_its_streams_to_the_others",
    ],
    "wire-format#replica-leases/a-round-every-third-of-lease_ms:": [
        _LEASES + "test_shares_add_up_to_the_units_and_differ_by_at_most_one",
        _LEASES + "test_a_replica_that_stops_hands_its_streams_to_the_others",
        _LEASES + "test_a_killed_holder_is_replaced_and_nothing_is_lost",
    ],
    "wire-format#consumer-groups/one-consumer-group-per-consuming-engine": [
        _ENTRIES + "test_a_producer_declares_a_group_per_routed_engine_on_both_lanes",
        _CONTRACT + "test_every_consuming_engine_gets_every_message_through_its_own_group",
        _REPLAY + "test_each_group_gets_back_only_its_own_dead_letters",
    ],
    "wire-format#consumer-groups/observers-consumers-that-are-not-engines": [
        _OBSERVER + "test_an_observer_consumes_through_a_group_of_its_own",
        _OBSERVER + "test_an_observer_may_not_claim_an_engine_group",
        _OBSERVER + "test_an_observer_sees_every_entry_an_engine_group_also_gets",
    ],
    "wire-format#consumer-groups/read-with-xreadgroup-group-<engine>-<consumer>": [
        _CONTRACT + "test_urgent_messages_use_the_priority_lane_and_are_read_first",
        _REDIS + "test_critical_message_overtakes_a_bulk_backlog_of_100k",
    ],
    "wire-format#consumer-groups/acknowledge-xack-an-entry-only-after": [
        _DEAD + "test_the_original_entry_is_acknowledged_after_it_is_moved",
        "tests/operator/test_stats.py::test_pending_and_lag_match_what_a_group_consumed",
    ],
    "wire-format#consumer-groups/reclaim-with-xautoclaim-<lane>-<engine>-<consumer>": [
        _REDIS + "test_pending_entries_of_a_killed_consumer_are_handled_by_another",
        _CONTRACT + "test_failing_message_goes_to_dead_letter_after_max_deliveries",
        _WIRE_UNIT + "test_config_defaults_come_from_the_engine",
    ],
    "wire-format#consumer-groups/keep-held-entries-fresh.-while-a": [
        "tests/faults/test_consumer_faults.py::"
        "test_slow_handlers_sharing_a_group_handle_each_message_once",
        _READING + "test_a_consumer_holding_entries_stays_until_they_are_reclaimed",
    ],
    "wire-format#consumer-groups/leaving-the-group.-on-a-clean": [
        _READING + "test_a_clean_close_removes_the_consumer_from_its_group",
        _READING + "test_stale_consumers_with_nothing_pending_are_removed",
    ],
    "wire-format#consumer-groups/entries-of-a-known-type-routed": [
        _READING + "test_a_registry_backed_consumer_skips_a_type_it_does_not_handle",
        _ENTRIES + "test_a_group_reads_the_whole_lane_and_acknowledges_types_it_does_not_handle",
        _CONTRACT + "test_types_an_engine_does_not_subscribe_to_are_acknowledged_unhandled",
    ],
    _RP + "a-dead-letter-is-replayed-to": [
        _REPLAY + "test_each_group_gets_back_only_its_own_dead_letters",
        _DLQ_RAW
        + "test_replay_by_reason_moves_only_letters_of_that_reason_to_their_groups_retry_lane",
    ],
    _RP + "if-the-dead-letter-is-gone": [
        _DLQ + "test_replaying_a_letter_twice_writes_it_once",
        _REPLAY + "test_replaying_again_delivers_nothing_more",
    ],
    _RP + "if-hget-<stream>-:dead-letter:replayed-<dl.group>-n<dl.lane>": [
        _REPLAY + "test_a_second_dead_letter_of_a_replayed_entry_is_removed_not_replayed",
    ],
    _RP + "otherwise-xgroup-create-<stream>-:retry:<dl.group>-<dl.group>": [
        _DLQ_RAW
        + "test_replay_by_reason_moves_only_letters_of_that_reason_to_their_groups_retry_lane",
        _REPLAY + "test_each_group_gets_back_only_its_own_dead_letters",
    ],
    _RP + "the-entry-keeps-its-original-fields": [
        _DLQ + "test_replay_keeps_the_original_fields",
        _DLQ_RAW + "test_a_replayed_letter_that_fails_again_is_dead_lettered_from_the_retry_lane",
    ],
    "wire-format#entry-fields/one-message-is-one-stream-entry": [
        _ENTRIES + "test_an_entry_has_the_documented_fields_in_the_documented_order",
        _ENTRIES + "test_a_reader_accepts_fields_in_any_order_and_ignores_unknown_ones",
    ],
    "wire-format#entry-fields/v": [
        _ENTRIES + "test_an_entry_has_the_documented_fields_in_the_documented_order",
    ],
    "wire-format#entry-fields/t": [
        _ENTRIES + "test_an_entry_has_the_documented_fields_in_the_documented_order",
    ],
    "wire-format#entry-fields/f": [
        _ENTRIES + "test_an_entry_has_the_documented_fields_in_the_documented_order",
    ],
    "wire-format#entry-fields/p": [
        _ENTRIES + "test_an_entry_has_the_documented_fields_in_the_documented_order",
    ],
    "wire-format#entry-fields/s": [
        _ENTRIES + "test_an_entry_has_the_documented_fields_in_the_documented_order",
    ],
    "wire-format#entry-fields/ts": [
        _ENTRIES + "test_an_entry_has_the_documented_fields_in_the_documented_order",
    ],
    "wire-format#entry-fields/pr": [
        _ENTRIES + "test_each_priority_goes_to_its_lane_with_its_number",
    ],
    "wire-format#entry-fields/k": [
        _ENTRIES + "test_an_entry_has_the_documented_fields_in_the_documented_order",
        _ENTRIES + "test_the_optional_fields_are_left_out_when_not_given",
    ],
    "wire-format#entry-fields/tc": [
        _ENTRIES + "test_an_entry_has_the_documented_fields_in_the_documented_order",
        _ENTRIES + "test_the_optional_fields_are_left_out_when_not_given",
    ],
    "wire-format#entry-fields/pi": [
        _ENTRIES + "test_an_entry_has_the_documented_fields_in_the_documented_order",
        _OUTCOMES + "test_entries_carry_the_producer_instance_and_a_sequence_per_lane",
    ],
    "wire-format#entry-fields/sq": [
        _ENTRIES + "test_an_entry_has_the_documented_fields_in_the_documented_order",
        _OUTCOMES + "test_entries_carry_the_producer_instance_and_a_sequence_per_lane",
    ],
    "wire-format#entry-fields/readers-need-neither-pi-nor-sq": [
        _ENTRIES + "test_a_reader_accepts_fields_in_any_order_and_ignores_unknown_ones",
    ],
    "wire-format#outcomes/a-producer-sends-its-xadds-in": [
        _FAULTS_W + "test_memory_filling_mid_batch_fails_exactly_the_refused_messages",
        _FAULTS_W + "test_a_lane_key_of_the_wrong_type_fails_its_messages_and_not_later_ones",
    ],
    "wire-format#outcomes/an-id:-the-entry-is-in": [
        _OUTCOMES + "test_find_written_tells_which_entries_the_server_holds",
        _OUTCOMES + "test_an_awaited_critical_publish_returns_once_the_server_holds_the_entry",
    ],
    "wire-format#outcomes/refused-for-a-passing-reason:-loading": [
        _FAULTS_W + "test_writes_refused_while_the_server_loads_are_sent_again_in_order_once",
        _FAULTS_W + "test_writes_refused_while_a_script_blocks_the_server_are_sent_again_in_order",
        _FAULTS_W + "test_a_refusal_for_now_that_outlasts_its_timeout_fails_the_message",
    ],
    "wire-format#outcomes/refused-for-good:-any-other-error": [
        _FAULTS_W + "test_a_lane_key_of_the_wrong_type_fails_its_messages_and_not_later_ones",
        _FAULTS_W + "test_memory_filling_mid_batch_fails_exactly_the_refused_messages",
        _OUTCOMES + "test_an_awaited_critical_publish_to_a_lane_of_the_wrong_type_raises",
    ],
    "wire-format#outcomes/on-a-new-connection-the-first": [
        _FAULTS_W + "test_server_killed_during_publishing_loses_duplicates_and_reorders_nothing",
        _FAULTS_W + "test_server_shut_down_during_publishing_loses_duplicates_and_reorders_nothing",
    ],
    "wire-format#outcomes/known-gap:-a-refusal-that-begins": [
        _FAULTS_W + "test_a_refusal_that_begins_and_ends_inside_one_batch_is_counted_out_of_order",
        _FAULTS_W + "test_writes_refused_while_the_server_loads_are_sent_again_in_order_once",
    ],
    "wire-format#sequences-and-lost-replies/each-publisher-instance-writes-pi-its": [
        _OUTCOMES + "test_entries_carry_the_producer_instance_and_a_sequence_per_lane",
        _FAULTS_W + "test_server_killed_during_publishing_loses_duplicates_and_reorders_nothing",
    ],
    "wire-format#durability/urgent-and-critical:-await-publish-...": [
        _OUTCOMES + "test_an_awaited_critical_publish_returns_once_the_server_holds_the_entry",
        _OUTCOMES + "test_an_awaited_critical_publish_to_a_lane_of_the_wrong_type_raises",
    ],
    "wire-format#durability/low-normal-and-high:-await-publish": [
        _REDIS + "test_messages_buffered_during_an_outage_are_delivered_after_restart",
        _OUTCOMES + "test_refused_nowait_publishes_reach_the_hook_the_counter_and_flush",
    ],
    "wire-format#durability/any-message:-publish-...-wait_landed-true": [
        _OUTCOMES + "test_wait_landed_returns_once_the_server_holds_a_bulk_message",
        _OUTCOMES + "test_wait_landed_raises_when_the_server_refuses_a_bulk_message",
    ],
    "wire-format#durability/publish_nowait-returns-once-buffered-at-any": [
        _REDIS + "test_nowait_publishes_are_written_in_order_by_flush",
        _OUTCOMES + "test_refused_nowait_publishes_reach_the_hook_the_counter_and_flush",
    ],
    "wire-format#durability/begin_publish-what-the-generated-clients-publish_<type>": [
        _OUTCOMES + "test_begin_publish_gives_nothing_to_await_for_a_buffered_message",
        _OUTCOMES + "test_begin_publish_without_room_gives_the_wait_for_room_to_await",
    ],
    "wire-format#durability/a-producer-process-that-crashes-loses": [
        _OUTCOMES + "test_close_raises_for_refused_messages_not_yet_reported",
        _REDIS + "test_messages_buffered_during_an_outage_are_delivered_after_restart",
    ],
    "wire-format#fingerprint/the-fingerprint-identifies-one-version-of": [
        "tests/contract/test_released_fingerprints.py::"
        "test_the_released_schema_still_has_its_released_fingerprint",
        "tests/contract/test_fingerprint.py::test_wire_or_json_relevant_changes_give_a_new_fingerprint",
        _DEAD + "test_each_reason_is_written_with_the_same_layout",
    ],
    "wire-format#reading-an-entry/v-missing-dead-letter-undecodable-v-other": [
        _DEAD + "test_an_undecodable_entry_is_kept_whole_with_the_dl_fields_after_it",
        _DEAD + "test_each_reason_is_written_with_the_same_layout",
    ],
    "wire-format#reading-an-entry/any-required-field-missing-ts-not": [
        _DEAD + "test_each_reason_is_written_with_the_same_layout",
        _WIRE_UNIT + "test_malformed_entries_are_rejected_with_a_reason",
        _WIRE_UNIT + "test_non_numeric_timestamp_is_undecodable",
    ],
    "wire-format#reading-an-entry/routing:-t-must-be-routed-on": [
        _READING + "test_an_entry_from_another_producer_is_dead_lettered_misrouted",
        _READING + "test_a_type_routed_on_another_stream_is_dead_lettered_misrouted",
        _DEAD + "test_each_reason_is_written_with_the_same_layout",
    ],
    "wire-format#reading-an-entry/a-routed-type-the-reader-does": [
        _READING + "test_a_registry_backed_consumer_skips_a_type_it_does_not_handle",
        _ENTRIES + "test_a_group_reads_the_whole_lane_and_acknowledges_types_it_does_not_handle",
    ],
    "wire-format#reading-an-entry/a-handled-type-whose-fingerprint-the": [
        _READING + "test_a_fingerprint_registered_for_another_type_is_a_mismatch",
        _DEAD + "test_each_reason_is_written_with_the_same_layout",
        _REGISTRY_BUS + "test_an_entry_forged_with_an_incompatible_fingerprint_is_dead_lettered",
    ],
    "wire-format#reading-an-entry/p-not-a-valid-encoding-of": [
        _DEAD + "test_each_reason_is_written_with_the_same_layout",
    ],
    "wire-format#reading-an-entry/otherwise-hand-the-message-to-the": [
        _ENTRIES + "test_a_reader_accepts_fields_in_any_order_and_ignores_unknown_ones",
        _DEAD + "test_a_long_detail_is_cut_to_4096_bytes_of_valid_utf8",
    ],
    "wire-format#dead-letter-entries/written-with-xadd-<stream>-:dead-letter-...": [
        _DEAD + "test_an_undecodable_entry_is_kept_whole_with_the_dl_fields_after_it",
        _DEAD + "test_the_original_entry_is_acknowledged_after_it_is_moved",
    ],
    "wire-format#dead-letter-entries/dl.reason": [
        _DEAD + "test_each_reason_is_written_with_the_same_layout",
    ],
    "wire-format#dead-letter-entries/dl.detail": [
        _DEAD + "test_a_long_detail_is_cut_to_4096_bytes_of_valid_utf8",
    ],
    "wire-format#dead-letter-entries/dl.id": [
        _DEAD + "test_an_undecodable_entry_is_kept_whole_with_the_dl_fields_after_it",
    ],
    "wire-format#dead-letter-entries/dl.lane": [
        _DEAD + "test_an_undecodable_entry_is_kept_whole_with_the_dl_fields_after_it",
    ],
    "wire-format#dead-letter-entries/dl.group": [
        _DEAD + "test_an_undecodable_entry_is_kept_whole_with_the_dl_fields_after_it",
    ],
    "wire-format#dead-letter-entries/dl.consumer": [
        _DEAD + "test_an_undecodable_entry_is_kept_whole_with_the_dl_fields_after_it",
    ],
    "wire-format#dead-letter-entries/dl.deliveries": [
        _DEAD + "test_an_undecodable_entry_is_kept_whole_with_the_dl_fields_after_it",
    ],
    "wire-format#dead-letter-entries/dl.ts": [
        _DEAD + "test_an_undecodable_entry_is_kept_whole_with_the_dl_fields_after_it",
    ],
    "wire-format#dead-letter-entries/original-fields-whose-names-start-with": [
        _DEAD + "test_an_undecodable_entry_is_kept_whole_with_the_dl_fields_after_it",
        _DEAD + "test_a_long_detail_is_cut_to_4096_bytes_of_valid_utf8",
    ],
    "wire-format#trimming/producers-trim-the-lanes-they-write": [
        _TRIM + "test_the_periodic_trim_of_a_producer_runs_without_being_asked",
        _WIRE_UNIT + "test_config_defaults_come_from_the_engine",
    ],
    "wire-format#trimming/bound-cut.-with-trim_max_len-default-1": [
        _TRIM + "test_the_bound_cut_is_the_stricter_of_length_and_age",
        _TRIM + "test_a_producer_trims_by_its_configured_age",
    ],
    "wire-format#trimming/safety-floor.-for-each-consumer-group": [
        _CONTRACT + "test_safe_trim_keeps_entries_a_group_has_not_received",
        _CONTRACT + "test_safe_trim_keeps_entries_pending_in_a_group",
    ],
    "wire-format#trimming/entries-below-min-cut-floor-are": [
        _TRIM + "test_the_bound_cut_is_the_stricter_of_length_and_age",
        _OPS + "test_trim.py::test_trim_keeps_what_is_pending_in_a_group",
    ],
    "wire-format#trimming/so-trimming-never-deletes-an-entry": [
        _OPS + "test_trim.py::test_trim_keeps_what_a_group_has_not_received",
        _TRIM + "test_the_bound_cut_is_the_stricter_of_length_and_age",
    ],
    "wire-format#trimming/the-group-state-is-read-with": [
        _TRIM_LOOP + "test_group_states_survive_a_pending_list_emptied_by_concurrent_acks",
    ],
    "wire-format#trimming/trimming-never-stops:-whatever-a-periodic": [
        _TRIM_LOOP + "test_the_trim_loop_counts_any_error_and_keeps_trimming",
        _TRIM_LOOP + "test_a_producer_keeps_trimming_after_its_lane_was_unreadable",
    ],
    "wire-format#trimming/consumer-groups-are-part-of-the": [
        _ENTRIES + "test_a_producer_declares_a_group_per_routed_engine_on_both_lanes",
        _CONTRACT + "test_groups_declared_by_the_producer_keep_entries_for_engines_not_yet_started",
    ],
    _BE + "a-route-may-declare-delivery:-delivery_best_effort": [
        "tests/contract/test_routing_matrix.py::"
        "test_market_data_is_best_effort_except_trades_for_the_engines_that_accumulate_them",
        _BEST_EFFORT + "test_a_best_effort_group_reads_without_pending_entries",
    ],
    _BE + "a-group-reads-a-stream-s": [
        _BEST_EFFORT + "test_a_best_effort_group_reads_without_pending_entries",
        _BEST_EFFORT + "test_a_group_that_gets_trades_at_least_once_keeps_its_batch_pending",
    ],
    _BE + "entries-read-with-noack-never-enter": [
        _BEST_EFFORT + "test_a_best_effort_group_reads_without_pending_entries",
        _BEST_EFFORT + "test_a_failing_quote_handler_dead_letters_the_quote_at_once",
    ],
    _BE + "the-priority-lane-and-the-group": [
        _BEST_EFFORT + "test_a_critical_quote_on_the_priority_lane_is_delivered_at_least_once",
    ],
    _BE + "the-trade-off:-a-consumer-that-dies": [
        _BEST_EFFORT + "test_a_killed_best_effort_consumer_loses_at_most_its_batch_in_flight",
    ],
    _BE + "in-the-contract:-quote-is-best": [
        "tests/contract/test_routing_matrix.py::"
        "test_market_data_is_best_effort_except_trades_for_the_engines_that_accumulate_them",
        _BEST_EFFORT + "test_a_group_that_gets_trades_at_least_once_keeps_its_batch_pending",
    ],
    _BE + "changing-a-route-s-delivery-keeps": [
        "tests/schema/test_compat_testdata.py::test_case_verdict",
    ],
    "wire-format#delivery-guarantees-a-client-must-keep/at-least-once-unless-best-effort": [
        _REDIS + "test_pending_entries_of_a_killed_consumer_are_handled_by_another",
        _REDIS + "test_messages_buffered_during_an_outage_are_delivered_after_restart",
    ],
    "wire-format#delivery-guarantees-a-client-must-keep/order-within-a-lane-from-one": [
        _CONTRACT + "test_messages_within_a_lane_arrive_in_publish_order",
        _REDIS + "test_critical_message_overtakes_a_bulk_backlog_of_100k",
    ],
    "wire-format#delivery-guarantees-a-client-must-keep/no-silent-drops.-producers-hold-a": [
        _REDIS + "test_publisher_raises_backpressure_while_redis_is_down",
        _REDIS + "test_blocking_backpressure_waits_then_raises",
        _CONTRACT + "test_bad_entries_go_to_dead_letter_and_the_consumer_keeps_going",
    ],
    "wire-format#delivery-guarantees-a-client-must-keep/timestamps-ts-dl.ts-come-from-the": [
        _ENTRIES + "test_an_entry_has_the_documented_fields_in_the_documented_order",
        _DEAD + "test_an_undecodable_entry_is_kept_whole_with_the_dl_fields_after_it",
        "tests/engines_e2e/test_backtest_is_reproducible.py::"
        "test_two_backtests_of_a_scenario_write_byte_identical_reports",
    ],
    # docs/operations.md
    "operations#intro/the-nautilus-command-shows-and-repairs": [
        _READ_ONLY + "test_a_read_only_command_leaves_the_keyspace_unchanged",
    ],
    "operations#which-server/every-command-that-talks-to-the": [
        _PRECEDENCE + "test_the_flag_wins_over_the_environment_and_the_url_file",
        _PRECEDENCE + "test_the_environment_wins_over_the_url_file",
    ],
    "operations#which-server/--redis-url-redis:-:password-host:port-db": [
        _PRECEDENCE + "test_the_flag_wins_over_the_environment_and_the_url_file",
        _PRECEDENCE + "test_the_winning_source_is_the_one_tried_and_its_password_is_hidden",
    ],
    "operations#which-server/the-redis_url-environment-variable-what-the": [
        _PRECEDENCE + "test_the_environment_wins_over_the_url_file",
        _ERRORS + "test_redis_url_from_the_environment_is_used",
    ],
    "operations#which-server/the-operator-s-url-in-.nautilus": [
        "tests/security/test_up_least_privilege.py::"
        "test_operator_commands_find_the_operator_credentials",
        _PRECEDENCE + "test_the_url_file_is_used_when_nothing_else_is_given",
        _ERRORS + "test_the_url_file_written_by_nautilus_up_is_the_last_resort",
    ],
    "operations#which-server/with-none-of-them-a-command": [
        _ERRORS + "test_without_any_server_the_error_says_how_to_give_one",
        _ERRORS + "test_passwords_are_not_printed",
        _PRECEDENCE + "test_the_winning_source_is_the_one_tried_and_its_password_is_hidden",
    ],
    "operations#which-server/exit-status-of-every-server-command:": [
        _ERRORS + "test_a_stopped_server_is_reported_with_its_url",
        _ERRORS + "test_a_malformed_url_is_a_one_line_usage_error",
        _PRECEDENCE + "test_the_winning_source_is_the_one_tried_and_its_password_is_hidden",
    ],
    "operations#which-server/stream-is-a-route-stream-of": [
        _ERRORS + "test_unknown_stream_lists_the_contracts_streams",
        _OPS + "test_tail.py::test_tail_of_a_priority_lane_key_reads_only_that_lane",
    ],
    "operations#commands/nautilus tail": [
        _OPS + "test_tail.py::test_tail_prints_the_last_entries_decoded",
        _OPS + "test_tail.py::test_tail_text_shows_envelope_and_proto3_json",
    ],
    "operations#commands/nautilus stats": [
        "tests/operator/test_stats.py::test_pending_and_lag_match_what_a_group_consumed",
        "tests/operator/test_stats.py::"
        "test_entries_per_second_is_the_growth_of_each_lane_over_the_interval",
    ],
    "operations#commands/nautilus dlq list": [
        _DLQ + "test_list_shows_type_reason_detail_and_group",
        _DLQ + "test_list_filters_by_reason",
    ],
    "operations#commands/nautilus dlq show": [
        _DLQ + "test_show_decodes_the_original_message",
        _DLQ_RAW + "test_show_prints_the_payload_in_hex",
    ],
    "operations#commands/nautilus dlq replay": [
        _DLQ + "test_replay_by_id_moves_only_that_letter",
        _DLQ_RAW
        + "test_replay_by_reason_moves_only_letters_of_that_reason_to_their_groups_retry_lane",
    ],
    "operations#commands/nautilus publish": [
        _PUBLISH_CLI + "test_a_published_message_reaches_its_consumers_as_the_producers",
        _PUBLISH_CLI + "test_a_lower_priority_goes_to_the_bulk_lane",
        _PUBLISH_CLI + "test_publishing_as_another_engine_is_refused",
        _PUBLISH_CLI + "test_json_that_is_not_the_type_is_one_line",
    ],
    "operations#commands/nautilus group list": [
        _GROUP_CLI + "test_list_tells_engine_groups_from_observer_groups",
    ],
    "operations#commands/nautilus group setid": [
        _GROUP_CLI + "test_setid_to_the_end_skips_an_observers_backlog",
    ],
    "operations#commands/nautilus group delconsumer": [
        _GROUP_CLI + "test_a_consumer_with_pending_entries_is_kept_unless_forced",
    ],
    "operations#commands/nautilus group destroy": [
        _GROUP_CLI + "test_an_engine_group_is_not_destroyed_without_force",
        _GROUP_CLI + "test_a_departed_observer_holds_trim_back_until_its_group_is_destroyed",
    ],
    "operations#commands/nautilus dlq purge": [
        _DLQ + "test_purge_without_yes_deletes_nothing",
        _DLQ_RAW + "test_purge_by_id_deletes_only_that_letter",
        _DLQ_RAW + "test_purge_by_reason_deletes_only_letters_of_that_reason",
    ],
    "operations#commands/nautilus schema list": [
        _SCHEMA_CLI + "test_list_shows_every_contract_type_unregistered_at_first",
    ],
    "operations#commands/nautilus schema show": [
        _SCHEMA_CLI + "test_show_lists_versions_with_producer_and_contract_marker",
        _SCHEMA_CLI + "test_show_with_fingerprint_prints_that_versions_fields",
    ],
    "operations#commands/nautilus schema register": [
        _SCHEMA_CLI + "test_register_refuses_an_incompatible_schema_with_its_violations",
        _OPS + "test_schema_register_options.py::"
        "test_register_all_registers_every_bus_type_of_the_contract",
        _OPS + "test_schema_register_options.py::"
        "test_a_renamed_field_passes_at_wire_level_but_not_at_wire_json",
    ],
    "operations#commands/nautilus schema compat": [
        "tests/schema/test_schema_cli.py",
        "tests/cli/test_json_reports.py::test_schema_compat_json_gives_the_verdict_and_each_violation",
    ],
    "operations#commands/nautilus contract": [
        "tests/cli/test_json_reports.py::test_contract_json_lists_each_stream_with_its_routes",
    ],
    "operations#commands/tail---observer-name:-a-durable-tail.": [
        "tests/cli/test_tail_observer.py",
        "tests/security/test_observer_identity.py::"
        "test_nautilus_tail_as_observer_resumes_on_a_server_with_the_generated_acl",
    ],
    "operations#commands/nautilus trim": [
        _OPS + "test_trim.py::test_trim_keeps_what_a_group_has_not_received",
        _OPS + "test_trim.py::test_trim_by_age_deletes_only_older_entries",
        _OPS + "test_trim.py::test_dry_run_reports_and_deletes_nothing",
    ],
    "operations#commands/nautilus acl": [
        "tests/security/test_acl_file.py::test_the_default_user_is_off",
        "tests/security/test_acl_file.py::"
        "test_the_operator_reads_trims_and_purges_but_has_no_registry_writes",
        "tests/security/test_acl_file.py::test_acl_with_passwords_writes_private_files_and_only_hashes",
    ],
    "operations#commands/nautilus codegen": [
        _OPS + "test_codegen_and_smoke.py::test_codegen_check_passes_on_the_committed_output",
    ],
    "operations#commands/tail:-without---group-the-last---count": [
        _OPS + "test_tail.py::test_tail_merges_both_lanes_in_id_order",
        _OPS + "test_tail.py::test_tail_group_shows_pending_then_undelivered",
        _OPS + "test_tail.py::test_tail_follow_prints_entries_published_after_it_started",
        _OPS + "test_tail.py::test_tail_decodes_an_entry_written_with_an_older_registered_schema",
    ],
    "operations#commands/stats:-pending-delivered-and-not-acknowledged": [
        "tests/operator/test_stats.py::test_pending_and_lag_match_what_a_group_consumed",
        "tests/operator/test_stats.py::"
        "test_entries_per_second_is_the_growth_of_each_lane_over_the_interval",
        "tests/operator/test_stats.py::test_dead_letters_are_counted_per_stream_and_group",
    ],
    "operations#commands/dlq-replay-gives-each-dead-letter": [
        _DLQ + "test_replay_keeps_the_original_fields",
        _REPLAY + "test_each_group_gets_back_only_its_own_dead_letters",
        _REPLAY + "test_replaying_again_delivers_nothing_more",
        _REPLAY + "test_a_second_dead_letter_of_a_replayed_entry_is_removed_not_replayed",
        _DLQ_RAW + "test_a_replayed_letter_that_fails_again_is_dead_lettered_from_the_retry_lane",
    ],
    "operations#commands/trim-uses-runtime-trim.py-s-safe_trim": [
        _OPS + "test_trim.py::test_trim_keeps_what_is_pending_in_a_group",
        _OPS + "test_trim.py::test_trim_keeps_what_a_group_has_not_received",
    ],
    "operations#observers/a-script-notebook-or-screen-that": [
        _OBSERVER + "test_an_observer_consumes_through_a_group_of_its_own",
        _OBSERVER + "test_an_observer_cannot_publish",
        _OBSERVER + "test_an_observer_declares_no_engine_groups",
        _OBSERVER + "test_an_observer_sees_every_entry_an_engine_group_also_gets",
        "tests/observers/test_readme_observer.py::test_the_readme_observer_takes_nothing_from_risk",
        "tests/observers/test_observer_resumes.py::"
        "test_an_observer_starts_at_the_oldest_entry_and_resumes_where_it_stopped",
        _GROUP_CLI + "test_a_departed_observer_holds_trim_back_until_its_group_is_destroyed",
        _GROUP_CLI + "test_setid_to_the_end_skips_an_observers_backlog",
    ],
    "operations#metrics-and-health/serve_http-runs-on-the-engine-s": [
        _METRICS + "test_published_and_consumed_counts_match_the_traffic",
        _METRICS + "test_latency_histograms_count_every_handled_message",
    ],
    "operations#metrics-and-health/nautilus_bus_published_total": [
        _METRICS + "test_published_and_consumed_counts_match_the_traffic",
    ],
    "operations#metrics-and-health/nautilus_bus_publish_failures_total": [
        _FAULTS + "test_failed_batch_writes_are_counted_and_retried",
    ],
    "operations#metrics-and-health/nautilus_bus_publish_rejected_total": [
        _OUTCOMES + "test_refused_nowait_publishes_reach_the_hook_the_counter_and_flush",
    ],
    "operations#metrics-and-health/nautilus_bus_backpressure_events_total": [
        _FAULTS + "test_refused_publishes_are_counted_as_backpressure",
    ],
    "operations#metrics-and-health/nautilus_bus_buffer_depth": [
        _METRICS + "test_buffer_depth_shows_unsent_messages",
    ],
    "operations#metrics-and-health/nautilus_bus_consumed_total": [
        _METRICS + "test_published_and_consumed_counts_match_the_traffic",
    ],
    "operations#metrics-and-health/nautilus_bus_handler_failures_total": [
        _METRICS + "test_dead_letters_are_counted_by_reason",
    ],
    "operations#metrics-and-health/nautilus_bus_consumer_restarts_total": [
        _FAULTS + "test_a_consume_cycle_ended_by_an_unexpected_error_is_counted_and_started_again",
    ],
    "operations#metrics-and-health/nautilus_bus_ignored_total": [
        _FAULTS + "test_entries_of_types_not_handled_are_counted_as_ignored_and_acked",
    ],
    "operations#metrics-and-health/nautilus_bus_acked_total": [
        _FAULTS + "test_entries_of_types_not_handled_are_counted_as_ignored_and_acked",
    ],
    "operations#metrics-and-health/nautilus_bus_reclaimed_total": [
        _METRICS + "test_reclaimed_entries_are_counted",
    ],
    "operations#metrics-and-health/nautilus_bus_trim_failures_total": [
        _TRIM_LOOP + "test_the_trim_loop_counts_any_error_and_keeps_trimming",
    ],
    "operations#metrics-and-health/nautilus_bus_dead_lettered_total": [
        _METRICS + "test_dead_letters_are_counted_by_reason",
    ],
    "operations#metrics-and-health/nautilus_bus_handler_seconds": [
        _METRICS + "test_latency_histograms_count_every_handled_message",
    ],
    "operations#metrics-and-health/nautilus_bus_end_to_end_seconds": [
        _METRICS + "test_latency_histograms_count_every_handled_message",
    ],
    "operations#metrics-and-health/get-health-answers-json:-engine-status": [
        _METRICS + "test_health_reports_pending_and_lag_of_consumed_lanes",
        _METRICS + "test_health_check_of_the_engine_can_mark_it_unhealthy",
        _FAULTS + "test_health_is_503_unreachable_with_the_error_when_the_server_is_down",
    ],
}

#: Promises known to have no test yet, each with what is missing: listed so that the gap is
#: reviewed, never silent. Keep this empty.
KNOWN_GAPS: dict[str, str] = {}

NOT_PROMISES: dict[str, str] = {
    "wire-format#intro/this-page-is-the-contract-for": "introduction of the page",
    "wire-format#streams-and-lanes/example:-nautilus-vpin-streams-nautilus-vpin-streams-:urgent": (
        "an example of the table above it"
    ),
    "wire-format#entry-fields/example-a-normal-quote-:": "an example of the table above it",
    "operations#commands/notes-on-what-the-numbers-mean:": "heading of the notes that follow",
    "operations#commands/the-logic-behind-the-commands-is": (
        "names the runtime functions the commands use; the commands' tests exercise them"
    ),
    "operations#metrics-and-health/an-engine-serves-both-on-its": "introduces the code example",
}
