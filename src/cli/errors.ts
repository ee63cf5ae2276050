/**
 * @module errors: the CLI's failures and the exit code each one ends with, so scripts can tell a refused request
 * from a typo from a gateway that is not there.
 */

/** What `mcp-gateway` exits with (documented in `--help` and the README). */
export const EXIT = Object.freeze({
  ok: 0,
  /** The gateway answered with an error (its message goes to stderr). */
  api: 1,
  /** The command line or the file is wrong; nothing was sent that changes anything. */
  usage: 2,
  /** Nothing answered at `--url`. */
  unreachable: 3,
  /** `apply --dry-run --exit-code`: changes are pending. */
  changesPending: 4,
  /** Interrupted (Ctrl-C), as shells report SIGINT. */
  interrupted: 130,
});

/** A wrong command line or file: exit 2. */
export class UsageError extends Error {
  constructor(
    message: string,
    /** The help text to point at, when one applies. */
    readonly help?: string,
  ) {
    super(message);
    this.name = 'UsageError';
  }
}

/** The gateway answered with a non-success status: exit 1. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** Nothing answered at the URL (refused, unknown host, timeout): exit 3. */
export class UnreachableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnreachableError';
  }
}
