// docker/: static checks of the Dockerfiles and the Kubernetes Deployment, against what they rely on:
// the files parse; every path they COPY out of the build or out of the graceful-init image is in the
// real bundle tarball; the options and GRACEFUL_INIT_* variables they use are real (the binary's own
// parser and --check judge them, so a renamed option fails here); the grace periods agree; the
// Deployment is valid against the Kubernetes API schema. test/engine builds and runs the recipes in
// a real engine.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { Secret } from 'kubernetes-models/v1/Secret';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseDuration } from '../src/cli/duration.js';
import { OPTION_TABLE, envName, parseReadyCheck } from '../src/cli/options.js';
import { APP_NODE_OPTIONS } from '../src/process/app-env.js';
import { BINARY, ROOT, ensureBundle, freePort, httpGet, tempDir, waitFor, type Bundle } from './e2e/harness.js';
import { ask, tokenFile } from './fault/status-client.js';
import { splitCommand } from '../src/cli/split-command.js';

const DOCKER = join(ROOT, 'docker');
const PREFIX = '/opt/graceful-init';
const INIT = `${PREFIX}/bin/graceful-init`;
const ENV_NAMES = new Set([...OPTION_TABLE.map(envName), APP_NODE_OPTIONS]);
const LONG_OPTIONS = new Set(OPTION_TABLE.map((o) => `--${o.long}`));

// ---------------------------------------------------------------------------------------------
// A small Dockerfile parser: what BuildKit's frontend does for the instructions used here.

const INSTRUCTIONS = new Set([
  'FROM', 'RUN', 'CMD', 'LABEL', 'EXPOSE', 'ENV', 'ADD', 'COPY', 'ENTRYPOINT', 'VOLUME', 'USER',
  'WORKDIR', 'ARG', 'ONBUILD', 'STOPSIGNAL', 'HEALTHCHECK', 'SHELL', 'MAINTAINER',
]);
const EXEC_FORM = new Set(['RUN', 'CMD', 'ENTRYPOINT', 'SHELL', 'COPY', 'ADD', 'VOLUME']);

interface Instruction {
  keyword: string;
  line: number;
  flags: Record<string, string>;
  /** after the flags */
  rest: string;
  /** exec (JSON) form, when written so */
  json: string[] | null;
}

interface Stage {
  name: string | null;
  image: string;
  platform: string | null;
  instructions: Instruction[];
}

interface Dockerfile {
  file: string;
  directives: Record<string, string>;
  globalArgs: Record<string, string>;
  stages: Stage[];
}

/** Shell-like words, as the init splits --pre-stop commands; nothing at all for blank text. */
function words(text: string): string[] {
  return text.trim() === '' ? [] : splitCommand(text);
}

function substitute(text: string, vars: Record<string, string>): string {
  return text.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)/g, (_m, a: string, b: string) => {
    const name = a ?? b;
    if (!(name in vars)) throw new Error(`\${${name}} has no value`);
    return vars[name] as string;
  });
}

