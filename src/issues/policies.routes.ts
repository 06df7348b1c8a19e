/** GET /api/v1/policies: the exposure policies this process raises issues with. */
import { Type } from 'typebox';
import type { App } from '#src/http/app.js';
import { PriorityEnum } from '#src/issues/issues.schema.js';
import { conditionsDoc, type Policy } from '#src/issues/policy.model.js';

/** Match conditions as a policy file writes them. */
const Conditions = Type.Record(Type.String(), Type.Unknown(), {
  description:
    'Every condition must hold: service, product, banner (regular expressions, case-insensitive), ' +
    'port, version ranges, extra, http {server, title}, tls {expired, self_signed, ...}.',
});

/** One policy as the API shows it. */
const PolicyAnswer = Type.Object(
  {
    id: Type.String({ description: 'Stable id; issues refer to it as policyId.' }),
    name: Type.String({ description: 'Display name; issue titles start with it.' }),
    priority: PriorityEnum,
    remediation: Type.String({ description: 'What to do about an issue it raises.' }),
    match: Type.Array(Conditions, { description: 'Alternatives: any one raises the issue.' }),
    unless: Type.Array(Conditions, { description: 'Alternatives that keep it from firing.' }),
    titleVersion: Type.Boolean({ description: 'The version is part of the issue title.' }),
    references: Type.Array(Type.String(), { description: 'Further reading.' }),
  },
  { additionalProperties: false },
);

/** Registers the policies route. */
export function registerPolicyRoutes(app: App, policies: readonly Policy[]): void {
  // Loaded once per process, so the answer never changes: build it once.
  const answer = policies.map((p) => ({
    id: p.id,
    name: p.name,
    priority: p.priority,
    remediation: p.remediation,
    match: p.match.map(conditionsDoc),
    unless: p.unless.map(conditionsDoc),
    titleVersion: p.titleVersion,
    references: [...p.references],
  }));
  app.get(
    '/api/v1/policies',
    {
      schema: {
        tags: ['issues'],
        summary: 'The exposure policies in effect.',
        description:
          'The bundled policies (data/policies.json) with the files of --policies / ' +
          'SURFACESCAN_POLICIES added or replacing bundled ones by id, in evaluation order.',
        response: { 200: Type.Array(PolicyAnswer) },
      },
    },
    () => answer,
  );
}
