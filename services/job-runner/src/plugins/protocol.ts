/**
 * The xyOps plugin protocol on stdout (data-structures §7): each line holding a JSON object with `xy: 1` is an update
 * (progress, status, data, files, perf, table, html, markdown, text, label, push, update_event, …); one with `code`
 * completes the job. Every other line is log output. Pure: no I/O.
 */

export interface ProtocolLine {
  kind: 'log' | 'update' | 'complete';
  text?: string;
  fields?: Record<string, unknown>;
}

/** Fields a plugin may not set directly (behaviour §9.2: `push` is the way to add actions, limits and tags). */
const FORBIDDEN = new Set([
  'id',
  'event',
  'category',
  'plugin',
  'state',
  'server',
  'actions',
  'limits',
  'tags',
  'username',
  'source',
  'started',
  'completed',
  'xy',
]);

/** Classifies one line (without its newline). */
export function parseLine(line: string): ProtocolLine {
  const trimmed = line.trim();
  if (!trimmed.startsWith('{') || !trimmed.endsWith('}') || !trimmed.includes('"xy"')) return { kind: 'log', text: `${line}\n` };
  let value: unknown;
  try {
    value = JSON.parse(trimmed);
  } catch {
    return { kind: 'log', text: `${line}\n` };
  }
  if (!value || typeof value !== 'object' || Array.isArray(value) || (value as { xy?: unknown }).xy !== 1)
    return { kind: 'log', text: `${line}\n` };
  const fields: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) if (!FORBIDDEN.has(key) && !key.startsWith('__')) fields[key] = v;
  // markdown/text reports are shown as html (content kept as text; the UI sanitises on display).
  if (typeof fields.markdown === 'string' || typeof fields.text === 'string') {
    fields.html = { content: String(fields.markdown ?? fields.text) };
    delete fields.markdown;
    delete fields.text;
  }
  if (typeof fields.progress === 'number') fields.progress = Math.min(1, Math.max(0, fields.progress));
  return 'code' in fields ? { kind: 'complete', fields } : { kind: 'update', fields };
}

/** Splits a byte stream into lines, holding a partial last line until more arrives (or `end`). */
export class LineSplitter {
  private rest = '';
  constructor(private readonly onLine: (line: string) => void) {}

  push(chunk: string): void {
    const text = this.rest + chunk;
    const lines = text.split('\n');
    this.rest = lines.pop() ?? '';
    for (const line of lines) this.onLine(line);
  }

  end(): void {
    if (this.rest !== '') this.onLine(this.rest);
    this.rest = '';
  }
}
