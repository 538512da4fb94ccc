/**
 * A plugin's `command` (data-structures §5: "executable plus args, no pipes or redirects") turned into an argv for
 * `spawn` without a shell, and its `uid`/`gid` into numeric ids. Parsing follows sh quoting (shell-quote) so
 * `python3 -u "my script.py"` works, while `$VAR` stays literal and any operator (`|`, `>`, `;`, `&&`, globs) is
 * refused instead of being run by a shell.
 */
import { readFileSync } from 'node:fs';
import { parse } from 'shell-quote';

export type CommandLine = { file: string; args: string[] } | { error: string };

/** `command` split into file and arguments; `script`, when given, is appended as the last argument. */
export function commandLine(command: unknown, scriptFile?: string): CommandLine {
  if (typeof command !== 'string' || command.trim() === '') return { error: 'The plugin has no command' };
  // Keep `$NAME` literal: the command is configuration, not something to expand against the runner's environment.
  const tokens = parse(command, (name) => `$${name}`);
  const words: string[] = [];
  for (const token of tokens) {
    if (typeof token !== 'string') {
      const what = 'op' in token ? `"${token.op}"` : 'comment' in token ? 'a comment' : 'a pattern';
      return { error: `The plugin command may not contain ${what}: give an executable and its arguments, no shell syntax` };
    }
    words.push(token);
  }
  const [file, ...args] = words;
  if (file === undefined) return { error: 'The plugin has no command' };
  return { file, args: scriptFile === undefined ? args : [...args, scriptFile] };
}

/** A `uid`/`gid` given as a number or a name, resolved through /etc/passwd or /etc/group; undefined when unset. */
export function numericId(value: unknown, database: '/etc/passwd' | '/etc/group'): number | undefined | { error: string } {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value === 'number' || /^\d+$/.test(String(value))) {
    const id = Number(value);
    return Number.isSafeInteger(id) && id >= 0 ? id : { error: `Invalid ${database === '/etc/passwd' ? 'uid' : 'gid'}: ${value}` };
  }
  const name = String(value);
  let text = '';
  try {
    text = readFileSync(database, 'utf8');
  } catch {
    return { error: `Cannot resolve "${name}": ${database} is not readable` };
  }
  for (const line of text.split('\n')) {
    const fields = line.split(':');
    if (fields[0] === name && fields[2] !== undefined && /^\d+$/.test(fields[2])) return Number(fields[2]);
  }
  return { error: `No ${database === '/etc/passwd' ? 'user' : 'group'} named "${name}" on this server` };
}
