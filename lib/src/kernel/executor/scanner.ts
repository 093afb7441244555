/**
 * A small lexer for TypeScript cell text that knows, line by line, whether a line starts in code
 * or inside a string, template literal, comment or regular expression. Magics are found before
 * the cell is parsed (and they are not TypeScript), so this runs on the raw text: it tracks only
 * what can hide a line break or a quote, not the full grammar.
 */

/** Keywords after which `/` starts a regular expression rather than a division. */
const REGEX_AFTER_WORD = new Set([
  'return',
  'typeof',
  'instanceof',
  'in',
  'of',
  'new',
  'delete',
  'void',
  'throw',
  'case',
  'do',
  'else',
  'yield',
  'await'
]);

type Mode =
  | { kind: 'code'; braces: number }
  | { kind: 'template' }
  | { kind: 'string'; quote: string }
  | { kind: 'block-comment' }
  | { kind: 'regex'; inClass: boolean };

export class LineScanner {
  /** Innermost last; the bottom is the cell's top-level code. */
  private readonly modes: Mode[] = [{ kind: 'code', braces: 0 }];
  /** Whether a `/` here would start a regular expression (no operand just before it). */
  private regexAllowed = true;

  /** True when the next line starts in code, not inside a literal or a comment. */
  get inCode(): boolean {
    return this.mode.kind === 'code';
  }

  /** The literal or comment the text read so far ends in, if any. */
  get openLiteral(): 'string' | 'template' | 'block-comment' | 'regex' | undefined {
    const kind = this.mode.kind;
    return kind === 'code' ? undefined : kind;
  }

  /** A line that is not code (a magic replaced by a statement): reads as a statement's end. */
  skipLine(): void {
    this.regexAllowed = true;
  }

  /** Reads one line and the line break after it. */
  scanLine(line: string): void {
    this.scan(`${line}\n`);
  }

  private get mode(): Mode {
    return this.modes.at(-1)!;
  }

  private scan(text: string): void {
    let i = 0;
    while (i < text.length) {
      const mode = this.mode;
      const char = text[i]!;
      const next = text[i + 1];
      switch (mode.kind) {
        case 'string':
          if (char === '\\') i += 1;
          // An unterminated string ends at the line break (a syntax error esbuild reports).
          else if (char === mode.quote || char === '\n') this.leave(false);
          i += 1;
          break;
        case 'template':
          if (char === '\\') {
            i += 2;
          } else if (char === '`') {
            this.leave(false);
            i += 1;
          } else if (char === '$' && next === '{') {
            this.modes.push({ kind: 'code', braces: 0 });
            this.regexAllowed = true;
            i += 2;
          } else {
            i += 1;
          }
          break;
        case 'block-comment':
          if (char === '*' && next === '/') {
            this.modes.pop();
            i += 2;
          } else {
            i += 1;
          }
          break;
        case 'regex':
          if (char === '\\') i += 1;
          else if (char === '[') mode.inClass = true;
          else if (char === ']') mode.inClass = false;
          else if ((char === '/' && !mode.inClass) || char === '\n') this.leave(false);
          i += 1;
          break;
        case 'code':
          i = this.scanCode(text, i, mode);
          break;
      }
    }
  }

  /** Leaves the innermost literal; what follows it is an operand's end unless `regexAllowed`. */
  private leave(regexAllowed: boolean): void {
    this.modes.pop();
    this.regexAllowed = regexAllowed;
  }

  /** One token of code starting at `i`; returns where the next one starts. */
  private scanCode(text: string, i: number, mode: { braces: number }): number {
    const char = text[i]!;
    const next = text[i + 1];
    if (/\s/.test(char)) return i + 1;
    if (char === '/' && next === '/') {
      const end = text.indexOf('\n', i);
      return end < 0 ? text.length : end;
    }
    if (char === '/' && next === '*') {
      this.modes.push({ kind: 'block-comment' });
      return i + 2;
    }
    if (char === '/' && this.regexAllowed) {
      this.modes.push({ kind: 'regex', inClass: false });
      return i + 1;
    }
    if (char === '"' || char === "'") {
      this.modes.push({ kind: 'string', quote: char });
      return i + 1;
    }
    if (char === '`') {
      this.modes.push({ kind: 'template' });
      return i + 1;
    }
    const word = /^[\p{ID_Continue}$#\u200c\u200d]+/u.exec(text.slice(i, i + 256))?.[0];
    if (word !== undefined) {
      // Identifiers, keywords and numbers are operands, except the keywords that take one.
      this.regexAllowed = REGEX_AFTER_WORD.has(word);
      return i + word.length;
    }
    if (char === '{') {
      mode.braces += 1;
    } else if (char === '}') {
      if (mode.braces === 0 && this.modes.length > 1) {
        // The end of a template's `${...}`: back inside the template.
        this.modes.pop();
        return i + 1;
      }
      mode.braces = Math.max(0, mode.braces - 1);
    }
    // After `)`/`]` an operand just ended; after `}` (usually a block's end) a statement starts.
    this.regexAllowed = char !== ')' && char !== ']';
    return i + 1;
  }
}
