/** Every API this broker serves. ApiVersions advertises exactly these handlers' version ranges. */
import type { Handler } from '../handler.js';
import { apiVersionsHandler } from './api-versions.js';
import { fetchHandler } from './fetch.js';
import { initProducerIdHandler } from './init-producer-id.js';
import { listOffsetsHandler } from './list-offsets.js';
import { metadataHandler } from './metadata.js';
import { produceHandler } from './produce.js';

export const HANDLERS: readonly Handler[] = [
  produceHandler,
  fetchHandler,
  listOffsetsHandler,
  metadataHandler,
  apiVersionsHandler,
  initProducerIdHandler,
] as Handler[];
