import { describe, expect, it } from 'vitest';
import { flashbackCommands, shellCommands } from './shell-words.js';

describe('shell word splitting for the deployment examples', () => {
  it('splits commands on operators and newlines, joins continuations, drops quotes and comments', () => {
    const script = [
      'mkdir -p runs && npx flashback replay rec.db \\',
      "  --fail-on 'route=POST /checkout: p99:+5%' --label \"PR #${{ github.event.number }}\" # why",
      'T=$(date -u -d "+2 min" +%FT%TZ); echo "a \\"b\\"" | cat',
    ].join('\n');
    expect(shellCommands(script)).toEqual([
      ['mkdir', '-p', 'runs'],
      ['npx', 'flashback', 'replay', 'rec.db', '--fail-on', 'route=POST /checkout: p99:+5%', '--label', 'PR #${{ github.event.number }}'],
      ['T=$(date -u -d "+2 min" +%FT%TZ)'],
      ['echo', 'a "b"'],
      ['cat'],
    ]);
  });

  it('finds flashback command lines after npx, docker run or the bin script, and not an image name', () => {
    const commands = shellCommands(
      'docker build -t flashback .\ndocker run --rm -v "$PWD:/data" flashback report show /data/a.json\nnode bin/flashback.js report merge a b --out c\nnpx flashback replai x',
    );
    expect(flashbackCommands(commands)).toEqual([
      ['report', 'show', '/data/a.json'],
      ['report', 'merge', 'a', 'b', '--out', 'c'],
      ['replai', 'x'],
    ]);
  });

  it('refuses an unclosed quote rather than guessing', () => {
    expect(() => shellCommands("npx flashback replay 'rec.db")).toThrow(/unclosed '/);
  });
});
