/** @module label-selector: parses and matches Kubernetes label selectors (`a=b,c!=d,e in (f,g),!h`). */

type Requirement =
  | { readonly op: 'eq' | 'neq'; readonly key: string; readonly value: string }
  | { readonly op: 'in' | 'notin'; readonly key: string; readonly values: readonly string[] }
  | { readonly op: 'exists' | 'absent'; readonly key: string };

/** A parsed selector; the empty selector matches everything. */
export interface LabelSelector {
  matches(labels: Readonly<Record<string, string>> | undefined): boolean;
}

/** Thrown for a selector the real API server would refuse with 400. */
export class LabelSelectorError extends Error {}

// Commas inside `in (a,b)` belong to the set, not to the list of requirements.
function splitRequirements(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of text) {
    if (ch === '(') depth += 1;
    if (ch === ')') depth -= 1;
    if (ch === ',' && depth === 0) {
      parts.push(current);
      current = '';
    } else {
      current += ch;
    }
  }
  parts.push(current);
  return parts.map((p) => p.trim()).filter((p) => p.length > 0);
}

function parseRequirement(text: string): Requirement {
  const set = /^([^\s!=]+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(text);
  if (set) {
    const values = (set[3] ?? '').split(',').map((v) => v.trim());
    return { op: set[2] === 'in' ? 'in' : 'notin', key: set[1] ?? '', values };
  }
  const neq = /^([^\s!=]+)\s*!=\s*(\S*)$/.exec(text);
  if (neq) return { op: 'neq', key: neq[1] ?? '', value: neq[2] ?? '' };
  const eq = /^([^\s!=]+)\s*==?\s*(\S*)$/.exec(text);
  if (eq) return { op: 'eq', key: eq[1] ?? '', value: eq[2] ?? '' };
  const absent = /^!\s*([^\s!=]+)$/.exec(text);
  if (absent) return { op: 'absent', key: absent[1] ?? '' };
  if (/^[^\s!=(),]+$/.test(text)) return { op: 'exists', key: text };
  throw new LabelSelectorError(`unable to parse requirement: ${JSON.stringify(text)}`);
}

function matchesOne(req: Requirement, labels: Readonly<Record<string, string>>): boolean {
  const has = Object.prototype.hasOwnProperty.call(labels, req.key);
  const value = labels[req.key];
  switch (req.op) {
    case 'eq':
      return has && value === req.value;
    case 'neq':
      return !has || value !== req.value;
    case 'in':
      return has && req.values.includes(value ?? '');
    case 'notin':
      return !has || !req.values.includes(value ?? '');
    case 'exists':
      return has;
    case 'absent':
      return !has;
  }
}

/** Parses the `labelSelector` query parameter. */
export function parseLabelSelector(text: string | undefined): LabelSelector {
  const requirements = splitRequirements(text ?? '').map(parseRequirement);
  return {
    matches: (labels) => requirements.every((r) => matchesOne(r, labels ?? {})),
  };
}

/** A selector from `matchLabels` (what a StatefulSet or Service selects). */
export function selectorFromMatchLabels(matchLabels: Readonly<Record<string, string>>): LabelSelector {
  return {
    matches: (labels) => Object.entries(matchLabels).every(([k, v]) => labels?.[k] === v),
  };
}
