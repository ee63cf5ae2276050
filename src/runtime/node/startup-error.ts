/** @module startup-error: why a runtime could not be built, and how the process should end because of it. */

/**
 * A start that cannot go on. `exitCode` 2 is the operator's to fix (configuration, the secret, authentication
 * settings); 1 is the environment's (a registry that cannot be opened). `operatorMessage` is the text to print
 * when the cause is a configuration problem, said in full by its own message.
 */
export class StartupError extends Error {
  constructor(
    message: string,
    readonly exitCode: 1 | 2,
    /** The underlying reason, for the log line: an error's message (or the error, for its stack). */
    readonly detail: unknown,
    /** Set for configuration problems: printed as it is, without a log line around it. */
    readonly operatorMessage?: string,
  ) {
    super(message);
    this.name = 'StartupError';
  }
}
