/**
 * UUIDs (topic IDs) travel as 16 raw bytes. In TypeScript they are lowercase canonical strings,
 * `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`, the shape `crypto.randomUUID()` returns, so a topic ID can
 * be generated, compared and used as a Map key without conversions. Encoding also accepts the 32
 * hex digits without dashes.
 *
 * Kafka's own tools print topic IDs as URL-safe base64 without padding (`Uuid.toString`);
 * `uuidToKafkaString` gives that form for logs and CLI output.
 */

/** The all-zero UUID: Kafka's "no topic ID" (`Uuid.ZERO_UUID`). */
export const ZERO_UUID = '00000000-0000-0000-0000-000000000000';

const DASHED = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const PLAIN = /^[0-9a-fA-F]{32}$/;

export function uuidFromBytes(buf: Buffer, at: number): string {
  const hex = buf.toString('hex', at, at + 16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** Writes the 16 bytes of `uuid` at `at`; throws a TypeError for anything that is not a UUID. */
export function uuidToBytes(uuid: string, buf: Buffer, at: number): void {
  let hex: string;
  if (uuid.length === 36 && DASHED.test(uuid)) hex = uuid.replace(/-/g, '');
  else if (uuid.length === 32 && PLAIN.test(uuid)) hex = uuid;
  else throw new TypeError(`not a UUID: ${JSON.stringify(uuid)}`);
  buf.write(hex, at, 16, 'hex');
}

/** Kafka's display form: URL-safe base64 of the 16 bytes, no padding (22 characters). */
export function uuidToKafkaString(uuid: string): string {
  const bytes = Buffer.alloc(16);
  uuidToBytes(uuid, bytes, 0);
  return bytes.toString('base64url');
}
