// The chart's values.schema.json: Helm checks every install, upgrade, lint and
// template against it, so a misspelt value (`filter.srcIP`) or a mode the
// agent does not know fails at once instead of being ignored. The agent's own
// choices (modes, log levels) come from src/config.ts. Pure.
import { LOG_LEVELS, MODE_CHOICES } from '../src/config.js';

type Schema = Record<string, unknown>;
const str: Schema = { type: 'string' };
const bool: Schema = { type: 'boolean' };
const strings: Schema = { type: 'object', additionalProperties: str };
const object = (properties: Record<string, Schema>, extra: Schema = {}): Schema => ({ type: 'object', additionalProperties: false, properties, ...extra });
const address: Schema = { anyOf: [{ const: '' }, { type: 'string', format: 'ipv4' }, { type: 'string', format: 'ipv6' }] };
const duration: Schema = { type: 'string', pattern: '^([0-9]+(ms|s|m|h))+$' };

export function valuesSchema(): Schema {
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    title: 'fraglist-exporter chart values',
    ...object({
      image: object({ repository: { type: 'string', minLength: 1 }, tag: str, pullPolicy: { enum: ['Always', 'IfNotPresent', 'Never'] } }),
      imagePullSecrets: { type: 'array', items: object({ name: str }) },
      port: { type: 'integer', minimum: 1, maximum: 65535 },
      mode: { enum: [...MODE_CHOICES] },
      sampleRate: { type: 'integer', minimum: 0, maximum: 100_000 },
      logLevel: { enum: [...LOG_LEVELS] },
      filters: object({ srcIp: address, dstIp: address, interface: { type: 'string', pattern: '^([^\\s/:]{1,15})?$' }, gsoOnly: bool }),
      extraArgs: { type: 'array', items: { type: 'string', pattern: '^--' } },
      webConfig: object({ secretName: { type: 'string', pattern: '^([a-z0-9]([-a-z0-9.]*[a-z0-9])?)?$' }, tls: bool }),
      resources: { type: 'object' },
      securityContext: object({
        privileged: bool,
        capabilities: { type: 'array', items: { type: 'string', pattern: '^[A-Z_]+$' } },
        seccompProfile: { enum: ['RuntimeDefault', 'Unconfined'] },
      }),
      hostPaths: { type: 'object', additionalProperties: { type: 'string', pattern: '^/' } },
      crashDirs: { type: 'object', propertyNames: { pattern: '^[a-z0-9]([a-z0-9-]{0,40}[a-z0-9])?$' }, additionalProperties: { type: 'string', pattern: '^/[^,]*$' } },
      stateDir: { type: 'string', pattern: '^(/.*)?$' },
      hostNetwork: bool,
      nodeSelector: strings,
      tolerations: { type: 'array', items: { type: 'object' } },
      affinity: { type: 'object' },
      priorityClassName: str,
      updateStrategy: object({ type: { enum: ['RollingUpdate', 'OnDelete'] }, rollingUpdate: { type: 'object' } }),
      podLabels: strings,
      podAnnotations: strings,
      serviceAccount: object({ create: bool, name: str }),
      podMonitor: object({
        enabled: bool, labels: strings, interval: duration, scrapeTimeout: duration, jobName: { type: 'string', minLength: 1 },
        tlsConfig: { type: 'object' }, basicAuth: { type: 'object' },
      }),
      prometheusRule: object({ enabled: bool, labels: strings }),
      alerts: object({
        jobSelector: { type: 'string', minLength: 1 },
        pageSeverity: { type: 'string', minLength: 1 },
        warningSeverity: { type: 'string', minLength: 1 },
        runbookBaseUrl: { type: 'string', pattern: '^https?://' },
      }),
    }),
  };
}
