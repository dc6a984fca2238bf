/**
 * ExternalSecret settings that decide whether a copy keeps following its provider: `spec.syncWindows`
 * (ESO 2.7+, `ExternalSecretSyncWindows{kind, windows[{schedule, duration}]}`) and
 * `spec.target.template` (`ExternalSecretTemplate{mergePolicy, data, templateFrom}`), per
 * external-secrets `apis/externalsecrets/v1/externalsecret_types.go`. Template text is reduced to
 * "this key is `{{ .key }}` verbatim" or not, so no template (which may embed literals) is kept.
 */
import type { ExternalSecretTemplate, SyncWindows } from '../../snapshot/snapshot.js';
import type { Raw } from './raw.js';

export function convertSyncWindows(v: Raw): SyncWindows | undefined {
  if (!v || typeof v !== 'object') return undefined;
  const windows = Array.isArray(v.windows) ? v.windows : [];
  return {
    kind: String(v.kind ?? ''),
    windows: windows.map((w: Raw) => ({
      schedule: String(w?.schedule ?? ''),
      ...(w?.duration !== undefined && w?.duration !== null
        ? { duration: String(w.duration) }
        : {}),
    })),
  };
}

/**
 * `{{ .token }}`, `{{- .token -}}`, `{{ index . "token" }}`: the value of data key `token` as it
 * is. Anything else (a prefix, a filter, a second value) rewrites it.
 */
const PASSTHROUGH = [
  /^\{\{-?\s*\.([A-Za-z_][A-Za-z0-9_]*)\s*-?\}\}$/,
  /^\{\{-?\s*index\s+\.\s+"([^"\\]+)"\s*-?\}\}$/,
];

export function passthroughKey(template: string): string | undefined {
  for (const re of PASSTHROUGH) {
    const m = re.exec(template);
    if (m) return m[1];
  }
  return undefined;
}

export function convertEsTemplate(t: Raw): ExternalSecretTemplate {
  const data: ExternalSecretTemplate['data'] = {};
  if (t?.data && typeof t.data === 'object') {
    for (const [key, text] of Object.entries(t.data as Record<string, unknown>)) {
      const through = typeof text === 'string' ? passthroughKey(text) : undefined;
      data[key] = through !== undefined ? { passthrough: through } : {};
    }
  }
  return {
    ...(t?.mergePolicy ? { mergePolicy: String(t.mergePolicy) } : {}),
    hasTemplateFrom: Array.isArray(t?.templateFrom) && t.templateFrom.length > 0,
    data,
  };
}
