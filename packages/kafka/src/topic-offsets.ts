import { Admin } from 'kafkajs';

// Right after a topic is created, a partition's leader may not be known to every
// broker yet; kafkajs retries ListOffsets only for UNKNOWN_TOPIC_OR_PARTITION.
const NOT_READY = new Set(['NOT_LEADER_FOR_PARTITION', 'NOT_LEADER_OR_FOLLOWER', 'LEADER_NOT_AVAILABLE', 'UNKNOWN_TOPIC_OR_PARTITION']);

/** `admin.fetchTopicOffsets`, retried while the topic's partitions have no leader yet (about 5 s at most). */
export async function fetchTopicOffsets(admin: Admin, topic: string): ReturnType<Admin['fetchTopicOffsets']> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await admin.fetchTopicOffsets(topic);
    } catch (error) {
      const cause = error as { type?: string; originalError?: { type?: string } };
      const type = cause.type ?? cause.originalError?.type;
      if (attempt >= 25 || !type || !NOT_READY.has(type)) throw error;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}
