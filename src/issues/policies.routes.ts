/** GET /api/v1/policies: the exposure policies this process raises issues with. */
import { Type } from 'typebox';
import type { App } from '#src/http/app.js';
import { PolicyAnswer } from '#src/issues/policies.schema.js';
import { conditionsDoc, type Policy } from '#src/issues/policy.model.js';

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
