/**
 * @module tool-pin-store: the persistence of tool-definition pins (the tool router's trust on first use of
 * federated tools). A port of its own that every registry dialect implements beside {@link RegistryStore}: one
 * row per `(adapter, tool)` with the SHA-256 of the definition pinned and the definition itself (for the diff an
 * admin reviews before approving a change). Every write is a single conditional statement, so gateway
 * instances sharing a database agree on the first pin and on who reports a change.
 */

/** A JSON object (the same shape as the registry's `JsonObject`, named here so this port imports nothing). */
type JsonObject = { [key: string]: unknown };

/** The definition of one federated tool as pinned. */
export interface ToolPin {
  /** The federated adapter's registered name. */
  readonly adapter: string;
  /** The tool's own name at its upstream (not the `{adapter}__{tool}` name `/mcp` shows). */
  readonly tool: string;
  /** SHA-256, lowercase hex, of the canonical JSON of {@link definition}. */
  readonly hash: string;
  /** The pinned definition: `name`, `title`, `description`, `inputSchema`, `outputSchema`, `annotations`. */
  readonly definition: JsonObject;
  /** `first-use` when the router pinned it on first sight; else the user id of the admin who approved it. */
  readonly pinnedBy: string;
  readonly pinnedAt: Date;
  /**
   * The hash of the changed definition last reported (audited) against this pin, or undefined: a change is
   * reported once, by whichever gateway instance saw it first.
   */
  readonly reportedHash: string | undefined;
}

/** What a pin is written from. */
export type NewToolPin = Pick<ToolPin, 'adapter' | 'tool' | 'hash' | 'definition' | 'pinnedBy'>;

/** Pins of federated tools' definitions. */
export interface ToolPinStore {
  /**
   * Stores `pin` unless `(adapter, tool)` already has one, and returns the stored pin: concurrent callers (several
   * instances listing the same adapter at once) all get the first-stored one.
   */
  pinToolIfAbsent(pin: NewToolPin): Promise<ToolPin>;
  /**
   * {@link pinToolIfAbsent} for many tools at once (a whole listing, in as few statements as the dialect allows):
   * stores each pin whose `(adapter, tool)` has none, leaves the others. Read the result with {@link listToolPins}.
   */
  pinToolsIfAbsent(pins: readonly NewToolPin[]): Promise<void>;
  getToolPin(adapter: string, tool: string): Promise<ToolPin | undefined>;
  /** Every pin of `adapter`, ordered by tool name (byte order). */
  listToolPins(adapter: string): Promise<ToolPin[]>;
  /**
   * Replaces the pin of `(pin.adapter, pin.tool)` only while its hash is still `expectedHash` (an approval: two
   * admins approving at once cannot overwrite each other's review), clearing its reported hash. Resolves to the
   * new pin, or undefined when there was no pin or its hash differed.
   */
  repinTool(pin: NewToolPin, expectedHash: string): Promise<ToolPin | undefined>;
  /**
   * Records that the tool now lists a definition hashing to `changedHash`, while pinned at `pinnedHash`.
   * Resolves true for exactly one caller per change (the one that recorded it), false when it was already
   * recorded or the pin is no longer at `pinnedHash`.
   */
  reportToolChange(adapter: string, tool: string, pinnedHash: string, changedHash: string): Promise<boolean>;
}
