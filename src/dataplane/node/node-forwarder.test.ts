import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { Forwarder } from '../forwarder.js';
import { createNodeAgents, createNodeForwarder } from './node-forwarder.js';

const closers: (() => void)[] = [];
afterEach(() => closers.splice(0).forEach((close) => close()));

/** A plain GET of `url` through `forwarder`, passing the upstream's status on. */
const forwardGet = (forwarder: Forwarder, url: string) =>
  forwarder.forward(
    {
      url,
      query: '',
      method: 'GET',
      headers: {},
      body: undefined,
      connectTimeoutMs: 1000,
      idleTimeoutMs: 1000,
    },
    (head) => ({ status: head.status, headers: {} }),
    () => undefined,
  );

/** An upstream answering `ok`, and whether anything reached it. */
async function countingUpstream() {
  let contacted = false;
  const upstream = createServer((_req, res) => {
    contacted = true;
    res.end('ok');
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
  closers.push(() => upstream.close());
  return { port: (upstream.address() as AddressInfo).port, contacted: () => contacted };
}

/** Runs one forward through a real client exchange and returns what the forwarder decided. */
async function forwardOnce(target: string, refuseAddress: (a: string) => string | undefined) {
  const agents = createNodeAgents({ refuseAddress });
  closers.push(() => agents.destroy());
  const front = createServer(async (_incoming, outgoing) => {
    const forwarder = createNodeForwarder(agents, outgoing);
    const outcome = await forwardGet(forwarder, target);
    if (!outcome.ok) outgoing.writeHead(599).end(outcome.message);
  });
  await new Promise<void>((r) => front.listen(0, '127.0.0.1', r));
  closers.push(() => front.close());
  const res = await fetch(`http://127.0.0.1:${(front.address() as AddressInfo).port}/`);
  return { status: res.status, text: await res.text() };
}

describe('the SSRF guard of the Node forwarder', () => {
  it('refuses a host name that resolves to a blocked address, before connecting', async () => {
    const { port, contacted } = await countingUpstream();
    const blockLoopback = (a: string) =>
      a === '127.0.0.1' || a === '::1' ? 'a test-blocked address' : undefined;
    const named = await forwardOnce(`http://localhost:${port}/`, blockLoopback);
    expect(named).toEqual({ status: 599, text: 'localhost resolves to a test-blocked address' });
    const literal = await forwardOnce(`http://127.0.0.1:${port}/`, blockLoopback);
    expect(literal).toEqual({ status: 599, text: '127.0.0.1 is a test-blocked address' });
    expect(contacted()).toBe(false);
    expect(await forwardOnce(`http://127.0.0.1:${port}/`, () => undefined)).toEqual({
      status: 200,
      text: 'ok',
    });
  });
});

describe('the Node forwarder', () => {
  it('sends nothing upstream for a client that left before the forward began', async () => {
    const { port, contacted } = await countingUpstream();
    const agents = createNodeAgents();
    closers.push(() => agents.destroy());
    let outcome: unknown;
    let client: ReturnType<typeof request> | undefined;
    const decided = new Promise<void>((resolve) => {
      const front = createServer((_incoming, outgoing) => {
        // The proxy is still deciding when the client goes away; the forward starts after.
        outgoing.once('close', async () => {
          outcome = await forwardGet(createNodeForwarder(agents, outgoing), `http://127.0.0.1:${port}/`);
          resolve();
        });
        // Only once the request is here: a client gone before it arrived would never reach this handler.
        client?.destroy();
      });
      front.listen(0, '127.0.0.1', () => {
        closers.push(() => front.close());
        client = request({ port: (front.address() as AddressInfo).port, path: '/' });
        client.on('error', () => undefined);
        client.end();
      });
    });
    await decided;
    expect(outcome).toEqual({ ok: false, failure: 'abandoned', message: 'the client went away' });
    await new Promise((r) => setTimeout(r, 100));
    expect(contacted()).toBe(false);
  });
});
