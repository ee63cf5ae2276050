/**
 * @module discovery-tools: the two tools `/mcp` lists in search mode (`MCP_GATEWAY_TOOL_DISCOVERY=search`):
 * `search_tools`, which finds the tools a caller may use that fit a few words of what it wants to do, and
 * `call_tool`, which calls one of them by name. Their definitions, and the shape of a search answer; the router
 * serves them (`tool-router.ts`), the index ranks (`tool-search.ts`).
 */
import type { CallToolResult, Tool } from '@modelcontextprotocol/server';
import type { CatalogEntry } from './catalog.js';

export const SEARCH_TOOLS = 'search_tools';
export const CALL_TOOL = 'call_tool';

/** Results `search_tools` returns when the caller gives no `limit`, and the most it returns. */
export const DEFAULT_SEARCH_LIMIT = 5;
export const MAX_SEARCH_LIMIT = 50;
/** Longest query: a query is a few words, and every word costs a lookup (with prefixes and typos). */
export const MAX_QUERY_LENGTH = 500;

/** One tool in a `search_tools` answer: enough to call it. */
export interface FoundTool {
  readonly name: string;
  readonly title?: string;
  readonly description?: string;
  readonly inputSchema: Tool['inputSchema'];
}

const SEARCH_OUTPUT_SCHEMA = {
  type: 'object',
  properties: {
    tools: {
      type: 'array',
      description: 'The best matches, best first.',
      items: {
        type: 'object',
        properties: {
          name: { type: 'string', description: 'Pass this to call_tool as "name".' },
          title: { type: 'string' },
          description: { type: 'string' },
          inputSchema: {
            type: 'object',
            description: 'JSON Schema of the arguments; pass them to call_tool as "arguments".',
          },
        },
        required: ['name', 'inputSchema'],
      },
    },
  },
  required: ['tools'],
} as const;

/** `search_tools`: query → the best matching tools the caller may use. */
export const SEARCH_TOOLS_TOOL: Tool = {
  name: SEARCH_TOOLS,
  title: 'Search tools',
  description:
    'Finds the tools of this gateway that fit a task, best first. Describe what you want to do in a few words ' +
    '(for example "create a GitHub issue" or "send a Slack message"). Returns each tool\u2019s name, ' +
    'description and input schema; call the one you choose with call_tool.',
  inputSchema: {
    type: 'object',
    properties: {
      query: {
        type: 'string',
        minLength: 1,
        maxLength: MAX_QUERY_LENGTH,
        description: 'What you want to do, in a few words.',
      },
      limit: {
        type: 'integer',
        minimum: 1,
        maximum: MAX_SEARCH_LIMIT,
        default: DEFAULT_SEARCH_LIMIT,
        description: `How many tools to return (1\u2013${MAX_SEARCH_LIMIT}, default ${DEFAULT_SEARCH_LIMIT}).`,
      },
    },
    required: ['query'],
    additionalProperties: false,
  },
  outputSchema: SEARCH_OUTPUT_SCHEMA as unknown as Tool['outputSchema'],
  annotations: { readOnlyHint: true, openWorldHint: false },
};

/** `call_tool`: calls a tool found with `search_tools`, as a direct `tools/call` of it would. */
export const CALL_TOOL_TOOL: Tool = {
  name: CALL_TOOL,
  title: 'Call a tool',
  description:
    'Calls a tool found with search_tools: give its name and its arguments (which must match its input ' +
    'schema). Returns that tool\u2019s own result.',
  inputSchema: {
    type: 'object',
    properties: {
      name: { type: 'string', minLength: 1, description: 'The tool\u2019s name, as search_tools gave it.' },
      arguments: {
        type: 'object',
        description: 'The tool\u2019s arguments, matching its inputSchema.',
      },
    },
    required: ['name'],
    additionalProperties: false,
  },
};

/** What `tools/list` shows in search mode. */
export const DISCOVERY_TOOLS: readonly Tool[] = Object.freeze([SEARCH_TOOLS_TOOL, CALL_TOOL_TOOL]);

/** A tool as `search_tools` shows it: what the caller's `tools/list` would show, cut to what a call needs. */
function foundOf(entry: CatalogEntry): FoundTool {
  // An admin sees a tool no deployer here can run as the list shows it to them (the reason in its `_meta`).
  const tool = entry.unavailable?.tool ?? entry.tool;
  const title = tool.title ?? tool.annotations?.title;
  return {
    name: tool.name,
    ...(title !== undefined && { title }),
    ...(tool.description !== undefined && { description: tool.description }),
    inputSchema: tool.inputSchema,
  };
}

/** The `search_tools` result: structured content, and the same as JSON text for clients that read only text. */
export function searchResult(entries: readonly CatalogEntry[]): CallToolResult {
  const structured = { tools: entries.map(foundOf) };
  return { content: [{ type: 'text', text: JSON.stringify(structured) }], structuredContent: structured };
}
