/**
 * @module toolset-directory: the toolsets as the tool router last read them, so a request on a toolset's
 * endpoint costs no registry read. All are read at once (toolsets are few) and read again when the registry
 * changes (this instance's writes, and other instances' through the change feed) or the copy is older than the
 * registry's max age; listeners hear which toolsets came, changed or went.
 */
import type { Logger } from '../observability/index.js';
import { toolsetOf } from '../registry/index.js';
import type { RegisteredToolset, RegistryChangeFeed, RegistryStore } from '../registry/index.js';

/** Rows read per registry page. */
const PAGE = 1000;

/** Options for {@link createToolsetDirectory}. */
export interface ToolsetDirectoryOptions {
  readonly store: RegistryStore;
  readonly changes: RegistryChangeFeed;
  readonly logger: Logger;
  /** A copy older than this is read again before it is used (a safety net beside the change feed). */
  readonly maxAgeMs: number;
  readonly now?: () => number;
}

/** The toolsets of the registry, cached. */
export interface ToolsetDirectory {
  /** The toolset named `name`, from a copy no older than the max age. */
  get(name: string): Promise<RegisteredToolset | undefined>;
  /** The toolset as last read, without waiting (undefined when unknown or gone). */
  current(name: string): RegisteredToolset | undefined;
  /** The registry changed: read again now, and tell listeners what differs. */
  invalidate(): void;
  /** Told the name of each toolset that appeared, changed or was deleted. */
  onChange(listener: (name: string) => void): () => void;
  close(): void;
}

const versionOf = (row: RegisteredToolset) => `${row.uid}.${row.version}`;

/** Builds the directory and subscribes it to the registry's change feed. */
export function createToolsetDirectory(options: ToolsetDirectoryOptions): ToolsetDirectory {
  const { store, logger } = options;
  const now = options.now ?? Date.now;
  const listeners = new Set<(name: string) => void>();
  let byName = new Map<string, RegisteredToolset>();
  let loadedAt = Number.NEGATIVE_INFINITY;
  let loading: Promise<void> | undefined;
  /** A change arrived during the read under way: one more read follows it. */
  let again = false;
  let closed = false;

  async function readAll(): Promise<Map<string, RegisteredToolset>> {
    const rows = new Map<string, RegisteredToolset>();
    let after: string | undefined;
    for (;;) {
      const page = await store.list('toolset', { limit: PAGE, ...(after !== undefined && { after }) });
      for (const row of page) rows.set(row.name, toolsetOf(row));
      if (page.length < PAGE) return rows;
      after = page.at(-1)!.name;
    }
  }

  function tell(previous: Map<string, RegisteredToolset>, next: Map<string, RegisteredToolset>): void {
    const changed = new Set<string>();
    for (const [name, row] of next) {
      const before = previous.get(name);
      // A new name too: an endpoint may already serve it from a point read (see `get`).
      if (!before || versionOf(before) !== versionOf(row)) changed.add(name);
    }
    for (const name of previous.keys()) if (!next.has(name)) changed.add(name);
    for (const name of changed) {
      for (const listener of [...listeners]) {
        try {
          listener(name);
        } catch (error) {
          logger.error({ err: error }, 'toolset change listener failed');
        }
      }
    }
  }

  function load(): Promise<void> {
    if (loading) {
      again = true;
      return loading;
    }
    const started = readAll().then(
      (next) => {
        const previous = byName;
        byName = next;
        loadedAt = now();
        if (!closed) tell(previous, next);
      },
      (error: unknown) => logger.warn({ err: error }, 'reading toolsets failed'),
    );
    loading = started.finally(() => {
      loading = undefined;
      if (again && !closed) {
        again = false;
        void load();
      }
    });
    return loading;
  }

  const stopWatching = options.changes.watchChanges(() => void load());
  return {
    async get(name) {
      if (loading) await loading;
      if (now() - loadedAt > options.maxAgeMs) await load();
      const found = byName.get(name);
      if (found) return found;
      // Maybe created a moment ago through another instance, before its change notice arrived here: one point
      // read tells, and only a hit costs a full read (so an unknown name costs one indexed lookup).
      const row = await store.get('toolset', name);
      if (!row) return undefined;
      await load();
      return byName.get(name) ?? toolsetOf(row);
    },
    current: (name) => byName.get(name),
    invalidate: () => void load(),
    onChange(listener) {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },
    close() {
      closed = true;
      stopWatching();
      listeners.clear();
    },
  };
}
