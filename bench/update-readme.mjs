#!/usr/bin/env node
// node bench/update-readme.mjs [--check] [PAGE] [RESULTS_MD]
// Puts bench/results/latest.md into docs/benchmarks.md (or PAGE) between the lines
//   <!-- bench:start -->  and  <!-- bench:end -->
// (the markers stay; everything between them is replaced), its links made relative to the page.
// Without both markers the page is left alone. --check changes nothing and exits 1 when the page's
// section differs from the results.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const START = '<!-- bench:start -->';
const END = '<!-- bench:end -->';
const here = dirname(fileURLToPath(import.meta.url));

const args = process.argv.slice(2);
const check = args.includes('--check');
const [readmePath = join(here, '..', 'docs', 'benchmarks.md'), resultsPath = join(here, 'results', 'latest.md')] = args.filter((a) => a !== '--check');

let readme;
try {
  readme = readFileSync(readmePath, 'utf8');
} catch (err) {
  process.stderr.write(`update-readme: cannot read ${readmePath}: ${err.code ?? err.message}\n`);
  process.exit(1);
}
// latest.md links from the repository's root (bench/README.md, bench/results/latest.svg)
const up = relative(dirname(readmePath), join(here, '..'));
const results = readFileSync(resultsPath, 'utf8').trimEnd().replaceAll('](bench/', `](${up ? `${up}/` : ''}bench/`);

const start = readme.indexOf(START);
const end = start < 0 ? -1 : readme.indexOf(END, start + START.length);
if (start < 0 || end < 0) {
  process.stderr.write(`update-readme: ${readmePath} has no ${START} ... ${END} section: nothing changed\n`);
  process.exit(check ? 1 : 0);
}

const updated = `${readme.slice(0, start + START.length)}\n${results}\n${readme.slice(end)}`;
if (check) {
  const same = updated === readme;
  process.stdout.write(same ? `update-readme: ${readmePath} is up to date\n` : `update-readme: ${readmePath} differs from the latest results\n`);
  process.exit(same ? 0 : 1);
}
if (updated === readme) {
  process.stdout.write(`update-readme: ${readmePath} already up to date\n`);
} else {
  writeFileSync(readmePath, updated);
  process.stdout.write(`update-readme: ${readmePath} updated from ${resultsPath}\n`);
}
