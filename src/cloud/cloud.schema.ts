/** TypeBox schemas of the cloud attack-surface API; the handler types derive from them. */
import { Type } from 'typebox';

/** ?vm_id=X[&mode=direct|transitive] */
export const AttackQuery = Type.Object({
  vm_id: Type.String({ minLength: 1, description: 'The VM under attack.' }),
  mode: Type.Optional(
    Type.Union([Type.Literal('direct'), Type.Literal('transitive')], {
      default: 'direct',
      description:
        'direct: VMs allowed by one rule to reach vm_id (the original contract). ' +
        'transitive: VMs that reach vm_id through any chain of allowed hops (lateral movement).',
    }),
  ),
});

/** The ids of the attacking VMs, sorted by vm_id (UTF-16 code units), each once, never vm_id. */
export const AttackAnswer = Type.Array(Type.String(), {
  description:
    'vm_ids of the VMs that can reach vm_id, each once, never vm_id itself, sorted ascending ' +
    'by UTF-16 code units (plain JavaScript string order).',
});

/** ?from=A&to=B */
export const PathQuery = Type.Object({
  from: Type.String({ minLength: 1, description: 'The attacking VM.' }),
  to: Type.String({ minLength: 1, description: 'The target VM.' }),
});

/** A shortest chain of hops from `from` to `to`. */
export const PathAnswer = Type.Array(
  Type.Object({
    vm_id: Type.String({ description: 'A VM on the path; the first is `from`, the last is `to`.' }),
    fw_id: Type.Union([Type.String(), Type.Null()], {
      description: 'The rule allowing the hop into this VM; null for the first VM.',
    }),
  }),
  { description: 'One shortest chain (fewest hops); deterministic for a given environment.' },
);

/** Figures about the environment being served. */
export const EnvironmentInfo = Type.Object({
  version: Type.Integer({ description: '1 at start-up, +1 per successful reload.' }),
  source: Type.String({ description: 'The file the environment was read from.' }),
  loaded_at: Type.String({ format: 'date-time' }),
  vm_count: Type.Integer(),
  rule_count: Type.Integer(),
  tag_count: Type.Integer(),
  attacker_set_count: Type.Integer({
    description: 'Distinct attacker sets; VMs in one set share a cached answer.',
  }),
  build_ms: Type.Number({ description: 'Time to build the index, in milliseconds.' }),
  cache: Type.Object({
    entries: Type.Integer(),
    bytes: Type.Integer(),
    hits: Type.Integer(),
    misses: Type.Integer(),
    warmed: Type.Boolean({ description: 'The background warm-up of direct answers has finished.' }),
  }),
});
