// podman with a storage of the test's own (removed afterwards), and the
// settings this VM needs to run a container at all:
//   --runtime runc               crun refuses hybrid cgroups (v1 controllers mounted)
//   --cgroup-manager cgroupfs    systemd is not PID 1
//   --ulimit nofile/nproc        podman's defaults exceed this VM's hard limits and
//                                raising them needs CAP_SYS_RESOURCE, which it lacks
import { execa } from 'execa';
import { mkdtempSync, rmSync } from 'node:fs';
import type { K8sObject } from './kubernetes.js';

export class Podman {
  private readonly dir = mkdtempSync('/var/tmp/flx-podman-');
  private readonly global = ['--root', `${this.dir}/root`, '--runroot', `${this.dir}/run`, '--storage-driver', 'vfs', '--cgroup-manager', 'cgroupfs', '--runtime', 'runc'];
  static readonly RUN = ['--ulimit', 'nofile=4096:4096', '--ulimit', 'nproc=4096:4096'];

  run(args: string[], opts: { reject?: boolean } = {}) {
    return execa('podman', [...this.global, ...args], { reject: opts.reject ?? true, all: true });
  }

  spawn(args: string[]) {
    return execa('podman', [...this.global, ...args], { reject: false, all: true, buffer: true });
  }

  async remove(): Promise<void> {
    await this.run(['rm', '--all', '--force'], { reject: false });
    await this.run(['rmi', '--all', '--force'], { reject: false });
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * `podman run` flags that run a container as a DaemonSet's pod spec says:
 * user, capabilities, no-new-privileges, read-only root, seccomp, host paths.
 * Not translated: the pod network (no CNI here: tests use the host's).
 */
export function podRunFlags(daemonSet: K8sObject): { flags: string[]; createDirs: string[] } {
  const pod = daemonSet.spec.template.spec, c = pod.containers[0], sc = c.securityContext;
  const flags = ['--user', String(pod.securityContext.runAsUser)];
  if (sc.privileged) flags.push('--privileged');
  else {
    flags.push('--cap-drop', sc.capabilities.drop.join(','), '--cap-add', sc.capabilities.add.join(','));
    if (sc.allowPrivilegeEscalation === false) flags.push('--security-opt', 'no-new-privileges');
  }
  if (sc.readOnlyRootFilesystem) flags.push('--read-only');
  if (pod.securityContext.seccompProfile?.type === 'Unconfined') flags.push('--security-opt', 'seccomp=unconfined');
  const volumes = new Map<string, { path: string; type?: string }>(pod.volumes.map((v: { name: string; hostPath: { path: string; type?: string } }) => [v.name, v.hostPath]));
  for (const m of c.volumeMounts) flags.push('-v', `${volumes.get(m.name)!.path}:${m.mountPath}${m.readOnly ? ':ro' : ''}`);
  // the kubelet creates a missing DirectoryOrCreate path; podman would refuse the mount
  const createDirs = [...volumes.values()].filter((h) => h.type === 'DirectoryOrCreate').map((h) => h.path);
  return { flags, createDirs };
}
