/**
 * @module command-gate: who may use the process runtime. `command` (with `args` and `transport`) makes the
 * gateway start a program on its own host, so a create or replace that carries one of those fields needs a role
 * in `MCP_GATEWAY_COMMAND_ROLES` (`mcp.admin` always qualifies), and the program must be on
 * `MCP_GATEWAY_COMMAND_ALLOW` when that list is set. The control plane calls it on the parsed body, before
 * anything is stored.
 */
import { badRequest } from '../http/index.js';
import { insufficientRole } from './challenge.js';
import { canRunCommands } from './permissions.js';
import type { Principal } from '../core/index.js';
import { ADMIN_ROLE } from '../core/index.js';

/** The body fields that choose or shape the process runtime. */
export const COMMAND_FIELDS = ['command', 'args', 'transport'] as const;

/** The part of a create or replace body the gate looks at. */
export type CommandFields = { readonly [K in (typeof COMMAND_FIELDS)[number]]?: unknown };

/** Options for {@link commandGate}. */
export interface CommandGateOptions {
  /** `MCP_GATEWAY_COMMAND_ROLES`; holders of `mcp.admin` qualify whatever it lists. */
  readonly commandRoles: readonly string[];
  /**
   * `MCP_GATEWAY_COMMAND_ALLOW`: bare program names and absolute paths (validated by the configuration);
   * absent, any program.
   */
  readonly allow?: readonly string[];
  /** RFC 9728 metadata URL for the 403's challenge; none by default. */
  readonly metadataUrlFor?: (path: string) => string;
}

/** Checks create and replace bodies of `/adapters` and `/tools`. */
export interface CommandGate {
  /**
   * Throws 403 (`insufficient_scope`) when `body` carries `command`, `args` or `transport` and `principal` holds
   * none of the command roles, then 400 naming `command` when the program is not on the allow list. `path` is
   * the request path, for the challenge.
   */
  check(principal: Principal, body: CommandFields, path: string): void;
}

/**
 * Why `command` is refused by `allow`, or undefined when it is listed. A bare name matches the same bare name
 * (the child's `PATH` finds it); an absolute path matches only itself; a relative path (`./x`, `bin/x`) never
 * matches, because what it runs depends on the working directory.
 */
export function commandAllowRefusal(command: string, allow: readonly string[]): string | undefined {
  const listed = `MCP_GATEWAY_COMMAND_ALLOW permits: ${allow.join(', ')}`;
  if (command.includes('/') && !command.startsWith('/')) {
    return `'${command}' is a relative path, which never matches the allow list (what it runs depends on the working directory); use a program name or an absolute path. ${listed}.`;
  }
  return allow.includes(command) ? undefined : `'${command}' is not an allowed program; ${listed}.`;
}

/** Builds the gate; validates its options. */
export function commandGate(options: CommandGateOptions): CommandGate {
  const commandRoles = [...options.commandRoles];
  const allow = options.allow && [...options.allow];
  if (allow?.length === 0) throw new TypeError('commandGate: allow must list at least one program');
  const roles = [...new Set([ADMIN_ROLE, ...commandRoles])].join(', ');
  return {
    check(principal, body, path) {
      // `transport: "sse"` alone names how a remote server or an image speaks: it starts no program here.
      const fields = COMMAND_FIELDS.filter(
        (field) => body[field] !== undefined && !(field === 'transport' && body.transport === 'sse'),
      );
      if (fields.length === 0) return;
      if (!canRunCommands(principal, commandRoles)) {
        throw insufficientRole(
          `${fields[0]}: the process runtime runs a program on the gateway host and requires one of the roles in MCP_GATEWAY_COMMAND_ROLES: ${roles}.`,
          { ...(options.metadataUrlFor && { resourceMetadata: options.metadataUrlFor(path) }) },
        );
      }
      if (allow && typeof body.command === 'string') {
        const refusal = commandAllowRefusal(body.command, allow);
        if (refusal) throw badRequest(`command: ${refusal}`, [{ path: 'command', message: refusal }]);
      }
    },
  };
}
