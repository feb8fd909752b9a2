/**
 * ApiVersions (key 18), v0-3.
 * Lists exactly the versions each handler serves. A request above v3 never reaches here: the
 * dispatcher answers it KIP-511 style. v3 client_software_name/version are accepted as sent (Kafka
 * validates their characters; accepting is what kfake does and no client depends on the refusal).
 * Not implemented: supported/finalized features (tagged fields, omitted).
 */
import { apiVersionsApi } from '../../protocol/schemas/api-versions.js';
import { defineHandler } from '../handler.js';

export const apiVersionsHandler = defineHandler({
  api: apiVersionsApi,
  minVersion: 0,
  maxVersion: 3,
  handle(_req, ctx) {
    return { errorCode: 0, apiKeys: ctx.apis.map((a) => ({ ...a })), throttleTimeMs: 0 };
  },
});
