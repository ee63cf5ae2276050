/**
 * @module mcp-clients: SDK clients of both lines connected to an MCP URL, for tests of the tool router —
 * the 1.x `Client` speaks 2025-11-25 (legacy, with its standalone GET stream), the 2.x `Client` is pinned to
 * 2026-07-28 (modern, `subscriptions/listen`). Both report `tools/list_changed`.
 */
import { Client as LegacyClient } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as LegacyTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import {
  Client as ModernClient,
  StreamableHTTPClientTransport as ModernTransport,
} from '@modelcontextprotocol/client';

/** What a test needs of either client. */
export interface TestMcpClient {
  readonly era: 'legacy' | 'modern';
  /** One `tools/list` page. */
  listPage(cursor?: string): Promise<{ tools: { name: string }[]; nextCursor?: string }>;
  /** Every page, following cursors; also returns how many pages there were. */
  listAll(): Promise<{ names: string[]; pages: number }>;
  /** A raw `tools/call` (no client-side output validation), with optional progress. */
  call(
    name: string,
    args?: Record<string, unknown>,
    onProgress?: (progress: { progress: number; total?: number }) => void,
  ): Promise<Record<string, unknown>>;
  /** How many `notifications/tools/list_changed` arrived. */
  readonly changes: number;
  /** Resolves at the next `list_changed` (rejects after `timeoutMs`). */
  nextChange(timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

/** Options for the connect helpers. */
export interface TestClientOptions {
  /** Extra request headers (a bearer token, dev identity headers). */
  readonly headers?: Record<string, string>;
}

function changeTracker() {
  let count = 0;
  let waiters: (() => void)[] = [];
  return {
    get count() {
      return count;
    },
    fire() {
      count++;
      const current = waiters;
      waiters = [];
      for (const w of current) w();
    },
    next(timeoutMs: number) {
      return new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`no tools/list_changed within ${timeoutMs} ms`)),
          timeoutMs,
        );
        waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    },
  };
}

async function listAll(client: Pick<TestMcpClient, 'listPage'>) {
  const names: string[] = [];
  let cursor: string | undefined;
  let pages = 0;
  do {
    const page = await client.listPage(cursor);
    pages++;
    names.push(...page.tools.map((t) => t.name));
    cursor = page.nextCursor;
  } while (cursor !== undefined && pages < 10_000);
  return { names, pages };
}

/** A 1.x SDK client (2025-11-25) on `url`. */
export async function connectLegacyClient(
  url: string,
  options: TestClientOptions = {},
): Promise<TestMcpClient> {
  const changes = changeTracker();
  const client = new LegacyClient({ name: 'tool-router-test-legacy', version: '1.0.0' });
  client.setNotificationHandler(ToolListChangedNotificationSchema, () => changes.fire());
  const transport = new LegacyTransport(new URL(url), { requestInit: { headers: options.headers ?? {} } });
  await client.connect(transport);
  const self: TestMcpClient = {
    era: 'legacy',
    listPage: (cursor) => client.listTools(cursor === undefined ? undefined : { cursor }),
    listAll: () => listAll(self),
    async call(name, args, onProgress) {
      const result = await client.callTool({ name, arguments: args ?? {} }, undefined, {
        ...(onProgress && { onprogress: onProgress }),
      });
      return result as Record<string, unknown>;
    },
    get changes() {
      return changes.count;
    },
    nextChange: (timeoutMs = 5000) => changes.next(timeoutMs),
    close: () => client.close(),
  };
  return self;
}

/** A 2.x SDK client pinned to 2026-07-28 on `url`. */
export async function connectModernClient(
  url: string,
  options: TestClientOptions = {},
): Promise<TestMcpClient> {
  const changes = changeTracker();
  const client = new ModernClient(
    { name: 'tool-router-test-modern', version: '2.0.0' },
    {
      versionNegotiation: { mode: { pin: '2026-07-28' } },
      listChanged: { tools: { autoRefresh: false, debounceMs: 0, onChanged: () => changes.fire() } },
    },
  );
  const transport = new ModernTransport(new URL(url), { requestInit: { headers: options.headers ?? {} } });
  await client.connect(transport);
  const self: TestMcpClient = {
    era: 'modern',
    listPage: (cursor) =>
      client.request({ method: 'tools/list', params: cursor === undefined ? {} : { cursor } }),
    listAll: () => listAll(self),
    async call(name, args, onProgress) {
      const result = await client.request(
        { method: 'tools/call', params: { name, arguments: args ?? {} } },
        { ...(onProgress && { onprogress: onProgress }) },
      );
      return result as Record<string, unknown>;
    },
    get changes() {
      return changes.count;
    },
    nextChange: (timeoutMs = 5000) => changes.next(timeoutMs),
    close: () => client.close(),
  };
  return self;
}

/** Both clients, for tests that run once per era. */
export const CLIENT_ERAS = [
  ['legacy (SDK 1.x, 2025-11-25)', connectLegacyClient],
  ['modern (SDK 2.x, 2026-07-28)', connectModernClient],
] as const;
