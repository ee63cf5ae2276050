/**
 * @module loopback-port: picks free TCP ports on 127.0.0.1 for replicas that serve HTTP themselves. The port is
 * free when picked and handed to the child as `PORT`; another program could take it in between, in which case
 * the replica does not become ready and its restart picks again.
 */
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';

/** Asks the kernel for an unused loopback port. */
export function freeLoopbackPort(): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Hands out ports no other replica of this gateway holds, so two replicas never race for the same one. */
export class PortAllocator {
  readonly #held = new Set<number>();
  readonly #pick: () => Promise<number>;

  constructor(pick: () => Promise<number> = freeLoopbackPort) {
    this.#pick = pick;
  }

  /** A free port, marked held until {@link release}. */
  async acquire(): Promise<number> {
    for (let attempt = 0; attempt < 20; attempt += 1) {
      const port = await this.#pick();
      if (!this.#held.has(port)) {
        this.#held.add(port);
        return port;
      }
    }
    throw new Error('no free loopback port found in 20 attempts');
  }

  release(port: number): void {
    this.#held.delete(port);
  }
}
