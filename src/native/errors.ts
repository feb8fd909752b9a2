/**
 * The error every native call throws. The addon constructs it (see native/src/napi/errors.h), so a
 * failure always carries a stable string `code` that the broker maps to a Kafka error code in one
 * place; `errno` and `path` are set when the operating system was the cause.
 */
export class BrookNativeError extends Error {
  declare errno?: number;
  declare path?: string;

  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
    this.name = 'BrookNativeError';
  }
}

/**
 * The codes native calls can carry, in the order of native/src/error_codes.h, the one list on the
 * C++ side (what each means is written there). test/native/error-codes.test.ts checks that this
 * list, that header and the codes native/src throws are the same set.
 */
export const NATIVE_ERROR_CODES = [
  'CORRUPT_MESSAGE',
  'INVALID_RECORD',
  'INVALID_TIMESTAMP',
  'MESSAGE_TOO_LARGE',
  'OFFSET_OUT_OF_RANGE',
  'OFFSET_MISMATCH',
  'INVALID_ARGUMENT',
  'UNSUPPORTED_CODEC',
  'CODEC_ERROR',
  'NO_SPACE',
  'IO',
  'CLOSED',
  'CANCELLED',
  'INVARIANT',
  'TEST_CRASH',
] as const;

export type NativeErrorCode = (typeof NATIVE_ERROR_CODES)[number];

export function isNativeError(e: unknown, code?: NativeErrorCode): e is BrookNativeError {
  return e instanceof BrookNativeError && (code === undefined || e.code === code);
}
