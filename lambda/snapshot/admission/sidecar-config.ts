/**
 * The Datadog admission controller's agent sidecar injection, as the Cluster Agent decides it from
 * its own container environment (the webhook obeys that, not the Helm values or the DatadogAgent
 * that rendered it). Names and defaults follow DataDog/datadog-agent `pkg/config/setup/config.go`
 * and `pkg/clusteragent/admission/mutate/agent_sidecar/`: the webhook registers no selector, and so
 * is silently off, when the profiles or selectors are not valid JSON, when more than one profile or
 * selector is configured, or when the provider is neither empty nor `fargate`; with no selector and
 * no provider it has no selector either.
 *
 * A setting that comes from a ConfigMap or Secret (valueFrom, envFrom) is `opaque`: the auditor does
 * not read those, so whatever depends on it is "not evaluated", never guessed.
 */
import { selectorMatches } from '../net/label-selector.js';
import type { Container, EnvVar, LabelSelector, Namespace, Pod } from '../snapshot.js';

/** Name of the container the webhook adds (agent_sidecar/constants.go). */
export const INJECTED_CONTAINER = 'datadog-agent-injected';
/** Label of the default object selector; its value is the provider. */
export const SIDECAR_LABEL = 'agent.datadoghq.com/sidecar';
/** The Secret the injected container reads `api-key` and `token` from, in the pod's namespace. */
export const SIDECAR_SECRET = 'datadog-secret';
export const SIDECAR_API_KEY = 'api-key';
export const SIDECAR_TOKEN_KEY = 'token';
/** The only provider besides the empty one that the Cluster Agent supports. */
export const FARGATE_PROVIDER = 'fargate';
/** Name of the sidecar webhook inside the MutatingWebhookConfiguration. */
export const SIDECAR_WEBHOOK = 'datadog.webhook.agent.sidecar';
/** Annotations newer Cluster Agents put on a pod whose injection they skipped (PR #56691). */
export const INJECTION_STATUS_ANNOTATION = 'internal.agent.datadoghq.com/sidecar-injection-status';
export const INJECTION_ERROR_ANNOTATION = 'internal.agent.datadoghq.com/sidecar-injection-error';

/** Environment variables of the Cluster Agent container that decide injection, with defaults. */
export const SIDECAR_ENV = {
  admissionEnabled: { name: 'DD_ADMISSION_CONTROLLER_ENABLED', default: 'false' },
  sidecarEnabled: { name: 'DD_ADMISSION_CONTROLLER_AGENT_SIDECAR_ENABLED', default: 'false' },
  provider: { name: 'DD_ADMISSION_CONTROLLER_AGENT_SIDECAR_PROVIDER', default: '' },
  clusterAgentEnabled: {
    name: 'DD_ADMISSION_CONTROLLER_AGENT_SIDECAR_CLUSTER_AGENT_ENABLED',
    default: 'true',
  },
  selectors: { name: 'DD_ADMISSION_CONTROLLER_AGENT_SIDECAR_SELECTORS', default: '[]' },
  profiles: { name: 'DD_ADMISSION_CONTROLLER_AGENT_SIDECAR_PROFILES', default: '[]' },
  imageName: { name: 'DD_ADMISSION_CONTROLLER_AGENT_SIDECAR_IMAGE_NAME', default: 'agent' },
  imageTag: { name: 'DD_ADMISSION_CONTROLLER_AGENT_SIDECAR_IMAGE_TAG', default: 'latest' },
  containerRegistry: {
    name: 'DD_ADMISSION_CONTROLLER_AGENT_SIDECAR_CONTAINER_REGISTRY',
    default: '',
  },
  webhookName: { name: 'DD_ADMISSION_CONTROLLER_WEBHOOK_NAME', default: 'datadog-webhook' },
  failurePolicy: { name: 'DD_ADMISSION_CONTROLLER_FAILURE_POLICY', default: 'Ignore' },
  admissionPort: { name: 'DD_ADMISSION_CONTROLLER_PORT', default: '8000' },
  admissionServiceName: {
    name: 'DD_ADMISSION_CONTROLLER_SERVICE_NAME',
    default: 'datadog-admission-controller',
  },
  serviceName: {
    name: 'DD_CLUSTER_AGENT_KUBERNETES_SERVICE_NAME',
    default: 'datadog-cluster-agent',
  },
  cmdPort: { name: 'DD_CLUSTER_AGENT_CMD_PORT', default: '5005' },
} as const;

