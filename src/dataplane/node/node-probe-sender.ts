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
import type { ProbeSender, SseProbeSender } from '../../deploy/index.js';
import type { NodeAgents } from './node-forwarder.js';

function blockedError(message: string): NodeJS.ErrnoException {
  const error: NodeJS.ErrnoException = new Error(message);
  error.code = BLOCKED_ADDRESS_CODE;
  return error;
}

type ProbeAgents = Pick<NodeAgents, 'http' | 'https' | 'refuseAddress'>;

/** A {@link ProbeSender} through `agents` (see the module header). */
export function createNodeProbeSender(agents: ProbeAgents): ProbeSender {
  const send = probeThrough(agents, 'OPTIONS', {});
  return (endpoint, signal) => send(endpoint, signal).then(({ status }) => status);
}

/** A {@link SseProbeSender} through `agents`: `GET` for an event stream, closed at its head. */
export function createNodeSseProbeSender(agents: ProbeAgents): SseProbeSender {
  return probeThrough(agents, 'GET', { accept: 'text/event-stream' });
}

function probeThrough(agents: ProbeAgents, method: string, headers: Record<string, string>) {
  return (endpoint: string, signal: AbortSignal) =>
    new Promise<{ status: number; contentType: string }>((resolve, reject) => {
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
        { method, headers, agent: secure ? agents.https : agents.http, signal },
        (response) => {
          // Only the head matters; the connection is not kept for a body nobody reads (an SSE stream never ends).
          response.destroy();
          const type = response.headers['content-type'];
          resolve({ status: response.statusCode ?? 0, contentType: typeof type === 'string' ? type : '' });
        },
      );
      request.on('error', reject);
      request.end();
    });
}