function parseDockerfile(file: string): Dockerfile {
  const lines = readFileSync(file, 'utf8').split('\n');
  const directives: Record<string, string> = {};
  let i = 0;
  for (; i < lines.length; i++) {
    const m = /^#\s*([a-zA-Z]+)\s*=\s*(\S+)\s*$/.exec(lines[i] as string);
    if (!m) break;
    directives[(m[1] as string).toLowerCase()] = m[2] as string;
  }
  if ((directives.escape ?? '\\') !== '\\') throw new Error(`${file}: only the default escape character is handled`);

  const instructions: Instruction[] = [];
  while (i < lines.length) {
    const start = i;
    let line = lines[i++] as string;
    if (/^\s*(#|$)/.test(line)) continue;
    // continuation lines; comment lines inside them are dropped, as BuildKit does
    while (/\\\s*$/.test(line)) {
      line = line.replace(/\\\s*$/, '');
      while (i < lines.length && /^\s*#/.test(lines[i] as string)) i++;
      if (i >= lines.length) throw new Error(`${file}:${start + 1}: continuation at the end of the file`);
      line += ` ${lines[i++] as string}`;
    }
    const m = /^\s*(\S+)\s*(.*)$/.exec(line);
    if (!m) continue;
    const keyword = (m[1] as string).toUpperCase();
    if (!INSTRUCTIONS.has(keyword)) throw new Error(`${file}:${start + 1}: unknown instruction ${m[1]}`);
    let rest = (m[2] as string).trim();
    if (rest.includes('<<')) throw new Error(`${file}:${start + 1}: heredocs are not handled by this parser`);
    const flags: Record<string, string> = {};
    for (;;) {
      const f = /^--([a-z-]+)(?:=(\S*))?\s*/.exec(rest);
      if (!f || !['FROM', 'COPY', 'ADD', 'RUN', 'HEALTHCHECK'].includes(keyword)) break;
      flags[f[1] as string] = f[2] ?? 'true';
      rest = rest.slice(f[0].length);
    }
    let json: string[] | null = null;
    if (EXEC_FORM.has(keyword) && rest.startsWith('[')) {
      // BuildKit silently falls back to the shell form on bad JSON: here it is an error
      const parsed: unknown = JSON.parse(rest);
      if (!Array.isArray(parsed) || !parsed.every((a) => typeof a === 'string')) {
        throw new Error(`${file}:${start + 1}: ${keyword} exec form must be an array of strings`);
      }
      json = parsed;
    }
    if (rest === '') throw new Error(`${file}:${start + 1}: ${keyword} without arguments`);
    instructions.push({ keyword, line: start + 1, flags, rest, json });
  }

  const globalArgs: Record<string, string> = {};
  const stages: Stage[] = [];
  for (const ins of instructions) {
    if (ins.keyword === 'FROM') {
      const [image, as, name, ...extra] = words(substitute(ins.rest, globalArgs));
      if (!image || extra.length > 0 || (as !== undefined && (as.toUpperCase() !== 'AS' || !name))) {
        throw new Error(`${file}:${ins.line}: FROM image [AS name]`);
      }
      stages.push({ name: name ?? null, image, platform: ins.flags.platform ?? null, instructions: [] });
    } else if (stages.length === 0) {
      if (ins.keyword !== 'ARG') throw new Error(`${file}:${ins.line}: only ARG may come before the first FROM`);
      const [k, v = ''] = ins.rest.split('=', 2) as [string, string?];
      globalArgs[k.trim()] = words(v)[0] ?? '';
    } else {
      (stages.at(-1) as Stage).instructions.push(ins);
    }
  }
  if (stages.length === 0) throw new Error(`${file}: no FROM`);
  return { file, directives, globalArgs, stages };
}

function envOf(stage: Stage): Record<string, string> {
  const env: Record<string, string> = {};
  for (const ins of stage.instructions.filter((x) => x.keyword === 'ENV')) {
    const w = words(ins.rest);
    if (w[0] && !w[0].includes('=')) {
      env[w[0]] = w.slice(1).join(' '); // legacy ENV key value
      continue;
    }
    for (const pair of w) {
      const eq = pair.indexOf('=');
      if (eq <= 0) throw new Error(`ENV ${ins.rest}: "${pair}" is not key=value`);
      env[pair.slice(0, eq)] = pair.slice(eq + 1);
    }
  }
  return env;
}

const last = (stage: Stage, keyword: string) => stage.instructions.filter((x) => x.keyword === keyword).at(-1);

/** COPY/ADD sources and destination (exec or shell form). */
function copyArgs(ins: Instruction): { sources: string[]; dest: string } {
  const parts = ins.json ?? words(ins.rest);
  if (parts.length < 2) throw new Error(`line ${ins.line}: ${ins.keyword} needs a source and a destination`);
  return { sources: parts.slice(0, -1), dest: parts.at(-1) as string };
}

const globRe = (glob: string) =>
  new RegExp(`^${glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]')}$`);

/** A COPY source (maybe a glob, maybe a directory) names something among `paths` (absolute, no trailing /). */
function sourceExists(source: string, paths: Set<string>): boolean {
  const re = globRe(source.replace(/\/+$/, ''));
  return [...paths].some((p) => re.test(p));
}

/** .dockerignore semantics, enough for the patterns used here: last match wins, ! re-includes. */
function ignored(path: string, patterns: string[]): boolean {
  let out = false;
  const segments = path.split('/');
  for (const raw of patterns) {
    const negate = raw.startsWith('!');
    const pattern = (negate ? raw.slice(1) : raw).replace(/\/+$/, '');
    const re = globRe(pattern);
    // a pattern matching a parent directory covers what is inside it
    if (segments.some((_s, n) => re.test(segments.slice(0, n + 1).join('/')))) out = !negate;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------

let bundle: Bundle;
/** absolute paths in the bundle, as unpacked at / (directories without their trailing /) */
let bundlePaths: Set<string>;

function dockerfiles(): string[] {
  const found: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name === 'Dockerfile') found.push(p);
    }
  };
  walk(DOCKER);
  return found.sort();
}

const examples = () => dockerfiles().filter((f) => f !== join(DOCKER, 'Dockerfile'));

/** The binary's verdict on a set of options: its --check output (exit 0), or it throws. */
function check(args: string[], env: Record<string, string>): string {
  const r = spawnSync(BINARY, ['--check', ...args], { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env }, encoding: 'utf8', timeout: 15_000 });
  if (r.status !== 0) throw new Error(`graceful-init ${args.join(' ')} --check (env ${JSON.stringify(env)}) exited ${r.status ?? r.signal}: ${r.stderr}`);
  return r.stdout;
}

/** ENTRYPOINT of the init: [INIT, ...options, '--', ...app] */
function splitEntrypoint(entry: string[]): { options: string[]; app: string[] } {
  const sep = entry.indexOf('--');
  if (entry[0] !== INIT || sep < 0) throw new Error(`ENTRYPOINT ${JSON.stringify(entry)} is not ["${INIT}", options..., "--", app...]`);
  return { options: entry.slice(1, sep), app: entry.slice(sep + 1) };
}

function graceInitEnv(env: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(env).filter(([k]) => k.startsWith('GRACEFUL_INIT_')));
}

