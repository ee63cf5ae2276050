/**
 * @module program-file: whether a `command` that contains whitespace is nevertheless a program on the gateway
 * host. A command line in `command` (`npx -y server`) is never found when spawned and would restart forever, so
 * the control plane refuses it; a path that really contains a space (`/opt/My Tools/server`) must still work.
 */
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';

/**
 * True when `command` is a path (it contains `/`) to a regular file on this host; relative paths are resolved
 * against `cwd`, as the process deployer spawns them. A bare name is not searched on `PATH`: a program name with
 * whitespace is a command line far more often than a file.
 */
export async function isProgramFile(command: string, cwd: string = process.cwd()): Promise<boolean> {
  if (!command.includes('/')) return false;
  try {
    return (await stat(resolve(cwd, command))).isFile();
  } catch {
    return false;
  }
}
