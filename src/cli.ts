#!/usr/bin/env node
/** @module cli: the `mcp-gateway` command. */

const USAGE = `Usage: mcp-gateway [serve]

  serve     run the gateway (default); configured by environment variables, see README
  stdio     not built yet: the tool router over stdio
`;

const command = process.argv[2] ?? 'serve';
if (command === 'serve') {
  const { main } = await import('./main.js');
  await main();
} else if (command === '--help' || command === '-h' || command === 'help') {
  process.stdout.write(USAGE);
} else if (command === 'stdio') {
  process.stderr.write('mcp-gateway stdio is not built yet (see README, "Not built yet").\n');
  process.exit(2);
} else {
  process.stderr.write(`Unknown command '${command}'.\n\n${USAGE}`);
  process.exit(2);
}