export type SidecarSettingKey = keyof typeof SIDECAR_ENV;

/** Where a setting's value comes from. */
export type Setting =
  | { source: 'env'; value: string }
  | { source: 'default'; value: string }
  /** valueFrom a ConfigMap/Secret/field, or possibly an envFrom source: not evaluated. */
  | { source: 'opaque'; from: string };

export interface SidecarSelector {
  objectSelector?: LabelSelector;
  namespaceSelector?: LabelSelector;
}

/** One env entry of a sidecar profile, reduced to what the checks compare (no literal values). */
export interface ProfileEnv {
  name: string;
  hasValue: boolean;
  secretKeyRef?: { name: string; key: string };
  /** Literal value, only for URL-like names the checks compare (never tokens or keys). */
  value?: string;
}

/** Why the webhook is off (or runs without the Fargate overrides), with the exact fix. */
export interface InjectionProblem {
  /** Stable message id: `admission-off`, `selectors-not-json`, `too-many-selectors`, ... */
  id: string;
  message: string;
  fix: string;
}

/**
 * Who writes the Cluster Agent's injection env: the Helm chart from its values, or the Datadog
 * Operator from a DatadogAgent (`namespace/name`), which reverts any edit of the Deployment itself.
 */
export type InjectionSource = { kind: 'helm' } | { kind: 'operator'; datadogAgent: string };

/**
 * Where a user changes an admission controller setting, `suffix` being the path below
 * `admissionController` (`agentSidecarInjection.selectors`): the Helm value, or the DatadogAgent field.
 */
export function settingField(source: InjectionSource | undefined, suffix: string): string {
  return source?.kind === 'operator'
    ? `DatadogAgent ${source.datadogAgent}: spec.features.admissionController.${suffix}; the Operator renders the Cluster Agent env from it and reverts edits of the Deployment`
    : `Helm: clusterAgent.admissionController.${suffix}`;
}

export interface InjectionConfig {
  /** Cluster Agent namespace and container the settings were read from. */
  namespace: string;
  container: string;
  settings: Record<SidecarSettingKey, Setting>;
  /** True when the Cluster Agent env mentions sidecar injection at all (it was meant to be used). */
  configured: boolean;
  /**
   * `on`: the webhook registers a selector. `off`: it does not (see problems). `unknown`: a setting
   * it depends on is opaque (see notEvaluated).
   */
  state: 'on' | 'off' | 'unknown';
  problems: InjectionProblem[];
  /** Settings that decide the state but could not be read, e.g. `DD_..._SELECTORS (ConfigMap dd)`. */
  notEvaluated: string[];
  provider?: string;
  /** What the webhook selects when on; when off, what the configuration asked for (the intent). */
  selectors: SidecarSelector[];
  /** Env overrides of the (single) profile; empty when there is none or it cannot be read. */
  profileEnv: ProfileEnv[];
  /** DD_ADMISSION_CONTROLLER_AGENT_SIDECAR_ENABLED as the Cluster Agent reads it; absent when opaque. */
  sidecarEnabled?: boolean;
  clusterAgentEnabled?: boolean;
  webhookName: string;
  failurePolicy?: string;
  admissionPort?: number;
  admissionServiceName?: string;
  cmdPort?: number;
  serviceName?: string;
  /** `https://<service>.<namespace>.svc.cluster.local:<cmd port>`, the URL the sidecar gets. */
  sidecarUrl?: string;
  /** Who renders these settings; absent when unknown (treated as Helm). */
  source?: InjectionSource;
}

