/**
 * ExternalSecret settings of one copy that decide whether it keeps following Secrets Manager and
 * whether its value can be compared with the source: the pinned `remoteRef.version` and
 * `spec.target.template`. Semantics: external-secrets `apis/externalsecrets/v1/externalsecret_types.go`
 * and `pkg/controllers/externalsecret/externalsecret_controller_template.go` (template.data wins,
 * then templateFrom, then data[]; with no template data ESO writes the provider data as it is;
 * mergePolicy Merge keeps the provider keys the template does not name).
 */
import type { ExternalSecret } from '../../snapshot/snapshot.js';

export type PinnedVersion =
  | { kind: 'none' }
  | { kind: 'previous'; version: string }
  | { kind: 'version-id'; version: string }
  | { kind: 'pending'; version: string }
  | { kind: 'stage'; version: string };

/**
 * The ESO aws provider reads `uuid/<id>` as a VersionId and anything else as a VersionStage;
 * AWSCURRENT is what it reads without a version, so it pins nothing.
 */
export function pinnedVersion(version: string | undefined): PinnedVersion {
  if (!version || version === 'AWSCURRENT') return { kind: 'none' };
  if (version === 'AWSPREVIOUS') return { kind: 'previous', version };
  if (version === 'AWSPENDING') return { kind: 'pending', version };
  if (version.startsWith('uuid/')) return { kind: 'version-id', version };
  return { kind: 'stage', version };
}

/** Why a pinned version keeps the copy off the current value. */
export function pinnedWhat(p: Exclude<PinnedVersion, { kind: 'none' }>, remoteKey: string): string {
  const entry = `the data[] entry reading "${remoteKey}" pins remoteRef.version "${p.version}"`;
  switch (p.kind) {
    case 'previous':
      return `${entry}: it holds the value from before the last rotation, so right after every rotation it is one value behind`;
    case 'version-id':
      return `${entry}: one fixed version id, so it keeps that value after every rotation`;
    case 'pending':
      return `${entry}: it reads a rotation in progress (and fails when none is), never the current value`;
    case 'stage':
      return `${entry}: a custom staging label that moves only when someone moves it, not with rotations`;
  }
}

export type TemplateEffect =
  { kind: 'verbatim' } | { kind: 'rewritten'; why: string } | { kind: 'unknown'; why: string };

/** Whether Secret key `key` holds the provider value of data key `key` as it is. */
export function templateEffect(es: ExternalSecret, key: string): TemplateEffect {
  const t = es.target.template;
  if (!es.target.hasTemplate || !t) return { kind: 'verbatim' };
  const entry = t.data[key];
  if (entry) {
    return entry.passthrough === key
      ? { kind: 'verbatim' }
      : {
          kind: 'rewritten',
          why: `spec.target.template.data["${key}"] renders the value through a template (not {{ .${key} }} alone)`,
        };
  }
  const hasData = Object.keys(t.data).length > 0;
  if (t.hasTemplateFrom) {
    return {
      kind: 'unknown',
      why: `spec.target.template.templateFrom may render key "${key}" from a ConfigMap or Secret the auditor does not read`,
    };
  }
  // No template data at all: ESO writes the provider data as it is.
  if (!hasData || t.mergePolicy === 'Merge') return { kind: 'verbatim' };
  return {
    kind: 'rewritten',
    why: `spec.target.template (mergePolicy Replace) does not write key "${key}", so whatever the Secret holds there is not this data[] entry's value`,
  };
}
