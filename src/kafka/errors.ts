/**
 * Errors of the Kafka client (src/kafka/). Each names what failed in one line, so the CLI can print
 * `e.message` as is.
 */
import { errorName, isRetriable } from '../protocol/error-codes.js';

/** A broker answered with a non-zero error code. `errorName` is Kafka's name, e.g. UNKNOWN_TOPIC_OR_PARTITION. */
export class KafkaResponseError extends Error {
  readonly errorName: string;
  readonly retriable: boolean;
  constructor(
    readonly code: number,
    context: string,
    detail?: string | null,
  ) {
    const name = errorName(code);
    super(`${context}: ${name}${detail ? ` (${detail})` : ''}`);
    this.errorName = name;
    this.retriable = isRetriable(code);
  }
}

/** The connection failed or closed before the answer came; the request may or may not have been applied. */
export class ConnectionError extends Error {}

/** No answer within the request timeout (the connection is closed, as Kafka clients do). */
export class RequestTimeoutError extends Error {}

/** Throws KafkaResponseError when `code` is not 0. */
export function check(code: number, context: string, detail?: string | null): void {
  if (code !== 0) throw new KafkaResponseError(code, context, detail);
}
