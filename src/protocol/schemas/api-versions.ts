/**
 * ApiVersions (key 18), versions 0-4. Flexible from v3.
 *
 * v0      request empty; response error_code, api_keys[{api_key, min_version, max_version}]
 * v1      response + throttle_time_ms
 * v2      same as v1 (throttling happens after the response)
 * v3      flexible; request + client_software_name, client_software_version (KIP-511); response
 *         + tagged fields 0 supported_features, 1 finalized_features_epoch, 2 finalized_features,
 *         3 zk_migration_ready (all optional: omitted on encode unless given, decoded if present)
 * v4      same layout as v3 (KAFKA-17011 lets a supported feature's min version be 0)
 *
 * Two header rules live elsewhere (headers.ts): the response ALWAYS has response header v0, even
 * when the body is flexible; and a request above the supported version gets the KIP-511 fallback,
 * a v0 body with UNSUPPORTED_VERSION (encodeApiVersionsFallback in frames.ts).
 */
import { array, bool, defineApi, int16, int32, int64, string } from '../schema.js';
import type { Req, ReqInput, Res, ResInput } from '../schema.js';

export const apiVersionsApi = defineApi({
  apiKey: 18,
  name: 'ApiVersions',
  minVersion: 0,
  maxVersion: 4,
  flexibleFrom: 3,
  request: [string('clientSoftwareName', { since: 3 }), string('clientSoftwareVersion', { since: 3 })],
  response: [
    int16('errorCode'),
    array('apiKeys', [int16('apiKey'), int16('minVersion'), int16('maxVersion')]),
    int32('throttleTimeMs', { since: 1 }),
    array('supportedFeatures', [string('name'), int16('minVersion'), int16('maxVersion')], { since: 3, tag: 0 }),
    int64('finalizedFeaturesEpoch', { since: 3, tag: 1, default: -1n }),
    array('finalizedFeatures', [string('name'), int16('maxVersionLevel'), int16('minVersionLevel')], {
      since: 3,
      tag: 2,
    }),
    bool('zkMigrationReady', { since: 3, tag: 3, default: false }),
  ],
});

export type ApiVersionsRequest = Req<typeof apiVersionsApi>;
export type ApiVersionsRequestInput = ReqInput<typeof apiVersionsApi>;
export type ApiVersionsResponse = Res<typeof apiVersionsApi>;
export type ApiVersionsResponseInput = ResInput<typeof apiVersionsApi>;
