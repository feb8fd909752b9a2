/**
 * The one part of the consumer embedded protocol (protocol_type "consumer") a broker reads: the
 * topics in a member's subscription. Kafka's coordinator uses them for OffsetDelete
 * (GROUP_SUBSCRIBED_TO_TOPIC) and to expire offsets of topics a Stable group no longer consumes.
 * Everything else in the subscription and the whole assignment stays opaque bytes.
 *
 *   ConsumerProtocolSubscription (every version starts the same way)
 *     version      int16
 *     topics       int32 count, then int16-length strings
 *     ...          user_data, owned_partitions (v1+), generation_id (v2+), rack_id (v3+)
 */

/** The subscribed topics, or undefined when the bytes are not a consumer subscription. */
export function subscribedTopics(metadata: Buffer): string[] | undefined {
  try {
    if (metadata.length < 6) return undefined;
    const version = metadata.readInt16BE(0);
    if (version < 0) return undefined;
    const count = metadata.readInt32BE(2);
    if (count < 0 || count > metadata.length) return undefined;
    const topics: string[] = [];
    let pos = 6;
    for (let i = 0; i < count; i++) {
      const len = metadata.readInt16BE(pos);
      pos += 2;
      if (len < 0 || pos + len > metadata.length) return undefined;
      topics.push(metadata.toString('utf8', pos, pos + len));
      pos += len;
    }
    return topics;
  } catch {
    return undefined;
  }
}
