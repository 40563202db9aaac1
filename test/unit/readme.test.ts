import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { OPTION_TABLE, envName } from '../../src/cli/options.js';

const readme = readFileSync(join(import.meta.dirname, '..', '..', 'README.md'), 'utf8');

describe('README', () => {
  it.each(OPTION_TABLE.map((spec) => [spec.long, spec] as const))('documents --%s with its variable', (_, spec) => {
    const row = readme.split('\n').find((line) => line.startsWith('|') && new RegExp(`--${spec.long}(?![\\w-])`).test(line));
    expect(row, `no row for --${spec.long} in the options table`).toBeDefined();
    const env = envName(spec);
    if (env) expect(row).toContain(`\`${env}\``);
  });

  it.each(OPTION_TABLE.map((spec) => [spec.long, spec] as const))('gives --%s the default --help gives it', (_, spec) => {
    const row = readme.split('\n').find((line) => line.startsWith('|') && new RegExp(`^\\| \`(-\\w, )?--${spec.long}[ \`]`).test(line)) ?? '';
    const cell = (row.split(/(?<!\\)\|/)[3] ?? '').replaceAll('`', '').trim();
    expect(cell).toBe(spec.defaultText ?? '');
  });

  it('mentions no option the binary does not have', () => {
    const known = new Set(OPTION_TABLE.map((s) => s.long));
    // the generated benchmark section quotes the bench script's own flags
    const prose = readme.replace(/<!-- bench:start -->[\s\S]*<!-- bench:end -->/, '');
    const mentioned = [...prose.matchAll(/(?<![\w-])--([a-z][a-z0-9-]+)/g)].map((m) => m[1] as string);
    // flags of other programs that the README quotes (unshare, node, the example app, COPY --from, docker run --init, the bench's --rollout)
    const foreign = new Set(['pid', 'fork', 'mount-proc', 'require', 'port', 'from', 'init', 'rollout', 'preserve-fds', 'disable-sigusr1', 'v8-pool-size', 'jitless']);
    expect(mentioned.filter((m) => !known.has(m) && !foreign.has(m))).toEqual([]);
  });
});

describe('README for a newcomer', () => {
  const root = join(import.meta.dirname, '..', '..');
  const lines = readme.trimEnd().split('\n');

  it('is short: under 250 lines, none over 200 characters', () => {
    expect(lines.length).toBeLessThan(250);
    expect(lines.filter((l) => l.length > 200)).toEqual([]);
  });

  it('shows the Kubernetes manifest exactly as docker/kubernetes/deployment.yaml has it', () => {
    const block = /```yaml\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(block).toBe(readFileSync(join(root, 'docker', 'kubernetes', 'deployment.yaml'), 'utf8'));
  });

  it("opens with the nginx recipe: the same entrypoint, command and settings as docker/examples/nginx", () => {
    const first = /```dockerfile\n([\s\S]*?)```/.exec(readme)?.[1] ?? '';
    const recipe = readFileSync(join(root, 'docker', 'examples', 'nginx', 'Dockerfile'), 'utf8');
    const instructions = (text: string, word: string) => text.split('\n').filter((l) => l.startsWith(`${word} `));
    for (const word of ['ENTRYPOINT', 'CMD', 'COPY']) expect(instructions(first, word), word).toEqual(instructions(recipe, word));
    // the ENV instructions, continuation lines included (not the comments that mention variables)
    const env = (text: string) => text.match(/^ENV (?:.*\\\n)*.*$/gm)?.join(' ') ?? '';
    const settings = (text: string) => [...env(text).matchAll(/(GRACEFUL_INIT_\w+)=(\S+)/g)].map((m) => `${m[1]}=${m[2]}`).sort();
    expect(settings(first)).toEqual(settings(recipe));
    expect(first).toMatch(/^FROM nginx:/m);
  });
});
