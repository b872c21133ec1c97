import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { proxyTrust } from '../common/proxy-trust.js';

/** What a caller's own request id may look like: short, and nothing a log line could be forged with. */
const ACCEPTABLE_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * Fastify's `genReqId`: the caller's `X-Request-Id` when it comes from a proxy that TRUST_PROXY
 * trusts (so one id follows a request through the balancer and into our logs), otherwise a new
 * UUID. A direct client cannot choose the id its request is logged under.
 */
export function requestIdGenerator(
  trustProxy: false | number | string[],
): (request: IncomingMessage) => string {
  const trusted = proxyTrust(trustProxy);
  return (request) => {
    const given = request.headers['x-request-id'];
    const peer = request.socket.remoteAddress;
    if (typeof given === 'string' && ACCEPTABLE_ID.test(given) && peer && trusted(peer, 0)) {
      return given;
    }
    return randomUUID();
  };
}
