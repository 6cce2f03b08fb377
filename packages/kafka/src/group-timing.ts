/**
 * Consumer-group timing shared by command processors and projection runners,
 * so both kinds of worker move their partitions on the same schedule.
 *
 * - `sessionTimeoutMs`: how long the group waits for a silent member (a killed
 *   or frozen process) before moving its partitions. It bounds the window in
 *   which a dead owner's partitions answer nothing. 10 s is above the brokers'
 *   default `group.min.session.timeout.ms` (6 s) and well above Node's longest
 *   ordinary pauses (a major GC of a large heap).
 * - `heartbeatIntervalMs`: how often a member tells the group it lives, and how
 *   soon it learns that a rebalance began. With kafkajs's eager protocol every
 *   member must rejoin before any partition moves, so this bounds how long a
 *   rebalance waits for the living.
 */
export const GROUP_TIMING_DEFAULTS = { sessionTimeoutMs: 10_000, heartbeatIntervalMs: 1_000 } as const;
