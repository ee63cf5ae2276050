/**
 * The file `apply` reads: every problem found before anything is sent, each with its line and column; and the
 * comparison that makes a second apply a no-op (a default left out equals the default stored).
 */
import { describe, expect, it } from 'vitest';
import { GatewayFileError, gatewayFileText, parseGatewayFile, parseResourceFile } from './gateway-file.js';
import { differences, fileForm } from './resource-fields.js';

const problemsOf = (text: string, name = 'g.yaml') => {
  try {
    parseGatewayFile(text, name);
  } catch (err) {
    if (err instanceof GatewayFileError) return err.problems;
    throw err;
  }
  return [];
};

describe('parseGatewayFile', () => {
  it('reads adapters and tools, adapters first, with the line each starts on', () => {
    const file = parseGatewayFile(
      `tools:
  - name: score
    endpoints: [http://127.0.0.1:9000/score]
    toolDefinition: { tool: { name: score, inputSchema: { type: object } } }
adapters:
  - name: weather
    endpoints: [http://127.0.0.1:8000/mcp]
`,
      'g.yaml',
    );
    expect(file.entries.map((e) => [e.kind, e.name, e.line])).toEqual([
      ['adapters', 'weather', 6],
      ['tools', 'score', 2],
    ]);
  });

  it('reports every problem with file:line:column, the field path and what was found', () => {
    expect(
      problemsOf(`adapters:
  - name: ok
    endpoints: [http://a]
    replicaCount: 1.5
    environmentVariables: { PORT: 8080 }
    surprise: true
  - name: ok
    endpoints: [http://b]
  - just a string
tools:
  - name: t
    command: node
    toolDefinition: { tool: { name: u } }
toolsets:
  - name: team
    discovery: magic
secrets: []
`),
    ).toEqual([
      'g.yaml:4:19: adapters[0].replicaCount: must be an integer, not number 1.5',
      'g.yaml:5:27: adapters[0].environmentVariables: must be a mapping of names to strings (quote numbers and booleans), not a mapping',
      expect.stringMatching(
        /^g\.yaml:6:5: adapters\[0\]\.surprise: unknown field \(known: name, imageName, /,
      ),
      'g.yaml:9:5: adapters[2]: must be a mapping (an adapter)',
      'g.yaml:13:29: tools[0].toolDefinition.tool.inputSchema: is required',
      "g.yaml:13:37: tools[0].toolDefinition.tool.name: must equal name ('t')",
      'g.yaml:16:16: toolsets[0].discovery: must be one of list, search, not string "magic"',
      'g.yaml:15:5: toolsets[0].tools: is required',
      "g.yaml:17:1: unknown top-level key 'secrets': a file has `adapters:`, `tools:` and `toolsets:` lists",
    ]);
  });

  it('reports a name listed twice, a missing runtime, and two runtimes', () => {
    expect(
      problemsOf(`adapters:
  - name: a
    endpoints: [http://a]
  - name: a
    endpoints: [http://b]
  - name: none
  - name: both
    endpoints: [http://c]
    command: node
`),
    ).toEqual([
      "g.yaml:4:11: adapters[1].name: 'a' is listed twice in adapters (first at adapters[0])",
      expect.stringMatching(/^g\.yaml:6:5: adapters\[2\]: no runtime: /),
      expect.stringMatching(
        /^g\.yaml:7:5: adapters\[3\]: command and endpoints together|^g\.yaml:7:5: adapters\[3\]: endpoints and command together/,
      ),
    ]);
  });

  it('gives syntax errors and duplicate keys their line, in YAML and in JSON', () => {
    expect(problemsOf('adapters:\n  - name: a\n   x: [\n')[0]).toMatch(/^g\.yaml:3:\d+: /);
    expect(problemsOf('adapters:\n  - name: a\n    name: b\n')[0]).toMatch(
      /^g\.yaml:3:5: Map keys must be unique/,
    );
    expect(
      problemsOf('{\n  "adapters": [\n    { "name": "a", "endpoints": "http://a" }\n  ]\n}\n', 'g.json'),
    ).toEqual(['g.json:3:33: adapters[0].endpoints: must be a list of strings, not string "http://a"']);
  });

  it('takes an empty file as an empty registry, and refuses a file that is not a mapping', () => {
    expect(parseGatewayFile('', 'g.yaml').entries).toEqual([]);
    expect(parseGatewayFile('# nothing yet\nadapters:\n', 'g.yaml').entries).toEqual([]);
    expect(problemsOf('- name: a\n')).toEqual([
      'g.yaml:1:1: the file must be a mapping with `adapters:`, `tools:` and/or `toolsets:` lists',
    ]);
  });

  it('reads one resource for create -f, read-only fields of a `get -o yaml` included', () => {
    const { name, data } = parseResourceFile(
      'id: w\nname: w\nendpoints: [http://a]\ncreatedBy: dev\ncreatedAt: "2026-01-01T00:00:00.000Z"\n',
      'w.yaml',
      'adapters',
    );
    expect(name).toBe('w');
    expect(data.endpoints).toEqual(['http://a']);
  });
});

describe('the stored form', () => {
  const stored = {
    id: 'local',
    name: 'local',
    environmentVariables: {},
    replicaCount: 1,
    description: '',
    useWorkloadIdentity: false,
    requiredRoles: [],
    command: 'node',
    args: [],
    transport: 'stdio',
    port: 8000,
    path: '/mcp',
    createdBy: 'dev',
    createdAt: '2026-01-01T00:00:00.000Z',
    lastUpdatedAt: '2026-01-01T00:00:00.000Z',
  };

  it('equals a file entry that leaves the defaults out, and names the fields that differ', () => {
    expect(differences('adapters', stored, { name: 'local', command: 'node' })).toEqual([]);
    expect(differences('adapters', stored, { name: 'local', command: 'node', description: null })).toEqual(
      [],
    );
    // An empty map of secret references is not stored at all.
    expect(
      differences('adapters', stored, { name: 'local', command: 'node', secretEnvironmentVariables: {} }),
    ).toEqual([]);
    expect(differences('adapters', stored, { name: 'local', command: 'node', replicaCount: 2 })).toEqual([
      { field: 'replicaCount', from: 1, to: 2 },
    ]);
    expect(
      differences('adapters', stored, { name: 'local', endpoints: ['http://a'] }).map((d) => d.field),
    ).toEqual(['command', 'args', 'transport', 'port', 'path', 'endpoints']);
  });

  it('exports without read-only fields and defaults, and the export compares equal', () => {
    expect(fileForm('adapters', stored)).toEqual({ name: 'local', command: 'node' });
    const tool = {
      name: 's',
      replicaCount: 1,
      toolDefinition: { tool: { name: 's', inputSchema: { type: 'object' } }, port: 8000, path: '/score' },
      imageName: 'x/s',
      imageVersion: '1',
    };
    expect(fileForm('tools', tool)).toEqual({
      name: 's',
      toolDefinition: { tool: { name: 's', inputSchema: { type: 'object' } } },
      imageName: 'x/s',
      imageVersion: '1',
    });
    expect(differences('tools', tool, fileForm('tools', tool))).toEqual([]);
    expect(gatewayFileText({ adapters: [stored], tools: [] }, 'yaml')).toBe(
      'adapters:\n  - name: local\n    command: node\ntools: []\n',
    );
  });
});