function lastEnv(c: Container, name: string): EnvVar | undefined {
  let found: EnvVar | undefined;
  for (const e of c.env) if (e.name === name) found = e;
  return found;
}

/** A setting as the container's environment defines it (last definition wins, as in the kubelet). */
export function readSetting(c: Container, name: string, fallback: string): Setting {
  const e = lastEnv(c, name);
  if (e) {
    if (e.value !== undefined) return { source: 'env', value: e.value };
    if (e.configMapKeyRef) {
      return {
        source: 'opaque',
        from: `ConfigMap ${e.configMapKeyRef.name} key ${e.configMapKeyRef.key}`,
      };
    }
    if (e.secretKeyRef) {
      return { source: 'opaque', from: `Secret ${e.secretKeyRef.name} key ${e.secretKeyRef.key}` };
    }
    if (e.valueDigest)
      return { source: 'opaque', from: 'a literal value the auditor keeps as a digest' };
    if (e.fieldRef) return { source: 'opaque', from: `fieldRef ${e.fieldRef.fieldPath}` };
    // `- name: X` without value is the empty string.
    return { source: 'env', value: '' };
  }
  const from = c.envFrom
    .filter((s) => !s.prefix || name.startsWith(s.prefix))
    .map((s) =>
      s.configMapRef
        ? `envFrom ConfigMap ${s.configMapRef.name}`
        : s.secretRef
          ? `envFrom Secret ${s.secretRef.name}`
          : '',
    )
    .filter(Boolean);
  if (from.length) return { source: 'opaque', from: from.join(', ') };
  return { source: 'default', value: fallback };
}

function valueOf(s: Setting): string | undefined {
  return s.source === 'opaque' ? undefined : s.value;
}

const TRUE = new Set(['1', 't', 'T', 'TRUE', 'true', 'True']);
const FALSE = new Set(['0', 'f', 'F', 'FALSE', 'false', 'False']);

/** Viper's GetBool: strconv-style booleans; anything else is false. */
function viperBool(v: string | undefined): boolean | undefined {
  if (v === undefined) return undefined;
  const t = v.trim();
  if (TRUE.has(t)) return true;
  if (FALSE.has(t)) return false;
  return false;
}

function intOf(v: string | undefined): number | undefined {
  if (v === undefined || !/^\s*\d+\s*$/.test(v)) return undefined;
  return Number(v);
}

function toSelector(raw: unknown): LabelSelector | undefined {
  if (!raw || typeof raw !== 'object') return undefined;
  const r = raw as { matchLabels?: unknown; matchExpressions?: unknown };
  const out: LabelSelector = {};
  if (r.matchLabels && typeof r.matchLabels === 'object') {
    out.matchLabels = Object.fromEntries(
      Object.entries(r.matchLabels as Record<string, unknown>).map(([k, v]) => [k, String(v)]),
    );
  }
  if (Array.isArray(r.matchExpressions)) {
    out.matchExpressions = r.matchExpressions.map(
      (e: { key?: unknown; operator?: unknown; values?: unknown }) => ({
        key: String(e?.key ?? ''),
        operator: String(e?.operator ?? ''),
        ...(Array.isArray(e?.values) ? { values: e.values.map(String) } : {}),
      }),
    );
  }
  return out;
}

type Parsed<T> = { ok: true; value: T } | { ok: false; error: string };

/** Go's json.Unmarshal into a slice: `null` is an empty list, anything but an array is an error. */
function parseList(json: string): Parsed<unknown[]> {
  let v: unknown;
  try {
    v = JSON.parse(json);
  } catch (err) {
    return { ok: false, error: (err as Error).message.slice(0, 200) };
  }
  if (v === null) return { ok: true, value: [] };
  if (!Array.isArray(v)) return { ok: false, error: `expected a JSON list, got ${typeof v}` };
  return { ok: true, value: v };
}

const URL_LIKE = /URL$/;

/** What a literal (non-URL) env value of a sidecar profile becomes in the snapshot. */
export const REDACTED_PROFILE_VALUE = '(literal value, not kept)';

