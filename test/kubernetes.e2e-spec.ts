import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from '@jest/globals';
// js-yaml comes with @nestjs/swagger (a dependency), which pins it.
import { loadAll } from 'js-yaml';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { Service } from 'kubernetes-models/v1/Service';
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { IPodSpec } from 'kubernetes-models/v1/PodSpec';
import { DRAIN_LIMIT_MS } from '../src/server.js';

/**
 * deploy/kubernetes rendered as an operator would (`kubectl kustomize`), each document validated
 * against the Kubernetes API's schema for its kind (kubernetes-models), then checked for what
 * the deployment promises: non-root, read-only, probes on the management port, secrets only from
 * a Secret, a drain that fits the grace period, and the PDB, autoscaler and network policy on
 * the Deployment's pods. No cluster is needed.
 *
 * Needs `kubectl` (CI installs Debian's kubernetes-client; KUBECTL may name another binary):
 * skipped, loudly, without it on a developer machine; in CI it always runs.
 */
const KUBECTL = process.env.KUBECTL ?? 'kubectl';

function kubectlInstalled(): boolean {
  return spawnSync(KUBECTL, ['version', '--client'], { stdio: 'ignore' }).status === 0;
}
const runs = kubectlInstalled() || process.env.CI === 'true';
if (!runs) {
  console.warn(
    'SKIPPED: the Kubernetes manifests test needs kubectl (apt install kubernetes-client)',
  );
}
const describeWithKubectl = runs ? describe : describe.skip;

/** Settings that are secrets: they may come only from a Secret, never from a literal or a ConfigMap. */
const SECRET_SETTINGS = [
  'DATABASE_URL',
  'ENCRYPTION_KEY',
  'SMTP_URL',
  'REDIS_URL',
  'ADMIN_PASSWORD',
  'JWT_PRIVATE_KEY',
];
/** The ones every instance of a multi-instance deployment needs. */
const REQUIRED_SECRETS = ['DATABASE_URL', 'ENCRYPTION_KEY', 'SMTP_URL', 'REDIS_URL'];

/** Every kind the manifests may hold, with its schema. Another kind fails the test until added. */
const MODELS = {
  'apps/v1/Deployment': Deployment,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  'networking.k8s.io/v1/NetworkPolicy': NetworkPolicy,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'v1/ConfigMap': ConfigMap,
  'v1/Namespace': Namespace,
  'v1/Service': Service,
} as const;

interface Document {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
}

interface Rendered {
  documents: Document[];
  deployment: Deployment;
  podSpec: IPodSpec;
  container: IContainer;
  podLabels: Record<string, string>;
  config: Record<string, string>;
  service: Service;
  pdb: PodDisruptionBudget;
  hpa: HorizontalPodAutoscaler;
  networkPolicy: NetworkPolicy;
}

const renderings = new Map<string, Rendered>();

