/**
 * DescribeAcls (key 29), CreateAcls (key 30), DeleteAcls (key 31), v0-3.
 *
 * Brook has no authorizer (no SASL, no ACLs), and answers these as a Kafka broker without
 * `authorizer.class.name` does: SECURITY_DISABLED, for the whole DescribeAcls response and for each
 * creation and each deletion filter, with Kafka's messages. Admin tools (kafka-ui, AKHQ, kafkajs's
 * and platformatic's describeAcls) read that as "ACLs are off" rather than failing on an API the
 * broker does not list.
 */
import { ErrorCode } from '../../protocol/error-codes.js';
import { createAclsApi, deleteAclsApi, describeAclsApi } from '../../protocol/schemas/acls.js';
import { defineHandler } from '../handler.js';

export const describeAclsHandler = defineHandler({
  api: describeAclsApi,
  minVersion: 0,
  maxVersion: 3,
  handle() {
    return { throttleTimeMs: 0, errorCode: ErrorCode.SECURITY_DISABLED, errorMessage: 'No Authorizer is configured on the broker', resources: [] };
  },
});

const NO_AUTHORIZER = 'No Authorizer is configured.';

export const createAclsHandler = defineHandler({
  api: createAclsApi,
  minVersion: 0,
  maxVersion: 3,
  handle(req) {
    return { throttleTimeMs: 0, results: req.creations.map(() => ({ errorCode: ErrorCode.SECURITY_DISABLED, errorMessage: NO_AUTHORIZER })) };
  },
});

export const deleteAclsHandler = defineHandler({
  api: deleteAclsApi,
  minVersion: 0,
  maxVersion: 3,
  handle(req) {
    return {
      throttleTimeMs: 0,
      filterResults: req.filters.map(() => ({ errorCode: ErrorCode.SECURITY_DISABLED, errorMessage: NO_AUTHORIZER, matchingAcls: [] })),
    };
  },
});