/**
 * The profiles setting as the collector keeps it: the same JSON structure (so a second profile or
 * a missing env list is still seen), but every literal env value that is not a URL replaced, since
 * a profile may carry the Cluster Agent token or an API key in clear. Text that is not valid JSON
 * is not kept at all, only its length: it could be a token with a typo around it.
 */
export function redactProfileLiterals(text: string): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return `(not valid JSON: ${text.length} characters, not kept)`;
  }
  const redactEnv = (env: unknown) =>
    Array.isArray(env)
      ? env.map((e) =>
          e && typeof e === 'object' && 'value' in e && !URL_LIKE.test(String(e.name ?? ''))
            ? { ...e, value: REDACTED_PROFILE_VALUE }
            : e,
        )
      : env;
  const redacted = Array.isArray(parsed)
    ? parsed.map((p) =>
        p && typeof p === 'object' && 'env' in p ? { ...p, env: redactEnv(p.env) } : p,
      )
    : parsed;
  return JSON.stringify(redacted);
}

function profileEnvOf(raw: unknown): ProfileEnv[] {
  const env = (raw as { env?: unknown } | null)?.env;
  if (!Array.isArray(env)) return [];
  return env
    .filter((e): e is Record<string, unknown> => !!e && typeof e === 'object')
    .map((e) => {
      const name = String(e.name ?? '');
      const ref = (e.valueFrom as { secretKeyRef?: { name?: unknown; key?: unknown } } | undefined)
        ?.secretKeyRef;
      return {
        name,
        hasValue: e.value !== undefined,
        ...(ref
          ? { secretKeyRef: { name: String(ref.name ?? ''), key: String(ref.key ?? '') } }
          : {}),
        // Only URLs are kept as literals: a token or key in a profile is never copied.
        ...(URL_LIKE.test(name) && typeof e.value === 'string' ? { value: e.value } : {}),
      };
    });
}

/** True when any sidecar setting is defined on the container: injection was meant to be used. */
function mentionsSidecar(c: Container): boolean {
  return c.env.some((e) => e.name.startsWith('DD_ADMISSION_CONTROLLER_AGENT_SIDECAR_'));
}