beforeAll(() => {
  bundle = ensureBundle();
  // the real tarball, listed again here rather than trusted from the script's summary
  const listing = spawnSync('tar', ['-tzf', join(ROOT, bundle.tarball)], { encoding: 'utf8', maxBuffer: 16 << 20 });
  if (listing.status !== 0) throw new Error(`tar -tzf: ${listing.stderr}`);
  bundlePaths = new Set(listing.stdout.split('\n').filter(Boolean).map((p) => `/${p.replace(/\/$/, '')}`));
}, 180_000);

describe('docker/ files', () => {
  it('every Dockerfile parses, with valid exec-form JSON; the recipes have a syntax directive, docker/Dockerfile none (it builds offline)', () => {
    const files = dockerfiles();
    expect(files.map((f) => relative(DOCKER, f))).toEqual([
      'Dockerfile',
      'examples/alpine/Dockerfile',
      'examples/distroless/Dockerfile',
      'examples/nginx/Dockerfile',
      'examples/scratch/Dockerfile',
    ]);
    for (const f of files) {
      const d = parseDockerfile(f);
      // a syntax directive makes BuildKit fetch that frontend from Docker Hub
      if (f === join(DOCKER, 'Dockerfile')) expect(d.directives.syntax, f).toBeUndefined();
      else expect(d.directives.syntax, f).toMatch(/^docker\/dockerfile:1/);
    }
  });

  it('the parser rejects what BuildKit would silently misread', () => {
    expect(() => words('"unterminated')).toThrow();
    expect(words(`a "b c" 'd e' f\\ g`)).toEqual(['a', 'b c', 'd e', 'f g']);
    expect(ignored('src/reaper/build/x.o', ['*', '!src/', 'src/reaper/build/'])).toBe(true);
    expect(ignored('src/main.ts', ['*', '!src/', 'src/reaper/build/'])).toBe(false);
    expect(ignored('node_modules/x', ['*', '!src/'])).toBe(true);
  });

  describe('docker/Dockerfile (build → bundle → minimal image)', () => {
    const main = () => parseDockerfile(join(DOCKER, 'Dockerfile'));

    it('builds the bundle with npm ci and npm run bundle, with the tools bundle.mjs needs', () => {
      const build = main().stages.find((s) => s.name === 'build') as Stage;
      expect(build.image).toMatch(/^node:24(-|$)/);
      expect(build.platform).toBe('linux/amd64');
      const runs = build.instructions.filter((x) => x.keyword === 'RUN').map((x) => x.rest);
      expect(runs.some((r) => /\bnpm ci\b/.test(r))).toBe(true);
      expect(runs.some((r) => /\bnpm run bundle\b/.test(r))).toBe(true);
      expect(runs.some((r) => /apt-get install[^&]*\bpatchelf\b/.test(r))).toBe(true);
      const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
      expect(pkg.scripts.bundle).toContain('scripts/bundle.mjs');
    });

    it('copies from the context only files that exist and that its .dockerignore lets through, and all the build needs', () => {
      const d = main();
      const ignore = readFileSync(join(DOCKER, 'Dockerfile.dockerignore'), 'utf8')
        .split('\n')
        .map((l) => l.trim())
        .filter((l) => l && !l.startsWith('#'));
      const copied: string[] = [];
      for (const stage of d.stages) {
        for (const ins of stage.instructions.filter((x) => x.keyword === 'COPY' && !x.flags.from)) {
          for (const src of copyArgs(ins).sources) {
            const p = join(ROOT, src);
            expect(existsSync(p), `${src} (line ${ins.line})`).toBe(true);
            expect(ignored(src.replace(/\/+$/, ''), ignore), `${src} is excluded by Dockerfile.dockerignore`).toBe(false);
            copied.push(src.replace(/\/+$/, ''));
          }
        }
      }
      // what npm ci and npm run bundle read
      for (const needed of ['package.json', 'package-lock.json', 'scripts/build.mjs', 'scripts/build-addon.mjs', 'scripts/bundle.mjs', 'src/main.ts', 'src/reaper/binding.gyp', 'src/reaper/reaper.c']) {
        expect(copied.some((c) => needed === c || needed.startsWith(`${c}/`)), `${needed} is not copied`).toBe(true);
        expect(ignored(needed, ignore), `${needed} is excluded`).toBe(false);
      }
    });

    it('unpacks the real tarball and copies out of the build only what the bundle holds', () => {
      const d = main();
      const build = d.stages.find((s) => s.name === 'build') as Stage;
      const workdir = last(build, 'WORKDIR')?.rest as string;
      const untar = build.instructions.map((x) => /tar -xzf (\S+) -C (\S+)/.exec(x.rest)).find(Boolean);
      expect(untar, 'a RUN that unpacks the bundle').toBeTruthy();
      const [, rawGlob, into] = untar as RegExpExecArray;
      // the RUN picks the architecture from TARGETARCH into $arch; here: the one of our tarball
      const tarGlob = (rawGlob as string).replace(/\$\{?arch\}?/g, bundle.arch);
      expect(join(workdir, bundle.tarball)).toMatch(globRe(join(workdir, tarGlob)));
      // what the build stage holds that matters: the tarball, and its contents under <into>
      const buildPaths = new Set([join(workdir, bundle.tarball), ...[...bundlePaths].map((p) => join(into as string, p))]);
      let copies = 0;
      for (const stage of d.stages) {
        for (const ins of stage.instructions.filter((x) => x.keyword === 'COPY' && x.flags.from === 'build')) {
          for (const src of copyArgs(ins).sources) {
            expect(sourceExists(src.startsWith('/') ? src : join(workdir, src), buildPaths), `COPY --from=build ${src}`).toBe(true);
            copies++;
          }
        }
      }
      expect(copies).toBeGreaterThanOrEqual(2);
    });

    it('the last stage is the graceful-init image: /opt/graceful-init only, the executable as ENTRYPOINT', () => {
      const final = main().stages.at(-1) as Stage;
      expect(final.name).toBe('graceful-init');
      expect(final.image).toBe('scratch');
      const copies = final.instructions.filter((x) => x.keyword === 'COPY' || x.keyword === 'ADD');
      expect(copies.map((x) => copyArgs(x).dest)).toEqual([PREFIX]);
      expect(last(final, 'ENTRYPOINT')?.json).toEqual([INIT]);
      expect(bundle.files.find((f) => `/${f.path}` === INIT)?.mode).toMatch(/^rwx/);
    });

    it('maps every TARGETARCH it accepts to an architecture scripts/bundle.mjs knows', () => {
      const build = main().stages.find((s) => s.name === 'build') as Stage;
      const run = build.instructions.find((x) => x.keyword === 'RUN' && x.rest.includes('TARGETARCH'));
      const arms = [...(run?.rest ?? '').matchAll(/(\w+)\) arch=(\w+)/g)].map((m) => [m[1], m[2]]);
      expect(arms).toEqual([['amd64', 'x64'], ['arm64', 'arm64']]);
      const bundleScript = readFileSync(join(ROOT, 'scripts', 'bundle.mjs'), 'utf8');
      for (const [, arch] of arms) expect(bundleScript).toMatch(new RegExp(`^  ${arch}: \\{`, 'm'));
      expect(run?.rest).toMatch(/apt-get install[^;]*gcc-aarch64-linux-gnu/);
      expect(existsSync(join(ROOT, 'scripts', 'build-arm64.mjs'))).toBe(true);
    });

    it('the tarball stage exports the file npm run bundle writes', () => {
      const tarball = main().stages.find((s) => s.name === 'tarball') as Stage;
      const [copy] = tarball.instructions.filter((x) => x.keyword === 'COPY');
      const { sources } = copyArgs(copy as Instruction);
      expect(`/src/${bundle.tarball}`).toMatch(globRe(sources[0] as string));
    });
  });

  describe.each(examples().map((f) => [relative(DOCKER, f), f]))('%s', (_name, file) => {
    it('copies /opt/graceful-init from the graceful-init image to the same place, and starts it', () => {
      const d = parseDockerfile(file);
      const initStage = d.stages.find((s) => s.name === 'graceful-init') as Stage;
      expect(initStage, 'a stage named graceful-init').toBeTruthy();
      expect(d.globalArgs.INIT_IMAGE).toMatch(/^graceful-init:/);
      const final = d.stages.at(-1) as Stage;
      const fromInit = final.instructions.filter((x) => x.keyword === 'COPY' && x.flags.from === 'graceful-init');
      expect(fromInit).toHaveLength(1);
      const { sources, dest } = copyArgs(fromInit[0] as Instruction);
      // the ELF interpreter is an absolute path into the bundle: it must land at exactly PREFIX
      expect(sources).toEqual([PREFIX]);
      expect(dest).toBe(PREFIX);
      expect(sourceExists(PREFIX, bundlePaths)).toBe(true);
      const entry = last(final, 'ENTRYPOINT')?.json as string[];
      expect(entry, 'ENTRYPOINT in exec form').toBeTruthy();
      expect(bundlePaths.has(entry[0] as string)).toBe(true);
      // ENTRYPOINT resets the base image's CMD: the app must be named somewhere
      const { app } = splitEntrypoint(entry);
      const cmd = last(final, 'CMD')?.json ?? [];
      expect([...app, ...cmd].length).toBeGreaterThan(0);
      // files copied from the example's own context exist
      for (const ins of final.instructions.filter((x) => (x.keyword === 'COPY' || x.keyword === 'ADD') && !x.flags.from)) {
        for (const src of copyArgs(ins).sources) expect(existsSync(join(dirname(file), src)), src).toBe(true);
      }
    });

    it('uses only real options and GRACEFUL_INIT_* variables, and the binary accepts them without warnings', () => {
      const d = parseDockerfile(file);
      const final = d.stages.at(-1) as Stage;
      const env = graceInitEnv(envOf(final));
      for (const name of Object.keys(env)) expect(ENV_NAMES, name).toContain(name);
      const { options } = splitEntrypoint(last(final, 'ENTRYPOINT')?.json as string[]);
      for (const o of options.filter((x) => x.startsWith('--'))) expect(LONG_OPTIONS, o).toContain(o.split('=')[0]);
      const plan = check(options, env);
      expect(plan).not.toContain('warning:');
      // the image's STOPSIGNAL (docker stop, and Kubernetes through containerd) starts the sequence
      const stopsignal = last(final, 'STOPSIGNAL')?.rest;
      if (stopsignal) {
        const stopSignals = /a stop signal arrives \(([^)]*)\)/.exec(plan)?.[1]?.split(', ') ?? [];
        expect(stopSignals).toContain(stopsignal.replace(/^SIG/, ''));
      }
    });
  });

  it('nginx: its entrypoint, CMD and STOPSIGNAL kept; the image\'s QUIT starts the sequence, which ends in QUIT, nginx\'s graceful stop', () => {
    const final = parseDockerfile(join(DOCKER, 'examples', 'nginx', 'Dockerfile')).stages.at(-1) as Stage;
    expect(final.image).toMatch(/^nginx:/);
    const { options, app } = splitEntrypoint(last(final, 'ENTRYPOINT')?.json as string[]);
    expect(app).toEqual(['/docker-entrypoint.sh']);
    const cmd = last(final, 'CMD')?.json as string[];
    expect(cmd).toEqual(['nginx', '-g', 'daemon off;']);
    // the base image's STOPSIGNAL SIGQUIT is not restated
    expect(last(final, 'STOPSIGNAL')).toBeUndefined();
    const env = graceInitEnv(envOf(final));
    expect(env.GRACEFUL_INIT_PRE_STOP).toBeUndefined();
    const plan = check([...options, '--', ...app, ...cmd], env);
    expect(plan).toMatch(/^nginx recognised from the command line: the stop step sends QUIT, its graceful stop \(https:\/\/nginx\.org\/en\/docs\/control\.html\); QUIT, its image's STOPSIGNAL, starts the shutdown too\n/);
    expect(plan).toMatch(/a stop signal arrives \(TERM, INT, QUIT\)/);
    // the adaptive drain (docs/readiness-and-drain.md), then nginx's graceful stop
    expect(plan).toMatch(/t=0s +drain until no new request for 1s \(at least 2s, at most 15s\)/);
    expect(plan).toMatch(/t=15s +stop: QUIT \(nginx's graceful stop\) to the app/);
    expect(plan).not.toContain('warning:');
  });
});

// ---------------------------------------------------------------------------------------------

interface Container {
  name: string;
  image: string;
  ports?: { name?: string; containerPort: number }[];
  env?: { name: string; value?: string }[];
  readinessProbe?: { httpGet?: { path: string; port: string | number }; failureThreshold?: number };
  livenessProbe?: { httpGet?: { path: string; port: string | number } };
  lifecycle?: { preStop?: { httpGet?: { path: string; port: string | number; httpHeaders?: { name: string; value: string }[] } } };
  securityContext?: { readOnlyRootFilesystem?: boolean };
  volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[];
}
interface Volume {
  name: string;
  secret?: { secretName: string; defaultMode?: number };
}

describe('docker/kubernetes/deployment.yaml', () => {
  const load = () => {
    const docs = parseAllDocuments(readFileSync(join(DOCKER, 'kubernetes', 'deployment.yaml'), 'utf8'));
    for (const doc of docs) expect(doc.errors).toEqual([]);
    type Pod = { terminationGracePeriodSeconds: number; containers: Container[]; volumes?: Volume[] };
    const all = docs.map((d) => d.toJS() as { kind: string; metadata: { name: string }; spec: { template: { spec: Pod } }; stringData?: Record<string, string> });
    const deployment = all.find((d) => d.kind === 'Deployment');
    expect(deployment).toBeTruthy();
    const pod = deployment?.spec.template.spec as Pod;
    const container = pod.containers.find((c) => c.name === 'nginx') as Container;
    const env = Object.fromEntries((container.env ?? []).map((e) => [e.name, e.value ?? '']));
    const secrets = all.filter((d) => d.kind === 'Secret');
    return { pod, container, env, secrets };
  };
  /** The image's ENV, overridden by the pod's env; and its ENTRYPOINT options. */
  const effective = () => {
    const { env } = load();
    const image = parseDockerfile(join(DOCKER, 'examples', 'nginx', 'Dockerfile')).stages.at(-1) as Stage;
    const { options } = splitEntrypoint(last(image, 'ENTRYPOINT')?.json as string[]);
    return { options, env: { ...graceInitEnv(envOf(image)), ...graceInitEnv(env) } };
  };

  it('parses, and sets the grace period, drain delay, pre-stop and status address as real variables', () => {
    const { env } = load();
    for (const name of Object.keys(env).filter((k) => k.startsWith('GRACEFUL_INIT_'))) expect(ENV_NAMES, name).toContain(name);
    for (const name of ['GRACEFUL_INIT_GRACE_PERIOD', 'GRACEFUL_INIT_DRAIN_DELAY', 'GRACEFUL_INIT_PRE_STOP', 'GRACEFUL_INIT_STATUS_ADDR']) {
      expect(env, name).toHaveProperty(name);
    }
  });

  it('GRACEFUL_INIT_GRACE_PERIOD is terminationGracePeriodSeconds', () => {
    const { pod, env } = load();
    expect(parseDuration(env.GRACEFUL_INIT_GRACE_PERIOD as string)).toBe(pod.terminationGracePeriodSeconds * 1000);
    const { options, env: all } = effective();
    expect(check(options, all)).toMatch(new RegExp(`t=${pod.terminationGracePeriodSeconds}s\\s+the kubelet's SIGKILL`));
  });

  it('with the image it runs (docker/examples/nginx), the plan fits the grace period without warnings', () => {
    const { options, env } = effective();
    const plan = check(options, env);
    expect(plan).not.toContain('warning:');
    expect(plan).toMatch(/pre-stop 1: nginx -s quit/);
  });

  it('is a valid apps/v1 Deployment and v1 Secret for the Kubernetes API schema (kubernetes-models)', () => {
    const docs = parseAllDocuments(readFileSync(join(DOCKER, 'kubernetes', 'deployment.yaml'), 'utf8')).map((d) => d.toJS() as { kind: string });
    const deployment = docs.find((d) => d.kind === 'Deployment');
    expect(() => new Deployment(deployment as ConstructorParameters<typeof Deployment>[0]).validate()).not.toThrow();
    expect(() => new Secret(docs.find((d) => d.kind === 'Secret') as ConstructorParameters<typeof Secret>[0]).validate()).not.toThrow();
    // the validator can say no: a grace period written as a string is not an integer
    const broken = structuredClone(deployment) as unknown as { spec: { template: { spec: { terminationGracePeriodSeconds: unknown } } } };
    broken.spec.template.spec.terminationGracePeriodSeconds = '45';
    expect(() => new Deployment(broken as ConstructorParameters<typeof Deployment>[0]).validate()).toThrow(/terminationGracePeriodSeconds/);
  });

  it('the probes ask the status endpoint, whose /readyz asks nginx (--ready-check); the preStop hook uses it too', () => {
    const { container, env } = load();
    const addr = env.GRACEFUL_INIT_STATUS_ADDR as string;
    const m = /^(.*):(\d+)$/.exec(addr);
    expect(m, addr).toBeTruthy();
    expect(['0.0.0.0', '[::]', '']).toContain(m?.[1]); // the kubelet connects to the pod IP
    const statusPort = Number(m?.[2]);
    const portOf = (p: string | number) => (typeof p === 'number' ? p : container.ports?.find((x) => x.name === p)?.containerPort);
    expect([container.readinessProbe?.httpGet?.path, container.livenessProbe?.httpGet?.path]).toEqual(['/readyz', '/healthz']);
    // /readyz is the last --ready-check (every second, 0.8 s timeout): one slow answer must not take the pod out
    expect(container.readinessProbe?.failureThreshold ?? 3).toBeGreaterThanOrEqual(2);
    for (const probe of [container.readinessProbe?.httpGet, container.livenessProbe?.httpGet]) expect(portOf(probe?.port as string | number)).toBe(statusPort);
    // /readyz follows nginx: the check is a real one, on nginx's own port
    expect(parseReadyCheck(env.GRACEFUL_INIT_READY_CHECK as string)).toEqual({ kind: 'http', host: '127.0.0.1', port: portOf('http'), path: '/' });
    const preStop = container.lifecycle?.preStop?.httpGet;
    expect(preStop?.path).toBe('/prestop');
    expect(portOf(preStop?.port as string | number)).toBe(statusPort);
  });

  it("the preStop hook sends the Secret's token, which the init reads from the Secret's file, readable by root alone", () => {
    const { pod, container, env, secrets } = load();
    const file = env.GRACEFUL_INIT_PRESTOP_TOKEN_FILE as string;
    const mount = container.volumeMounts?.find((m) => file.startsWith(`${m.mountPath}/`));
    expect(mount?.readOnly).toBe(true);
    const volume = pod.volumes?.find((v) => v.name === mount?.name);
    expect(volume?.secret?.defaultMode).toBe(0o400);
    const secret = secrets.find((x) => x.metadata.name === volume?.secret?.secretName);
    const token = secret?.stringData?.[file.slice((mount?.mountPath.length ?? 0) + 1)];
    expect(token).toBeTruthy();
    expect(container.lifecycle?.preStop?.httpGet?.httpHeaders).toEqual([{ name: 'Authorization', value: `Bearer ${token}` }]);
    // as shipped, a placeholder the init refuses: nobody runs with a token everyone has read here
    const dir = tempDir();
    try {
      writeFileSync(join(dir.path, 'token'), token as string);
      const r = spawnSync(BINARY, ['--status-addr', '127.0.0.1:1', '--prestop-token-file', join(dir.path, 'token'), '--', 'true'], { encoding: 'utf8', timeout: 10_000 });
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(/holds spaces .*head -c 24 \/dev\/urandom \| base64\n$/);
    } finally {
      dir.cleanup();
    }
    // the path is one the option documents
    const help = OPTION_TABLE.find((o) => o.long === 'status-addr')?.help ?? '';
    expect(help).toContain('/prestop');
  });

  it('the real status endpoint answers /prestop: it stops the app and answers when it has exited', async () => {
    const { container } = load();
    const port = await freePort();
    const dir = tempDir();
    const token = 'a-token-the-test-chose-1234';
    const init = spawn(BINARY, ['--status-addr', `127.0.0.1:${port}`, '--prestop-token-file', tokenFile(dir.path, token), '--', 'sleep', '30'], { stdio: 'ignore' });
    try {
      const exited = new Promise<number | null>((r) => init.on('close', r));
      await waitFor('the status endpoint', async () => (await httpGet(port, '/readyz', 500)).status === 200);
      const headers = Object.fromEntries((container.lifecycle?.preStop?.httpGet?.httpHeaders ?? []).map((h) => [h.name, h.value.replace(/^Bearer .*/, `Bearer ${token}`)]));
      const hook = await ask(port, container.lifecycle?.preStop?.httpGet?.path as string, { headers, timeoutMs: 10_000 });
      expect(hook.status).toBe(200);
      expect(await exited).toBe(143); // sleep ended by the TERM of the stop step
    } finally {
      init.kill('SIGKILL');
      dir.cleanup();
    }
  });

  it('with a read-only root, nginx gets writable /var/cache/nginx and /var/run', () => {
    const { container } = load();
    expect(container.securityContext?.readOnlyRootFilesystem).toBe(true);
    const mounts = (container.volumeMounts ?? []).map((v) => v.mountPath);
    expect(mounts).toEqual(expect.arrayContaining(['/var/cache/nginx', '/var/run']));
  });
});

describe('docs/images.md', () => {
  const doc = () => readFileSync(join(ROOT, 'docs', 'images.md'), 'utf8');

  it('names only real GRACEFUL_INIT_* variables and options', () => {
    const text = doc();
    for (const name of new Set(text.match(/GRACEFUL_INIT_[A-Z0-9_]+/g) ?? [])) expect(ENV_NAMES, name).toContain(name);
    // options written after the executable's name, on the command line or in an ENTRYPOINT array
    for (const line of text.split('\n').filter((l) => l.includes('graceful-init'))) {
      const after = line.slice(line.indexOf('graceful-init'));
      for (const m of after.matchAll(/(?:^|[\s"[,])(--[a-z][a-z-]*)/g)) {
        const opt = m[1] as string;
        if (['--from', '--platform', '--target', '--output', '--read-only', '--tmpfs', '--stop-timeout', '--rm', '--prefix', '--force', '--init', '--user', '--build-arg'].includes(opt)) continue;
        expect(LONG_OPTIONS, `${opt} in: ${line.trim()}`).toContain(opt);
      }
    }
  });

  it('gives the bundle paths the tarball has, and has a section per image kind; docs/shutdown.md has both diagrams', () => {
    const text = doc();
    for (const p of new Set(text.match(/\/opt\/graceful-init\/[A-Za-z0-9_./+-]*[A-Za-z0-9_]/g) ?? [])) {
      expect(bundlePaths, p).toContain(p);
    }
    for (const heading of ['Debian', 'Alpine', 'distroless', 'scratch', 'nginx', 'Kubernetes']) {
      expect(text).toMatch(new RegExp(`^#+ .*${heading}`, 'mi'));
    }
    const shutdown = readFileSync(join(ROOT, 'docs', 'shutdown.md'), 'utf8');
    expect((shutdown.match(/```mermaid/g) ?? []).length).toBeGreaterThanOrEqual(2);
  });

  it('the size it quotes is the size of the tarball, within 15%', () => {
    const m = /bundle is ([\d.]+) MiB compressed, ([\d.]+) MiB unpacked/.exec(doc());
    expect(m, 'the "bundle is N MiB compressed, M MiB unpacked" sentence').toBeTruthy();
    const size = statSync(join(ROOT, bundle.tarball)).size / 1048576;
    expect(Math.abs(Number(m?.[1]) - size) / size).toBeLessThan(0.15);
  });
});
