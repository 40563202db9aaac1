// docker/Dockerfile built as a user builds it: BuildKit (the builder of current Docker releases),
// the repository root as the context (docker/Dockerfile.dockerignore applies), on a local stand-in
// of its base image tagged with the name the Dockerfile gives (images.mjs makes it). npm inside the
// build reaches the registry this machine is configured for through the Dockerfile's npmrc secret.
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { connect, rootCertificates } from 'node:tls';
import { join } from 'node:path';
import { dockerOk } from './docker.mjs';

export const DOCKERFILE = (root) => join(root, 'docker', 'Dockerfile');

/** The image the build stage starts from, as the Dockerfile writes it (e.g. node:24-bookworm). */
export function dockerfileBase(root) {
  const from = /^FROM\s+(?:--platform=\S+\s+)?(\S+)\s+AS\s+build\s*$/im.exec(readFileSync(DOCKERFILE(root), 'utf8'));
  if (!from) throw new Error('docker/Dockerfile has no `FROM <image> AS build` stage');
  return from[1];
}

const PEM = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;
const derOf = (pem) => Buffer.from(pem.replace(/-----[A-Z ]+-----|\s+/g, ''), 'base64');

/**
 * The root certificate the registry's chain ends in here, when Node does not trust it by itself
 * (a proxy that re-signs TLS with its own CA, as this machine's does); null when Node does.
 */
async function registryRootCa(registry, cafile) {
  const url = new URL(registry);
  if (url.protocol !== 'https:') return null;
  const trusted = cafile ? readFileSync(cafile, 'utf8').match(PEM) ?? [] : [];
  const chain = await new Promise((resolve, reject) => {
    const socket = connect({ host: url.hostname, port: Number(url.port) || 443, servername: url.hostname, ...(trusted.length ? { ca: trusted } : {}) });
    socket.setTimeout(15_000, () => socket.destroy(new Error(`no TLS answer from ${url.host} in 15 s`)));
    socket.once('secureConnect', () => {
      const top = socket.getPeerCertificate(true);
      socket.end();
      resolve(top);
    });
    socket.once('error', reject);
  });
  let top = chain;
  while (top.issuerCertificate && top.issuerCertificate !== top && top.issuerCertificate.fingerprint256 !== top.fingerprint256) top = top.issuerCertificate;
  if (rootCertificates.some((pem) => derOf(pem).equals(top.raw))) return null;
  const pem = trusted.find((p) => derOf(p).equals(top.raw));
  if (!pem) throw new Error(`the registry's root certificate (${top.subject?.CN ?? '?'}) is not in npm's cafile ${cafile}`);
  return pem;
}

/**
 * An .npmrc for the build (the Dockerfile mounts it as the secret npmrc): this machine's registry,
 * proxies, and the one CA its registry needs. Not the whole cafile: npm passes its settings to
 * install scripts as environment variables, and ~140 certificates overflow an exec's argument space.
 */
export async function writeBuildNpmrc(file) {
  const r = spawnSync('npm', ['config', 'ls', '-l', '--json'], { encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) throw new Error(`npm config ls: ${r.stderr}`);
  const config = JSON.parse(r.stdout);
  const lines = [`registry=${config.registry}`];
  for (const key of ['proxy', 'https-proxy', 'noproxy']) {
    const value = [config[key]].flat().filter(Boolean).join(',');
    if (value) lines.push(`${key}=${value}`);
  }
  if (config['strict-ssl'] === false) lines.push('strict-ssl=false');
  const ca = config['strict-ssl'] === false ? null : await registryRootCa(config.registry, config.cafile);
  if (ca) lines.push(`ca="${ca.replace(/\r?\n/g, '\\n')}"`);
  writeFileSync(file, `${lines.join('\n')}\n`, { mode: 0o600 });
  return file;
}

/** `docker build -f docker/Dockerfile -t <tag> .` with BuildKit, from the repository root. */
export async function buildInitImage(daemon, { root, tag, log }) {
  const npmrc = await writeBuildNpmrc(join(daemon.dir, 'build.npmrc'));
  const started = Date.now();
  const buildkit = { ...daemon, env: { ...daemon.env, DOCKER_BUILDKIT: '1' } };
  // --network host: the daemon has no bridge; the build reaches the npm registry and Debian's mirror
  await dockerOk(buildkit, ['build', '--progress=plain', '--network', 'host', '--secret', `id=npmrc,src=${npmrc}`, '-f', DOCKERFILE(root), '-t', tag, root], { timeoutMs: 600_000 });
  log(`docker/Dockerfile: built ${tag} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return tag;
}