/** Reads the injection configuration from the Cluster Agent container. */
export function readInjectionConfig(
  c: Container,
  namespace: string,
  source?: InjectionSource,
): InjectionConfig {
  const settings = Object.fromEntries(
    Object.entries(SIDECAR_ENV).map(([k, spec]) => [k, readSetting(c, spec.name, spec.default)]),
  ) as Record<SidecarSettingKey, Setting>;
  const name = (k: SidecarSettingKey) => SIDECAR_ENV[k].name;
  const problems: InjectionProblem[] = [];
  const notEvaluated: string[] = [];
  const opaque = (k: SidecarSettingKey) => {
    const s = settings[k];
    if (s.source === 'opaque') notEvaluated.push(`${name(k)} (from ${s.from})`);
    return s.source === 'opaque';
  };
  const where = `container ${c.name} of the Cluster Agent Deployment in namespace ${namespace}`;

  const admissionEnabled = viperBool(valueOf(settings.admissionEnabled));
  const sidecarEnabled = viperBool(valueOf(settings.sidecarEnabled));
  const provider = valueOf(settings.provider);
  const clusterAgentEnabled = viperBool(valueOf(settings.clusterAgentEnabled));
  opaque('admissionEnabled');
  opaque('sidecarEnabled');
  opaque('provider');

  let selectors: SidecarSelector[] = [];
  const selectorsJson = valueOf(settings.selectors);
  let selectorsOk = !opaque('selectors');
  if (selectorsJson !== undefined) {
    const parsed = parseList(selectorsJson);
    if (!parsed.ok) {
      selectorsOk = false;
      problems.push({
        id: 'selectors-not-json',
        message: `${name('selectors')} is not a valid JSON list of selectors (${parsed.error}): the Cluster Agent logs "failed to parse selectors" once and registers no sidecar webhook, so no pod gets an agent.`,
        fix: `Set ${name('selectors')} in ${where} to a JSON list with one {objectSelector, namespaceSelector} entry (${settingField(source, 'agentSidecarInjection.selectors')}), or remove it to use the default label ${SIDECAR_LABEL}: fargate.`,
      });
    } else {
      selectors = parsed.value.map((s) => {
        const r = (s ?? {}) as { objectSelector?: unknown; namespaceSelector?: unknown };
        const out: SidecarSelector = {};
        const obj = toSelector(r.objectSelector);
        if (obj) out.objectSelector = obj;
        const ns = toSelector(r.namespaceSelector);
        if (ns) out.namespaceSelector = ns;
        return out;
      });
      if (selectors.length > 1) {
        problems.push({
          id: 'too-many-selectors',
          message: `${name('selectors')} lists ${selectors.length} selectors: the Cluster Agent supports one, logs "configuring more than 1 selector is not supported" and registers no sidecar webhook, so no pod gets an agent.`,
          fix: `Keep exactly one entry in ${name('selectors')} of ${where} (${settingField(source, 'agentSidecarInjection.selectors')}); merge the others into it with matchExpressions, or label the pods with ${SIDECAR_LABEL}: fargate and remove the selectors.`,
        });
      }
    }
  }

  let profileEnv: ProfileEnv[] = [];
  const profilesJson = valueOf(settings.profiles);
  opaque('profiles');
  if (profilesJson !== undefined) {
    const parsed = parseList(profilesJson);
    if (!parsed.ok) {
      problems.push({
        id: 'profiles-not-json',
        message: `${name('profiles')} is not a valid JSON list of profiles (${parsed.error}): the Cluster Agent logs "encountered issue when loading sidecar profiles" and registers no sidecar webhook, so no pod gets an agent.`,
        fix: `Set ${name('profiles')} in ${where} to a JSON list with at most one {env, resources} entry (${settingField(source, 'agentSidecarInjection.profiles')}).`,
      });
    } else if (parsed.value.length > 1) {
      problems.push({
        id: 'too-many-profiles',
        message: `${name('profiles')} lists ${parsed.value.length} profiles: the Cluster Agent supports one ("only 1 profile is supported") and registers no sidecar webhook, so no pod gets an agent.`,
        fix: `Keep exactly one entry in ${name('profiles')} of ${where} (${settingField(source, 'agentSidecarInjection.profiles')}).`,
      });
    } else if (parsed.value.length === 1) {
      profileEnv = profileEnvOf(parsed.value[0]);
    }
  }

  // A profile may carry a literal token: its text is parsed above and never kept.
  if (settings.profiles.source !== 'opaque' && settings.profiles.value !== '[]') {
    settings.profiles = {
      source: settings.profiles.source,
      value: `(${settings.profiles.value.length} characters, not kept)`,
    };
  }

  if (provider !== undefined && provider !== '' && provider !== FARGATE_PROVIDER) {
    problems.push({
      id: 'provider-unsupported',
      message: `${name('provider')} is "${provider}": the Cluster Agent supports only "${FARGATE_PROVIDER}", logs "agent sidecar provider is not supported" and registers no sidecar webhook, so no pod gets an agent.`,
      fix: `Set ${name('provider')} to "${FARGATE_PROVIDER}" in ${where} (${settingField(source, 'agentSidecarInjection.provider: fargate')}).`,
    });
  } else if (provider === '') {
    problems.push(
      selectors.length === 0 && selectorsOk
        ? {
            id: 'no-provider-no-selector',
            message: `${name('provider')} is not set and no selector is configured: the Cluster Agent has no default selector without a provider and registers no sidecar webhook, so no pod gets an agent.`,
            fix: `Set ${name('provider')} to "${FARGATE_PROVIDER}" in ${where} (${settingField(source, 'agentSidecarInjection.provider: fargate')}).`,
          }
        : {
            id: 'no-provider',
            message: `${name('provider')} is not set: the webhook injects a sidecar without the Fargate overrides (DD_EKS_FARGATE=true, shareProcessNamespace, socket volume), so the agent looks for a kubelet that Fargate does not expose.`,
            fix: `Set ${name('provider')} to "${FARGATE_PROVIDER}" in ${where} (${settingField(source, 'agentSidecarInjection.provider: fargate')}).`,
          },
    );
  }

  if (sidecarEnabled === true && admissionEnabled === false) {
    problems.unshift({
      id: 'admission-off',
      message: `${name('sidecarEnabled')} is true but ${name('admissionEnabled')} is ${settings.admissionEnabled.source === 'default' ? 'not set (default false)' : `"${valueOf(settings.admissionEnabled)}"`}: the admission controller does not run, so no webhook injects the sidecar.`,
      fix: `Set ${name('admissionEnabled')} to "true" in ${where} (${settingField(source, 'enabled: true')}).`,
    });
  }

  // The default object selector is the provider label; without one the intent is the Fargate label.
  const defaultSelector: SidecarSelector = {
    objectSelector: { matchLabels: { [SIDECAR_LABEL]: provider || FARGATE_PROVIDER } },
  };
  const intended = selectors.length ? selectors : [defaultSelector];

  const disabling = problems.filter((p) => p.id !== 'no-provider');
  let state: InjectionConfig['state'];
  if (sidecarEnabled === false) state = 'off';
  else if (disabling.length) state = 'off';
  else if (notEvaluated.length) state = 'unknown';
  else state = 'on';

  const serviceName = valueOf(settings.serviceName);
  const cmdPort = intOf(valueOf(settings.cmdPort));
  opaque('clusterAgentEnabled');
  const out: InjectionConfig = {
    namespace,
    container: c.name,
    settings,
    configured: mentionsSidecar(c),
    state,
    problems,
    notEvaluated,
    selectors: intended,
    profileEnv,
    webhookName: valueOf(settings.webhookName) ?? SIDECAR_ENV.webhookName.default,
  };
  if (source) out.source = source;
  if (provider !== undefined) out.provider = provider;
  if (sidecarEnabled !== undefined) out.sidecarEnabled = sidecarEnabled;
  if (clusterAgentEnabled !== undefined) out.clusterAgentEnabled = clusterAgentEnabled;
  const failurePolicy = valueOf(settings.failurePolicy);
  if (failurePolicy !== undefined) out.failurePolicy = failurePolicy;
  const admissionPort = intOf(valueOf(settings.admissionPort));
  if (admissionPort !== undefined) out.admissionPort = admissionPort;
  const admissionServiceName = valueOf(settings.admissionServiceName);
  if (admissionServiceName !== undefined) out.admissionServiceName = admissionServiceName;
  if (cmdPort !== undefined) out.cmdPort = cmdPort;
  if (serviceName !== undefined) out.serviceName = serviceName;
  if (serviceName !== undefined && cmdPort !== undefined) {
    out.sidecarUrl = `https://${serviceName}.${namespace}.svc.cluster.local:${cmdPort}`;
  }
  return out;
}

