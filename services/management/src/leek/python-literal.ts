/**
 * Reads the Python literals Celery stores as a task's `args` and `kwargs` reprs (`(2, 'a')`, `{'x': None}`) back into
 * JSON values, so a retry can send them again. Only what JSON can carry is accepted — None, booleans, numbers,
 * strings, tuples, lists and dicts with string keys — like Python's `ast.literal_eval` restricted to JSON. Anything
 * else (a truncated repr ending in `...`, bytes, sets, objects' reprs) throws a SyntaxError naming the position.
 */

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** Nesting deeper than this is refused (a repr this deep is no task argument worth re-sending). */
const MAX_DEPTH = 64;

const ESCAPES: Readonly<Record<string, string>> = {
  '\\': '\\',
  "'": "'",
  '"': '"',
  a: '\x07',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
  v: '\v',
  '0': '\0',
};

class Reader {
  private pos = 0;
  constructor(private readonly text: string) {}

  fail(what: string): never {
    throw new SyntaxError(`${what} at position ${this.pos}`);
  }

  private skipSpace(): void {
    while (this.pos < this.text.length && /\s/.test(this.text[this.pos] as string)) this.pos++;
  }

  private peek(): string | undefined {
    this.skipSpace();
    return this.text[this.pos];
  }

  private eat(char: string): boolean {
    if (this.peek() !== char) return false;
    this.pos++;
    return true;
  }

  end(): void {
    if (this.peek() !== undefined) this.fail('unexpected text');
  }

  value(depth = 0): JsonValue {
    if (depth > MAX_DEPTH) this.fail('nesting too deep');
    const c = this.peek();
    if (c === undefined) this.fail('unexpected end');
    if (c === '(' || c === '[') return this.sequence(c === '(' ? ')' : ']', depth);
    if (c === '{') return this.dict(depth);
    if (c === "'" || c === '"') return this.string();
    if (/[-+0-9.]/.test(c)) return this.number();
    const word = /^[A-Za-z_]\w*/.exec(this.text.slice(this.pos))?.[0];
    if (word === 'None' || word === 'True' || word === 'False') {
      this.pos += word.length;
      return word === 'None' ? null : word === 'True';
    }
    return this.fail(word ? `${word} is not a literal JSON can carry` : `unexpected ${JSON.stringify(c)}`);
  }

  /** Tuples and lists (a one-element tuple has a trailing comma; both become arrays). */
  private sequence(close: string, depth: number): JsonValue[] {
    this.pos++;
    const items: JsonValue[] = [];
    while (!this.eat(close)) {
      items.push(this.value(depth + 1));
      if (!this.eat(',')) {
        if (!this.eat(close)) this.fail(`expected , or ${close}`);
        break;
      }
    }
    return items;
  }

  private dict(depth: number): { [key: string]: JsonValue } {
    this.pos++;
    const out: { [key: string]: JsonValue } = {};
    while (!this.eat('}')) {
      const c = this.peek();
      if (c !== "'" && c !== '"') this.fail('dict keys must be strings (a set or another key type JSON cannot carry)');
      const key = this.string();
      if (!this.eat(':')) this.fail('expected :');
      Object.defineProperty(out, key, { value: this.value(depth + 1), enumerable: true, writable: true, configurable: true });
      if (!this.eat(',')) {
        if (!this.eat('}')) this.fail('expected , or }');
        break;
      }
    }
    return out;
  }

  private string(): string {
    const quote = this.text[this.pos] as string;
    this.pos++;
    let out = '';
    for (;;) {
      const c = this.text[this.pos];
      if (c === undefined || c === '\n') this.fail('unterminated string');
      this.pos++;
      if (c === quote) return out;
      if (c !== '\\') {
        out += c;
        continue;
      }
      const e = this.text[this.pos];
      if (e === undefined) this.fail('unterminated string');
      this.pos++;
      const simple = ESCAPES[e];
      if (simple !== undefined) {
        out += simple;
        continue;
      }
      const width = e === 'x' ? 2 : e === 'u' ? 4 : e === 'U' ? 8 : 0;
      const hex = this.text.slice(this.pos, this.pos + width);
      if (width === 0 || !new RegExp(`^[0-9a-fA-F]{${width}}$`).test(hex)) this.fail(`unsupported escape \\${e}`);
      const code = Number.parseInt(hex, 16);
      if (code > 0x10ffff) this.fail('escape out of range');
      out += String.fromCodePoint(code);
      this.pos += width;
    }
  }

  private number(): number {
    const match = /^[-+]?(?:\d[\d_]*(?:\.[\d_]*)?|\.\d[\d_]*)(?:[eE][-+]?\d+)?/.exec(this.text.slice(this.pos));
    if (!match) this.fail('not a number');
    this.pos += match[0].length;
    const value = Number(match[0].replace(/_/g, ''));
    if (!Number.isFinite(value)) this.fail('number out of range');
    if (Number.isInteger(value) && !/[.eE]/.test(match[0]) && !Number.isSafeInteger(value)) {
      this.fail('integer too large for JSON');
    }
    return value;
  }
}

/** Parses one Python literal; throws SyntaxError when the text is anything else. */
export function parsePythonLiteral(text: string): JsonValue {
  const reader = new Reader(text);
  const value = reader.value();
  reader.end();
  return value;
}
