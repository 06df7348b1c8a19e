/** Request and response schemas of the imports API. */
import { Type } from 'typebox';

/** The import formats, as the API names them. */
const Format = Type.Union([Type.Literal('nmap-xml'), Type.Literal('masscan-json')], {
  description: 'nmap-xml (nmap -oX) or masscan-json (masscan -oJ); detected when absent.',
});

/** POST /api/v1/imports query. */
export const ImportQuery = Type.Object(
  {
    org: Type.String({ minLength: 1, maxLength: 200, description: 'Organization id or name.' }),
    format: Type.Optional(Format),
  },
  { additionalProperties: false },
);

/** GET /api/v1/imports query. */
export const ImportListQuery = Type.Object(
  {
    org: Type.Optional(Type.String({ maxLength: 200, description: 'Organization id or name.' })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 100 })),
  },
  { additionalProperties: false },
);

const Time = Type.String({ format: 'date-time' });
const NullableTime = Type.Union([Time, Type.Null()]);
const NullableText = Type.Union([Type.String(), Type.Null()]);

/** An import as stored. */
export const ImportAnswer = Type.Object({
  id: Type.String(),
  orgId: Type.String(),
  format: Type.String({ description: 'nmap-xml or masscan-json' }),
  scanner: Type.Object({
    name: Type.String({ description: 'nmap or masscan' }),
    version: NullableText,
    args: { ...NullableText, description: 'The command line, when the file records it.' },
  }),
  sha256: Type.String({ description: 'SHA-256 (hex) of the file; one import per file and org.' }),
  startedAt: { ...NullableTime, description: "The scanner's own start time, from the file." },
  finishedAt: { ...NullableTime, description: "The scanner's own end time, from the file." },
  observedAt: { ...Time, description: 'Time the findings were recorded at.' },
  ports: { ...NullableText, description: 'TCP ports the file says were scanned, or null.' },
  complete: Type.Boolean({ description: 'The scanner recorded a normal end.' }),
  hosts: Type.Integer(),
  services: Type.Integer({ description: 'Open TCP ports in the file.' }),
  newServices: Type.Integer({ description: 'Services not known before.' }),
  updatedServices: Type.Integer({ description: 'Known services seen again.' }),
  closedServices: Type.Integer({
    description: 'Services a complete scan with a port list covered and no longer found.',
  }),
  issuesOpened: Type.Integer(),
  importedAt: Time,
  lastImportedAt: Time,
});

/** What POST /api/v1/imports answers: the counts are this request's. */
export const ImportOutcomeAnswer = Type.Intersect([
  ImportAnswer,
  Type.Object({
    reimport: Type.Boolean({
      description: 'The same file was imported for this organization before; its row was reused.',
    }),
  }),
]);
