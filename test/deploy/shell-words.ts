/**
 * Just enough of the POSIX shell's word splitting to find the flashback
 * command lines in a workflow's `run:` step or a doc's shell block: line
 * continuations, single and double quotes, comments, and the operators
 * that end a simple command (`&&`, `||`, `|`, `;`, `&`, newline). Quotes are
 * removed; `$VAR`, `$(...)` inside double quotes and GitHub's `${{ ... }}`
 * are kept as text, since a flag's name never depends on them.
 */
export function shellCommands(script: string): string[][] {
  const text = script.replace(/\\\r?\n/g, ' ');
  const commands: string[][] = [];
  let words: string[] = [];
  let word: string | null = null;
  const endWord = (): void => {
    if (word !== null) words.push(word);
    word = null;
  };
  const endCommand = (): void => {
    endWord();
    if (words.length > 0) commands.push(words);
    words = [];
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '\n' || c === ';' || c === '&' || c === '|') {
      endCommand();
      if ((c === '&' || c === '|') && text[i + 1] === c) i++;
    } else if (c === ' ' || c === '\t' || c === '\r') {
      endWord();
    } else if (c === '#' && word === null) {
      while (i + 1 < text.length && text[i + 1] !== '\n') i++;
    } else if (c === "'") {
      const end = text.indexOf("'", i + 1);
      if (end < 0) throw new Error(`unclosed ' in: ${script}`);
      word = (word ?? '') + text.slice(i + 1, end);
      i = end;
    } else if (c === '"') {
      let j = i + 1;
      let s = '';
      for (; j < text.length && text[j] !== '"'; j++) {
        if (text[j] === '\\' && j + 1 < text.length && '"\\$`'.includes(text[j + 1]!)) s += text[++j];
        else s += text[j];
      }
      if (j >= text.length) throw new Error(`unclosed " in: ${script}`);
      word = (word ?? '') + s;
      i = j;
    } else if (text.startsWith('${{', i)) {
      const end = text.indexOf('}}', i);
      if (end < 0) throw new Error(`unclosed \${{ in: ${script}`);
      word = (word ?? '') + text.slice(i, end + 2);
      i = end + 1;
    } else if (text.startsWith('$(', i)) {
      // A command substitution is one word here (its inner words are not flashback's).
      let depth = 0;
      let j = i + 1;
      for (; j < text.length; j++) {
        if (text[j] === '(') depth++;
        else if (text[j] === ')' && --depth === 0) break;
      }
      word = (word ?? '') + text.slice(i, j + 1);
      i = j;
    } else {
      word = (word ?? '') + c;
    }
  }
  endCommand();
  return commands;
}

/**
 * The flashback command lines among `commands`: the words after `flashback`
 * (`npx flashback …`, `docker run … flashback …`) or after `bin/flashback.js`,
 * when a subcommand-like word follows (so `docker build -t flashback .` is
 * not one).
 */
export function flashbackCommands(commands: string[][]): string[][] {
  const found: string[][] = [];
  for (const words of commands) {
    const at = words.findIndex((w, i) => (w === 'flashback' || /(^|\/)flashback\.js$/.test(w)) && /^[a-z]/.test(words[i + 1] ?? ''));
    if (at >= 0) found.push(words.slice(at + 1));
  }
  return found;
}
