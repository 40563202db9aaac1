/**
 * Splits a command line into argv the way a POSIX shell splits words: blanks separate, '...' is
 * literal, "..." keeps \" \\ \$ \` escapes, a backslash outside quotes escapes the next character.
 * Nothing is expanded and there are no operators: the command runs without a shell.
 */
export function splitCommand(line: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let quote: "'" | '"' | null = null;
  for (let i = 0; i < line.length; i++) {
    const c = line[i] as string;
    if (quote === "'") {
      if (c === "'") quote = null;
      else word += c;
    } else if (quote === '"') {
      if (c === '"') quote = null;
      else if (c === '\\' && i + 1 < line.length && '"\\$`'.includes(line[i + 1] as string)) word += line[++i];
      else word += c;
    } else if (c === "'" || c === '"') {
      quote = c;
      inWord = true;
    } else if (c === '\\') {
      if (i + 1 >= line.length) throw new Error(`"${line}" ends with a lone backslash`);
      word += line[++i];
      inWord = true;
    } else if (c === ' ' || c === '\t' || c === '\n') {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (quote) throw new Error(`"${line}" has an unclosed ${quote} quote`);
  if (inWord) words.push(word);
  if (words.length === 0) throw new Error('the command is empty');
  return words;
}

const EXPANSION = /\$\(|\$\{|\$[A-Za-z_?#@*!$0-9]\w*|`/y;
const OPERATOR = /\|\||&&|;;|>>|<<|[|&;<>()*]/y;

function matchAt(re: RegExp, line: string, at: number): string | null {
  re.lastIndex = at;
  return re.exec(line)?.[0] ?? null;
}

/**
 * The first thing in `line` that a shell would act on and splitCommand takes literally (an operator,
 * a redirection, an expansion, a glob, a leading ~), or null. Quoted text is literal, as in a shell, except that
 * `$` and backquotes still expand inside double quotes.
 */
export function shellSyntaxIn(line: string): string | null {
  let quote: "'" | '"' | null = null;
  for (let i = 0; i < line.length; i++) {
    const c = line[i] as string;
    if (quote === "'") {
      if (c === "'") quote = null;
      continue;
    }
    if (c === '\\') {
      i++;
      continue;
    }
    const expansion = matchAt(EXPANSION, line, i);
    if (expansion) return expansion;
    if (quote === '"') {
      if (c === '"') quote = null;
    } else if (c === "'" || c === '"') {
      quote = c;
    } else if (c === '~' && (i === 0 || ' \t\n'.includes(line[i - 1] as string))) {
      return '~';
    } else {
      const operator = matchAt(OPERATOR, line, i);
      if (operator) return operator;
    }
  }
  return null;
}
