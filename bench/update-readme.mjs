#!/usr/bin/env node
// node bench/update-readme.mjs [--check] [PAGE]
// Puts the results into docs/benchmarks.md (or PAGE), each between its pair of lines:
//   <!-- bench:start --> ... <!-- bench:end -->      bench/results/latest.md
//   <!-- rollout:start --> ... <!-- rollout:end -->  bench/results/rollout.md
// (the markers stay; everything between them is replaced), their links made relative to the page.
// A section whose markers the page lacks is left out. --check changes nothing and exits 1 when a
// section of the page differs from its results.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const SECTIONS = [
  { name: 'bench', results: join(here, 'results', 'latest.md') },
  { name: 'rollout', results: join(here, 'results', 'rollout.md') },
];

const args = process.argv.slice(2);
const check = args.includes('--check');
const [readmePath = join(here, '..', 'docs', 'benchmarks.md')] = args.filter((a) => a !== '--check');

let readme;
try {
  readme = readFileSync(readmePath, 'utf8');
} catch (err) {
  process.stderr.write(`update-readme: cannot read ${readmePath}: ${err.code ?? err.message}\n`);
  process.exit(1);
}
// the results link from the repository's root (bench/README.md, bench/results/latest.svg)
const up = relative(dirname(readmePath), join(here, '..'));

let updated = readme;
let found = 0;
for (const { name, results } of SECTIONS) {
  const [START, END] = [`<!-- ${name}:start -->`, `<!-- ${name}:end -->`];
  const start = updated.indexOf(START);
  const end = start < 0 ? -1 : updated.indexOf(END, start + START.length);
  if (start < 0 || end < 0 || !existsSync(results)) continue;
  found++;
  const text = readFileSync(results, 'utf8').trimEnd().replaceAll('](bench/', `](${up ? `${up}/` : ''}bench/`);
  updated = `${updated.slice(0, start + START.length)}\n${text}\n${updated.slice(end)}`;
}
if (found === 0) {
  process.stderr.write(`update-readme: ${readmePath} has no <!-- bench:start --> ... <!-- bench:end --> section: nothing changed\n`);
  process.exit(check ? 1 : 0);
}
if (check) {
  const same = updated === readme;
  process.stdout.write(same ? `update-readme: ${readmePath} is up to date\n` : `update-readme: ${readmePath} differs from the latest results\n`);
  process.exit(same ? 0 : 1);
}
if (updated === readme) {
  process.stdout.write(`update-readme: ${readmePath} already up to date\n`);
} else {
  writeFileSync(readmePath, updated);
  process.stdout.write(`update-readme: ${readmePath} updated from the results\n`);
}