/** `kubectl kustomize dir`, parsed; once per directory. */
function render(dir: string): Rendered {
  const known = renderings.get(dir);
  if (known) {
    return known;
  }
  let output: string;
  try {
    output = execFileSync(KUBECTL, ['kustomize', dir], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? '';
    throw new Error(`${KUBECTL} kustomize ${dir} failed: ${stderr || String(error)}`, {
      cause: error,
    });
  }
  const documents = loadAll(output).filter((d) => d !== null) as Document[];
  const one = <T>(kind: string): T => {
    const found = documents.filter((d) => d.kind === kind);
    expect(found.map((d) => `${d.kind}/${d.metadata.name}`)).toHaveLength(1);
    return found[0] as T;
  };
  const deployment = one<Deployment>('Deployment');
  const podSpec = deployment.spec!.template.spec!;
  expect(podSpec.containers).toHaveLength(1);
  const container = podSpec.containers[0];
  // The settings the container gets from its ConfigMap (envFrom), found by the generated name.
  const configMaps = documents.filter((d) => d.kind === 'ConfigMap') as ConfigMap[];
  const configRefs = (container.envFrom ?? []).map((e) => e.configMapRef?.name);
  const config = Object.assign(
    {},
    ...configMaps.filter((c) => configRefs.includes(c.metadata!.name)).map((c) => c.data),
  ) as Record<string, string>;
  const rendered: Rendered = {
    documents,
    deployment,
    podSpec,
    container,
    podLabels: deployment.spec!.template.metadata!.labels!,
    config,
    service: one<Service>('Service'),
    pdb: one<PodDisruptionBudget>('PodDisruptionBudget'),
    hpa: one<HorizontalPodAutoscaler>('HorizontalPodAutoscaler'),
    networkPolicy: one<NetworkPolicy>('NetworkPolicy'),
  };
  renderings.set(dir, rendered);
  return rendered;
}

/** A label selector selects the pods when it is not empty and each of its labels is theirs. */
function expectSelects(
  selector: { matchLabels?: Record<string, string>; matchExpressions?: unknown[] } | undefined,
  podLabels: Record<string, string>,
): void {
  expect(selector?.matchExpressions ?? []).toEqual([]);
  expect(Object.keys(selector?.matchLabels ?? {}).length).toBeGreaterThan(0);
  expect(podLabels).toMatchObject(selector!.matchLabels!);
}

/** A container port, by name or number, as a number. */
function containerPort(container: IContainer, port: string | number | undefined): number {
  const found = (container.ports ?? []).find((p) => p.name === port || p.containerPort === port);
  expect(found).toBeDefined();
  return found!.containerPort;
}

const MANIFESTS = [
  { name: 'base', dir: 'deploy/kubernetes/base' },
  { name: 'example overlay', dir: 'deploy/kubernetes/overlays/example' },
];

describeWithKubectl('Kubernetes manifests (deploy/kubernetes)', () => {
  describe.each(MANIFESTS)('$name', ({ dir }) => {
    // Rendered in beforeAll: describe bodies run even when the suite is skipped.
    let rendered: Rendered;
    let documents: Document[];
    let deployment: Deployment;
    let podSpec: IPodSpec;
    let container: IContainer;
    let podLabels: Record<string, string>;
    let config: Record<string, string>;
    beforeAll(() => {
      rendered = render(dir);
      ({ documents, deployment, podSpec, container, podLabels, config } = rendered);
    });

    it('renders only kinds it knows, each valid against the Kubernetes API schema', () => {
      for (const document of documents) {
        const key = `${document.apiVersion}/${document.kind}`;
        expect(Object.keys(MODELS)).toContain(key);
        const Model = MODELS[key as keyof typeof MODELS];
        // Throws, naming each field, when the document does not match its kind's schema.
        expect(() => new Model(document as never).validate()).not.toThrow();
      }
    });

    it('holds no secret: no Secret object, no secret setting in a ConfigMap or as a literal', () => {
      expect(documents.map((d) => d.kind)).not.toContain('Secret');
      for (const configMap of documents.filter((d) => d.kind === 'ConfigMap') as ConfigMap[]) {
        const keys = Object.keys(configMap.data ?? {});
        expect(keys.filter((k) => SECRET_SETTINGS.includes(k))).toEqual([]);
      }
      expect(container.envFrom?.filter((e) => e.secretRef) ?? []).toEqual([]);
    });

    it('reads every secret setting from a Secret with secretKeyRef, and has the four it needs', () => {
      const env = container.env ?? [];
      const secretEnv = env.filter((e) => SECRET_SETTINGS.includes(e.name));
      expect(secretEnv.map((e) => e.name)).toEqual(expect.arrayContaining(REQUIRED_SECRETS));
      for (const variable of secretEnv) {
        expect(variable.value).toBeUndefined();
        expect(variable.valueFrom?.secretKeyRef).toMatchObject({ key: variable.name });
        expect(variable.valueFrom?.secretKeyRef?.name).toBeTruthy();
      }
      // The four a multi-instance deployment cannot do without are not optional.
      for (const name of REQUIRED_SECRETS) {
        expect(env.find((e) => e.name === name)?.valueFrom?.secretKeyRef?.optional).not.toBe(true);
      }
    });

    it('runs at least two replicas, and the autoscaler keeps at least as many', () => {
      expect(deployment.spec!.replicas).toBeGreaterThanOrEqual(2);
      expect(rendered.hpa.spec.minReplicas).toBeGreaterThanOrEqual(2);
      expect(rendered.hpa.spec.minReplicas).toBeLessThanOrEqual(deployment.spec!.replicas!);
      expect(rendered.hpa.spec.maxReplicas).toBeGreaterThanOrEqual(deployment.spec!.replicas!);
      expect(deployment.spec!.strategy?.rollingUpdate?.maxUnavailable).toBe(0);
    });

    it("runs as the image's non-root user, read-only, without privileges or capabilities", () => {
      // The image's user is `node` (uid 1000 in the Node images).
      expect(readFileSync('docker/Dockerfile', 'utf8')).toMatch(/^USER node$/m);
      expect(podSpec.securityContext).toMatchObject({
        runAsNonRoot: true,
        runAsUser: 1000,
        seccompProfile: { type: 'RuntimeDefault' },
      });
      expect(podSpec.automountServiceAccountToken).toBe(false);
      expect(container.securityContext).toMatchObject({
        readOnlyRootFilesystem: true,
        allowPrivilegeEscalation: false,
        capabilities: { drop: ['ALL'] },
      });
      expect(container.securityContext?.privileged).not.toBe(true);
      expect(container.securityContext?.capabilities?.add ?? []).toEqual([]);
      expect(container.securityContext?.runAsUser ?? 1000).toBe(1000);
    });

    it('writes only to emptyDir volumes: /tmp and DATA_DIR', () => {
      const emptyDirs = (podSpec.volumes ?? []).filter((v) => v.emptyDir).map((v) => v.name);
      const writable = (container.volumeMounts ?? [])
        .filter((m) => emptyDirs.includes(m.name) && !m.readOnly)
        .map((m) => m.mountPath);
      expect(writable).toContain('/tmp');
      const dataDir = container.env?.find((e) => e.name === 'DATA_DIR')?.value ?? config.DATA_DIR;
      expect(writable).toContain(dataDir);
      expect(container.volumeMounts?.every((m) => emptyDirs.includes(m.name))).toBe(true);
    });

    it('serves the app on 3000 and probes live, ready and start-up on the management port', () => {
      expect(containerPort(container, 'http')).toBe(Number(config.PORT ?? 3000));
      const management = Number(config.MANAGEMENT_PORT ?? 9000);
      expect(management).not.toBe(0);
      const probes = {
        liveness: container.livenessProbe,
        readiness: container.readinessProbe,
        startup: container.startupProbe,
      };
      expect(probes.liveness?.httpGet?.path).toBe('/health/live');
      expect(probes.readiness?.httpGet?.path).toBe('/health/ready');
      expect(probes.startup?.httpGet?.path).toMatch(/^\/health\/(live|ready)$/);
      for (const probe of Object.values(probes)) {
        expect(containerPort(container, probe?.httpGet?.port)).toBe(management);
      }
      // A readiness answer must come before the probe gives up: a new database connection is
      // given up after 3 s (src/database/data-source.ts), then /health/ready answers 503.
      expect(probes.readiness?.timeoutSeconds).toBeGreaterThan(3);
    });

    it('gives the drain its time: preStop sleep, then SIGTERM and the drain limit, within the grace period', () => {
      const command = container.lifecycle?.preStop?.exec?.command ?? [];
      expect(command[0]).toBe('sleep');
      const preStopSeconds = Number(command[1]);
      expect(preStopSeconds).toBeGreaterThanOrEqual(1);
      expect(podSpec.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(
        preStopSeconds + DRAIN_LIMIT_MS / 1000,
      );
    });

    it('sets CPU and memory requests and limits', () => {
      const { requests, limits } = container.resources ?? {};
      for (const resources of [requests, limits]) {
        expect(resources?.cpu).toBeDefined();
        expect(resources?.memory).toBeDefined();
      }
    });

    it("has a Service, a PodDisruptionBudget, an autoscaler and a NetworkPolicy on the Deployment's pods", () => {
      const { service, pdb, hpa, networkPolicy } = rendered;
      expectSelects(deployment.spec!.selector, podLabels);

      expectSelects({ matchLabels: service.spec!.selector }, podLabels);
      const servicePorts = service.spec!.ports!;
      expect(servicePorts.map((p) => containerPort(container, p.targetPort))).toEqual([
        Number(config.PORT ?? 3000),
      ]);

      expect(pdb.spec!.minAvailable).toBe(1);
      expectSelects(pdb.spec!.selector, podLabels);

      expect(hpa.spec.scaleTargetRef).toEqual({
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        name: deployment.metadata!.name,
      });
      expect(hpa.spec.metrics).toContainEqual(
        expect.objectContaining({
          type: 'Resource',
          resource: expect.objectContaining({
            name: 'cpu',
            target: expect.objectContaining({ type: 'Utilization' }),
          }),
        }),
      );

      expectSelects(networkPolicy.spec!.podSelector, podLabels);
      expect(networkPolicy.spec!.policyTypes).toEqual(['Ingress', 'Egress']);
    });

    it('lets the app port in, the management port only from the monitoring namespace, and out only to what the service needs', () => {
      const spec = rendered.networkPolicy.spec!;
      const management = Number(config.MANAGEMENT_PORT ?? 9000);
      const rulesFor = (port: number) =>
        (spec.ingress ?? []).filter((r) => (r.ports ?? []).some((p) => p.port === port));
      expect(rulesFor(Number(config.PORT ?? 3000)).length).toBeGreaterThan(0);
      // A rule without ports would open every port, the management port included.
      expect((spec.ingress ?? []).every((r) => (r.ports ?? []).length > 0)).toBe(true);
      const managementRules = rulesFor(management);
      expect(managementRules.length).toBeGreaterThan(0);
      for (const rule of managementRules) {
        expect(rule.from).toEqual([
          { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } },
        ]);
      }
      const egress = (spec.egress ?? []).flatMap((r) =>
        (r.ports ?? []).map((p) => `${p.protocol ?? 'TCP'}/${p.port}`),
      );
      expect(egress.sort()).toEqual(
        ['UDP/53', 'TCP/53', 'TCP/5432', 'TCP/6379', 'TCP/587', 'TCP/465', 'TCP/25'].sort(),
      );
      expect((spec.egress ?? []).every((r) => (r.ports ?? []).length > 0)).toBe(true);
    });
  });

  describe('the example overlay', () => {
    let base: Rendered;
    let overlay: Rendered;
    beforeAll(() => {
      base = render('deploy/kubernetes/base');
      overlay = render('deploy/kubernetes/overlays/example');
    });

    it('runs three replicas of a tagged image in its own namespace, at its own public URL', () => {
      expect(overlay.deployment.spec!.replicas).toBe(3);
      expect(overlay.container.image).toMatch(/^[^:]+\/portcullis:[\w.-]+$/);
      expect(overlay.container.image).not.toMatch(/:latest$/);
      const namespaced = overlay.documents.filter((d) => d.kind !== 'Namespace');
      expect(new Set(namespaced.map((d) => d.metadata.namespace))).toEqual(new Set(['portcullis']));
      expect(overlay.config.PUBLIC_URL).toMatch(/^https:\/\//);
      expect(overlay.config.PUBLIC_URL).not.toBe(base.config.PUBLIC_URL);
    });

    it('trusts one proxy hop only where the network policy lets nothing but the ingress controller in', () => {
      expect(overlay.config.TRUST_PROXY).toBe('true');
      const appRules = (overlay.networkPolicy.spec!.ingress ?? []).filter((r) =>
        (r.ports ?? []).some((p) => p.port === 3000),
      );
      for (const rule of appRules) {
        expect(rule.from?.length).toBeGreaterThan(0);
      }
      expect(base.config.TRUST_PROXY).toBeUndefined();
    });
  });
});
