/**
 * Thrown when bytes from the wire cannot be decoded: a read past the end of the frame, a negative
 * length where none is allowed, a varint longer than its type, an array count larger than the bytes
 * left. The network layer treats it as a framing error and closes the connection; nothing else in
 * the codec throws on malformed input (Buffer's own RangeError never escapes a Reader).
 *
 * `offset` is the position in the buffer where decoding failed, for logs.
 */
export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';
  readonly offset: number;

  constructor(message: string, offset: number) {
    super(`${message} (at byte ${offset})`);
    this.offset = offset;
  }
}
