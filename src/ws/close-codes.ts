/**
 * WebSocket close codes of the `/ws/v1` gateway (docs/websocket.md, "Close codes") and the reason
 * text that goes with them.
 *
 * A close frame's payload is a 2-byte code plus the reason and must fit a control frame's
 * 125 bytes (RFC 6455 §5.5), so a reason is at most 123 bytes of UTF-8. Anything longer (a cursor,
 * a detailed message) travels in a `closing` or `error` frame before the close.
 */

export const CloseCode = {
  Normal: 1000,
  GoingAway: 1001,
  UnsupportedData: 1003,
  NoCloseFrame: 1006,
  InvalidPayload: 1007,
  InternalError: 1011,
  ProtocolError: 4400,
  Unauthenticated: 4401,
  Forbidden: 4403,
  SessionTakenOver: 4409,
  TooSlow: 4429,
  Overloaded: 4503,
} as const;

export type CloseCodeName = keyof typeof CloseCode;
export type CloseCodeValue = (typeof CloseCode)[CloseCodeName];

/** The reason sent with each code when the caller has nothing more specific to say. */
export const defaultCloseReasons: Readonly<Record<CloseCodeValue, string>> = {
  [CloseCode.Normal]: 'normal closure',
  [CloseCode.GoingAway]: 'shutdown',
  [CloseCode.UnsupportedData]: 'binary frames are not accepted from clients',
  // 1006 is never sent (RFC 6455 §7.4.1 forbids it on the wire); it names what a client observes.
  [CloseCode.NoCloseFrame]: 'connection dropped without a close frame',
  [CloseCode.InvalidPayload]: 'control message is not valid UTF-8',
  [CloseCode.InternalError]: 'internal error',
  [CloseCode.ProtocolError]: 'protocol error',
  [CloseCode.Unauthenticated]: 'unauthenticated',
  [CloseCode.Forbidden]: 'forbidden',
  [CloseCode.SessionTakenOver]: 'session taken over',
  [CloseCode.TooSlow]: 'too slow',
  [CloseCode.Overloaded]: 'overloaded',
};

/** The most UTF-8 bytes a close reason may take: 125 bytes of control payload minus the code. */
export const MAX_CLOSE_REASON_BYTES = 123;

/**
 * `text` cut to at most 123 UTF-8 bytes, at a character boundary (a code point is never split, so
 * the reason stays valid UTF-8, which RFC 6455 requires and browsers enforce by failing the
 * connection with 1007).
 */
export function closeReason(text: string): string {
  // Each UTF-16 unit is at most 3 UTF-8 bytes, so short strings need no measuring.
  if (text.length * 3 <= MAX_CLOSE_REASON_BYTES) return text;
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length <= MAX_CLOSE_REASON_BYTES) return text;
  let end = MAX_CLOSE_REASON_BYTES;
  // Back up over continuation bytes (10xxxxxx) to the lead byte of the character that crosses
  // the limit; cutting before that lead byte drops the whole character.
  while (end > 0 && (bytes[end]! & 0xc0) === 0x80) end--;
  return bytes.toString('utf8', 0, end);
}