/**
 * True when the webhook's selectors (any of them, for the intent of a broken list) pick this pod:
 * the object selector on the pod's labels and the namespace selector on its namespace's labels. A
 * namespace the snapshot does not know matches only a selector without namespace conditions.
 */
export function selectsPod(
  selectors: SidecarSelector[],
  podLabels: Record<string, string>,
  namespaceLabels: Record<string, string> | undefined,
): boolean {
  return selectors.some(
    (s) =>
      (!s.objectSelector || selectorMatches(s.objectSelector, podLabels)) &&
      (!s.namespaceSelector ||
        (namespaceLabels !== undefined
          ? selectorMatches(s.namespaceSelector, namespaceLabels)
          : isEmptySelector(s.namespaceSelector))),
  );
}

function isEmptySelector(s: LabelSelector): boolean {
  return !Object.keys(s.matchLabels ?? {}).length && !(s.matchExpressions ?? []).length;
}

/** Namespace name -> labels, with the `kubernetes.io/metadata.name` label the API server adds. */
export function namespaceLabelIndex(namespaces: Namespace[]): Map<string, Record<string, string>> {
  return new Map(
    namespaces.map((n) => [
      n.meta.name,
      { 'kubernetes.io/metadata.name': n.meta.name, ...n.meta.labels },
    ]),
  );
}

