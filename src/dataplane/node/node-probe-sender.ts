/**
 * @module node-probe-sender: the health probes the Node gateway sends on its own (`/status`, the remote deployer's
 * periodic check), sent like the data plane's requests: over the keep-alive agents whose DNS lookup refuses
 * blocked addresses, after the same verdict on a literal address. A registered name that resolves to 0.0.0.0 or
 * 169.254.169.254 is therefore never contacted, and the probe says why.
 */
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import { BLOCKED_ADDRESS_CODE } from '../../deploy/index.js';
import type { ProbeSender } from '../../deploy/index.js';
import type { NodeAgents } from './node-forwarder.js';

function blockedError(message: string): NodeJS.ErrnoException {
  const error: NodeJS.ErrnoException = new Error(message);
  error.code = BLOCKED_ADDRESS_CODE;
  return error;
}

/** A {@link ProbeSender} through `agents` (see the module header). */
export function createNodeProbeSender(
  agents: Pick<NodeAgents, 'http' | 'https' | 'refuseAddress'>,
): ProbeSender {
  return (endpoint, signal) =>
    new Promise<number>((resolve, reject) => {
      const url = new URL(endpoint);
      const secure = url.protocol === 'https:';
      const host = url.hostname.replace(/^\[|\]$/g, '');
      // A literal address skips the lookup, so it is judged here.
      const blocked = isIP(host) ? agents.refuseAddress?.(host) : undefined;
      if (blocked) {
        reject(blockedError(`${host} is ${blocked}`));
        return;
      }
      const send = secure ? httpsRequest : httpRequest;
      const request = send(
        url,
        { method: 'OPTIONS', agent: secure ? agents.https : agents.http, signal },
        (response) => {
          // Only the status matters; the connection is not kept for a body nobody reads.
          response.destroy();
          resolve(response.statusCode ?? 0);
        },
      );
      request.on('error', reject);
      request.end();
    });
}
