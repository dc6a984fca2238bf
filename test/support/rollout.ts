/**
 * What a cluster looks like after a rollout, a rescale and a restart with nothing else changed:
 * the Deployment controller's new ReplicaSet (new pod-template-hash, new pod names and uids),
 * DaemonSet pods recreated under new names, and one more replica of every Deployment. Used to show
 * that finding ids and drift do not move when only the replicas did.
 */
import type { Raw } from '../../lambda/collect/kube/raw.js';

/** Deterministic lowercase alphanumerics from a seed, like the controllers' random suffixes. */
function suffix(seed: string, length: number): string {
  const alphabet = 'bcdfghjklmnpqrstvwxz2456789';
  let h = 2166136261;
  let out = '';
  for (let i = 0; out.length < length; i += 1) {
    h = Math.imul(h ^ seed.charCodeAt(i % seed.length) ^ i, 16777619) >>> 0;
    out += alphabet[h % alphabet.length];
  }
  return out;
}

function clone<T>(v: T): T {
  return JSON.parse(JSON.stringify(v)) as T;
}

function renamed(pod: Raw, name: string, generation: string): Raw {
  const p = clone(pod);
  p.metadata.name = name;
  p.metadata.uid = `${suffix(`${name}${generation}`, 8)}-0000-4000-8000-${suffix(name, 12)}`;
  if (p.metadata.generateName) p.metadata.generateName = name.replace(/[^-]+$/, '');
  return p;
}

/**
 * Rolls every Deployment to a new ReplicaSet and recreates every DaemonSet pod; adds
 * `extraReplicas` pods to each Deployment (a rescale), with addresses of their own.
 */
export function rollout(
  docs: Raw[],
  opts: { generation?: string; extraReplicas?: number } = {},
): Raw[] {
  const generation = opts.generation ?? 'rolled';
  const extra = opts.extraReplicas ?? 1;
  const out: Raw[] = [];
  let address = 200;
  for (const doc of docs) {
    if (doc?.kind !== 'Pod') {
      out.push(doc);
      continue;
    }
    const owner = (doc.metadata?.ownerReferences ?? [])[0] as Raw | undefined;
    const oldHash = doc.metadata?.labels?.['pod-template-hash'] as string | undefined;
    if (owner?.kind === 'ReplicaSet' && oldHash) {
      const deployment = String(owner.name).slice(0, -(oldHash.length + 1));
      const hash = suffix(`${deployment}${generation}`, oldHash.length);
      const replicas = [doc, ...Array.from({ length: extra }, () => doc)];
      replicas.forEach((source, i) => {
        const name = `${deployment}-${hash}-${suffix(`${doc.metadata.name}${generation}${i}`, 5)}`;
        const pod = renamed(source, name, generation);
        pod.metadata.labels['pod-template-hash'] = hash;
        pod.metadata.ownerReferences[0].name = `${deployment}-${hash}`;
        if (i > 0 && pod.status?.podIP) {
          const ip = String(pod.status.podIP).replace(/\.\d+$/, `.${address++}`);
          pod.status.podIP = ip;
          if (Array.isArray(pod.status.podIPs)) pod.status.podIPs = [{ ip }];
        }
        out.push(pod);
      });
    } else if (owner?.kind === 'DaemonSet') {
      const name = `${owner.name}-${suffix(`${doc.metadata.name}${generation}`, 5)}`;
      out.push(renamed(doc, name, generation));
    } else {
      out.push(doc);
    }
  }
  return out;
}
