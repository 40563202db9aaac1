// An OCI bundle for runc from an image built by the engine, shaped as containerd shapes a
// Kubernetes container: the image's entrypoint, command and environment with the pod's env on top,
// containerd's default capabilities, emptyDir volumes as tmpfs, the host's network.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { dockerOk } from './docker.mjs';

// containerd's default set for a container that asks for none (oci.DefaultCapabilities)
const CAPABILITIES = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FSETID', 'CAP_FOWNER', 'CAP_MKNOD', 'CAP_NET_RAW', 'CAP_SETGID',
  'CAP_SETUID', 'CAP_SETFCAP', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE', 'CAP_SYS_CHROOT', 'CAP_KILL', 'CAP_AUDIT_WRITE',
];

/**
 * Unpacks `image` into `dir`/rootfs and writes `dir`/config.json (runc spec, then the changes).
 * `container`: { env: [{name, value}], securityContext, volumeMounts } as in a pod spec;
 * `binds`: [host path, container path] read-only bind mounts (the test's own site).
 * Returns the image's config (StopSignal, Entrypoint, ...).
 */
export async function ociBundle(daemon, image, dir, { container, binds = [] }) {
  const config = JSON.parse(await dockerOk(daemon, ['inspect', '-f', '{{json .Config}}', image]));
  const rootfs = join(dir, 'rootfs');
  mkdirSync(rootfs, { recursive: true });
  const id = await dockerOk(daemon, ['create', image]);
  try {
    const tarFile = join(dir, 'rootfs.tar');
    await dockerOk(daemon, ['export', '-o', tarFile, id]);
    const r = spawnSync('tar', ['-C', rootfs, '-xf', tarFile], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`tar: ${r.stderr}`);
    spawnSync('rm', ['-f', tarFile]);
  } finally {
    await dockerOk(daemon, ['rm', id]);
  }
  const r = spawnSync('runc', ['spec'], { cwd: dir, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`runc spec: ${r.stderr}`);
  const spec = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));

  const env = new Map((config.Env ?? []).map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]));
  for (const e of container.env ?? []) env.set(e.name, e.value ?? '');
  spec.process.terminal = false;
  spec.process.args = [...(config.Entrypoint ?? []), ...(container.args ?? config.Cmd ?? [])];
  spec.process.env = [...env].map(([k, v]) => `${k}=${v}`);
  spec.process.cwd = config.WorkingDir || '/';
  spec.process.capabilities = { bounding: CAPABILITIES, effective: CAPABILITIES, permitted: CAPABILITIES };
  spec.process.noNewPrivileges = container.securityContext?.allowPrivilegeEscalation === false;
  spec.root.readonly = Boolean(container.securityContext?.readOnlyRootFilesystem);
  spec.linux.namespaces = spec.linux.namespaces.filter((n) => n.type !== 'network');
  spec.hostname = undefined;
  for (const v of container.volumeMounts ?? []) {
    spec.mounts.push({ destination: v.mountPath, type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'mode=755'] });
  }
  for (const [host, path] of binds) spec.mounts.push({ destination: path, type: 'bind', source: host, options: ['rbind', 'ro'] });
  writeFileSync(join(dir, 'config.json'), JSON.stringify(spec, null, 2));
  return config;
}
