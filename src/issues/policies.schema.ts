/** Response schemas of the policies API. */
import { Type } from 'typebox';
import { PriorityEnum } from '#src/issues/issues.schema.js';

/** Match conditions as a policy file writes them. */
const Conditions = Type.Record(Type.String(), Type.Unknown(), {
  description:
    'Every condition must hold: service, product, banner (regular expressions, case-insensitive), ' +
    'port, version ranges, extra, http {server, title}, tls {expired, self_signed, ...}.',
});

/** One policy as the API shows it. */
export const PolicyAnswer = Type.Object(
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
