/**
 * The Kafka wire codec: bytes in, plain objects out, and back. Knows nothing of the broker.
 *
 * Entry points for the network and broker layers are in frames.ts (decodeRequestHeader,
 * decodeRequestBody, encodeResponse, encodeApiVersionsFallback), headers.ts (header versions) and
 * messages.ts (apiSchema: which APIs and versions the codec covers).
 */
export * from './api-keys.js';
export * from './compile.js';
export * from './error-codes.js';
export * from './frames.js';
export * from './headers.js';
export * from './messages.js';
export * from './protocol-error.js';
export * from './reader.js';
export * from './schema.js';
export * from './uuid.js';
export * from './writer.js';
export type * from './schemas/api-versions.js';
export type * from './schemas/fetch.js';
export type * from './schemas/list-offsets.js';
export type * from './schemas/metadata.js';
export type * from './schemas/produce.js';
export { AUTHORIZED_OPERATIONS_OMITTED } from './schemas/metadata.js';
