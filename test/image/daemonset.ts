// deploy/daemonset.yaml read as podman arguments, so that `make image-test` runs the image with
// exactly the privileges, host namespaces and host paths a cluster would give it: the test
// cannot drift from the manifest. Anything the manifest says that this translation does not
// know is an error, not something silently left out.
import fs from 'node:fs';
import YAML from 'yaml';

interface Capabilities { drop?: string[]; add?: string[] }
interface SecurityContext {
  privileged?: boolean;
  allowPrivilegeEscalation?: boolean;
  readOnlyRootFilesystem?: boolean;
  runAsUser?: number;
  capabilities?: Capabilities;
  seccompProfile?: { type: string };
}
interface VolumeMount { name: string; mountPath: string; readOnly?: boolean }
interface Volume { name: string; hostPath?: { path: string; type?: string }; emptyDir?: object }
interface EnvVar { name: string; value?: string; valueFrom?: { fieldRef?: { fieldPath: string } } }
interface Container {
  name: string;
  image: string;
  args?: string[];
  env?: EnvVar[];
  securityContext?: SecurityContext;
  volumeMounts?: VolumeMount[];
  resources?: { limits?: { memory?: string } };
}
interface PodSpec {
  hostPID?: boolean;
  hostNetwork?: boolean;
  terminationGracePeriodSeconds?: number;
  containers: Container[];
  volumes?: Volume[];
}

export interface PodmanPlan {
  image: string;
  /** `podman run` options: namespaces, security, mounts, limits (no name, no image). */
  options: string[];
  /** The container's arguments after the image's entrypoint, $(VAR)s expanded. */
  args: string[];
  capabilities: string[];
  graceSeconds: number;
  /** hostPath directories that DirectoryOrCreate would make and this host lacks (the kubelet makes them). */
  createDirs: string[];
}

const SECCOMP = new Set(['RuntimeDefault']);

export function readDaemonSet(file: string, containerName = 'exporter'): { spec: PodSpec; container: Container } {
  const doc = YAML.parse(fs.readFileSync(file, 'utf8')) as { kind?: string; spec?: { template?: { spec?: PodSpec } } };
  if (doc?.kind !== 'DaemonSet') throw new Error(`${file}: not a DaemonSet`);
  const spec = doc.spec?.template?.spec;
  const container = spec?.containers?.find((c) => c.name === containerName);
  if (!spec || !container) throw new Error(`${file}: no container named ${containerName}`);
  return { spec, container };
}

/** The podman equivalent of the pod: `hostIP` is what status.hostIP becomes. */
export function podmanPlan(file: string, hostIP: string): PodmanPlan {
  const { spec, container } = readDaemonSet(file);
  const sc = container.securityContext ?? {};
  if (sc.privileged) throw new Error('daemonset.yaml asks for privileged: true');
  if (sc.seccompProfile && !SECCOMP.has(sc.seccompProfile.type)) throw new Error(`unsupported seccompProfile ${sc.seccompProfile.type}`);
  const options: string[] = [];
  if (spec.hostPID) options.push('--pid=host');
  if (spec.hostNetwork) options.push('--network=host');
  // podman's default seccomp profile is the RuntimeDefault the manifest names.
  if (sc.allowPrivilegeEscalation === false) options.push('--security-opt=no-new-privileges');
  // A read-only root exactly as the kubelet makes it: no tmpfs on /tmp, /run, /var/tmp either.
  if (sc.readOnlyRootFilesystem) options.push('--read-only', '--read-only-tmpfs=false');
  if (sc.runAsUser !== undefined) options.push(`--user=${sc.runAsUser}`);
  const drop = sc.capabilities?.drop ?? [];
  const add = sc.capabilities?.add ?? [];
  if (drop.length !== 1 || drop[0] !== 'ALL') throw new Error('daemonset.yaml must drop ALL capabilities and add what it needs');
  options.push('--cap-drop=all');
  if (add.length > 0) options.push(`--cap-add=${add.join(',')}`);

  const createDirs: string[] = [];
  const volumes = new Map((spec.volumes ?? []).map((v) => [v.name, v]));
  for (const mount of container.volumeMounts ?? []) {
    const volume = volumes.get(mount.name);
    if (!volume) throw new Error(`volumeMount ${mount.name} has no volume`);
    if (volume.hostPath) {
      const { path: src, type = '' } = volume.hostPath;
      if (!fs.existsSync(src)) {
        if (type !== 'DirectoryOrCreate') throw new Error(`hostPath ${src} (volume ${mount.name}) does not exist on this host`);
        createDirs.push(src);
      }
      options.push(`--mount=type=bind,src=${src},dst=${mount.mountPath}${mount.readOnly ? ',ro=true' : ''}`);
    } else if (volume.emptyDir) {
      options.push(`--mount=type=tmpfs,dst=${mount.mountPath},tmpfs-mode=0755`);
    } else {
      throw new Error(`volume ${mount.name}: only hostPath and emptyDir are translated`);
    }
  }
  const memory = container.resources?.limits?.memory;
  if (memory) options.push(`--memory=${memory.replace(/i$/, '').toLowerCase()}`);

  const env = new Map<string, string>();
  for (const e of container.env ?? []) {
    if (e.value !== undefined) env.set(e.name, e.value);
    else if (e.valueFrom?.fieldRef?.fieldPath === 'status.hostIP') env.set(e.name, hostIP);
    else throw new Error(`env ${e.name}: only values and status.hostIP are translated`);
  }
  for (const [name, value] of env) options.push(`--env=${name}=${value}`);
  // The kubelet expands $(NAME) in args from the container's env.
  const args = (container.args ?? []).map((a) => a.replace(/\$\((\w+)\)/g, (m, name: string) => env.get(name) ?? m));
  return { image: container.image, options, args, capabilities: add, graceSeconds: spec.terminationGracePeriodSeconds ?? 30, createDirs };
}
