import {
  itemsOf,
  type ClusterSnapshot,
  type Container,
  type EnvVar,
  type Pod,
} from '../../snapshot.js';

export interface EnvSecretRef {
  pod: Pod;
  container: Container;
  env: EnvVar & { secretKeyRef: NonNullable<EnvVar['secretKeyRef']> };
}

/** Every `DD_*` env var of a non-terminated pod that reads a secretKeyRef, in a stable order. */
export function datadogEnvSecretRefs(snapshot: ClusterSnapshot): EnvSecretRef[] {
  const out: EnvSecretRef[] = [];
  for (const pod of itemsOf(snapshot.kube.pods)) {
    if (pod.status.phase === 'Succeeded' || pod.status.phase === 'Failed') continue;
    for (const container of [...pod.spec.initContainers, ...pod.spec.containers]) {
      for (const env of container.env) {
        if (env.secretKeyRef && env.name.startsWith('DD_')) {
          out.push({ pod, container, env: env as EnvSecretRef['env'] });
        }
      }
    }
  }
  return out;
}