export function hasInjectedContainer(pod: Pod): boolean {
  return pod.spec.containers.some((c) => c.name === INJECTED_CONTAINER);
}

/** The human phrase for a selector list: `label agent.datadoghq.com/sidecar=fargate`. */
export function describeSelectors(selectors: SidecarSelector[]): string {
  const one = (l: LabelSelector | undefined) =>
    l
      ? [
          ...Object.entries(l.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`),
          ...(l.matchExpressions ?? []).map(
            (e) => `${e.key} ${e.operator}${e.values?.length ? ` (${e.values.join(', ')})` : ''}`,
          ),
        ].join(', ') || 'everything'
      : 'everything';
  return selectors
    .map((s) =>
      s.namespaceSelector
        ? `pods matching ${one(s.objectSelector)} in namespaces matching ${one(s.namespaceSelector)}`
        : `pods matching ${one(s.objectSelector)}`,
    )
    .join(' or ');
}

/** A Secret key the injected sidecar reads, after the profile's overrides. */
export interface SidecarSecretInput {
  /** `DD_API_KEY` or `DD_CLUSTER_AGENT_AUTH_TOKEN`. */
  env: string;
  secret: string;
  key: string;
  /** True when a profile entry (valueFrom.secretKeyRef) names this Secret instead of datadog-secret. */
  fromProfile: boolean;
}

export const SIDECAR_API_KEY_ENV = 'DD_API_KEY';
export const SIDECAR_TOKEN_ENV = 'DD_CLUSTER_AGENT_AUTH_TOKEN';

/**
 * The Secret keys every injected sidecar reads in its pod's namespace: `datadog-secret` keys
 * `api-key` and (with Cluster Agent communication on) `token`, unless the single profile sets the
 * variable itself. Profile overrides are applied last by the webhook, so a profile secretKeyRef
 * wins; a literal profile value reads no Secret. One rule for the collector (which Secrets to GET)
 * and the checks (which Secrets must exist), so they cannot disagree.
 */
export function sidecarSecretInputs(config: InjectionConfig | undefined): SidecarSecretInput[] {
  const profile = new Map((config?.profileEnv ?? []).map((e) => [e.name, e]));
  const out: SidecarSecretInput[] = [];
  for (const [env, key, needed] of [
    [SIDECAR_API_KEY_ENV, SIDECAR_API_KEY, true],
    [SIDECAR_TOKEN_ENV, SIDECAR_TOKEN_KEY, config?.clusterAgentEnabled !== false],
  ] as const) {
    if (!needed) continue;
    const e = profile.get(env);
    if (e?.hasValue) continue;
    out.push(
      e?.secretKeyRef
        ? { env, secret: e.secretKeyRef.name, key: e.secretKeyRef.key, fromProfile: true }
        : { env, secret: SIDECAR_SECRET, key, fromProfile: false },
    );
  }
  return out;
}

/** Decides whether a pod (or a pod template) asks the admission controller for a sidecar. */
export type SidecarRequestMatcher = (labels: Record<string, string>, namespace: string) => boolean;

/**
 * What "asking for a sidecar" means for one cluster: matching the selectors the Cluster Agent's
 * configuration registers (or intended to, when it is broken); with no readable configuration,
 * carrying the sidecar label at all.
 */
export function sidecarRequestMatcher(
  config: InjectionConfig | undefined,
  namespaces: Namespace[],
): SidecarRequestMatcher {
  if (!config || config.notEvaluated.some((n) => n.startsWith(SIDECAR_ENV.selectors.name))) {
    return (labels) => labels[SIDECAR_LABEL] !== undefined;
  }
  const nsLabels = namespaceLabelIndex(namespaces);
  const selectors = config.selectors;
  return (labels, namespace) => selectsPod(selectors, labels, nsLabels.get(namespace));
}
