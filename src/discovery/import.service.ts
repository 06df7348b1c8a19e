/**
 * Imports one nmap XML or masscan JSON file for an organization, all or nothing: the size,
 * the format and the scope are checked before anything is written, then one transaction
 * records the import, stores the findings (assets, observations, services, issues) and, for a
 * complete scan whose file names the ports it scanned, closes what that scan no longer saw.
 * The CLI `import` command and POST /api/v1/imports both call ImportService.importFile.
 */
import { createHash } from 'node:crypto';
import type { AssetRepository, Executor } from '#src/assets/assets.repository.js';
import { timeOrderedId } from '#src/assets/assets.repository.js';
import { AppError } from '#src/http/errors.js';
import type { Db } from '#src/storage/database.js';
import { isUniqueViolation } from '#src/storage/dialect.js';
import type { ImportsTable } from '#src/storage/schema.js';
import { parseImport } from '#src/discovery/import.model.js';
import {
  ImportFormatError,
  MAX_IMPORT_BYTES,
  portRanges,
  type ImportFormat,
  type ImportResult,
} from '#src/discovery/import-result.model.js';
import { parseIp } from '#src/discovery/ip.model.js';
import type { ScanService } from '#src/discovery/scan.service.js';
import { Scope, type Refusal } from '#src/discovery/scope.model.js';

/** One import as stored. Counts are those of the file's first import. */
export interface ImportRecord {
  readonly id: string;
  readonly orgId: string;
  readonly format: ImportFormat;
  readonly scanner: {
    readonly name: string;
    readonly version: string | null;
    readonly args: string | null;
  };
  /** SHA-256 (hex) of the file's bytes. */
  readonly sha256: string;
  /** The scanner's own start and end (epoch ms), when the file records them. */
  readonly startedAt: number | null;
  readonly finishedAt: number | null;
  /** The time the findings were recorded at. */
  readonly observedAt: number;
  /** TCP ports the file says were scanned (nmap syntax), or null. */
  readonly ports: string | null;
  readonly complete: boolean;
  readonly hosts: number;
  /** Open TCP ports in the file. */
  readonly services: number;
  readonly newServices: number;
  readonly updatedServices: number;
  readonly closedServices: number;
  readonly issuesOpened: number;
  readonly importedAt: number;
  readonly lastImportedAt: number;
}

/** What one importFile call did; the counts are this call's (all but updated are 0 on a re-import). */
export interface ImportOutcome extends ImportRecord {
  /** The same file was imported for this organization before; its row was reused. */
  readonly reimport: boolean;
}

/** A file to import. */
export interface ImportRequest {
  /** Organization id or name. */
  readonly org: string;
  readonly bytes: Uint8Array;
  /** Skips format detection. */
  readonly format?: ImportFormat | undefined;
}

/** A file that is not a well-formed import: 400 import_format, with where the parser stopped. */
export class ImportRejectedError extends AppError {
  constructor(
    /** The parser's own message. */
    readonly detail: string,
    readonly line: number | undefined,
    readonly column: number | undefined,
  ) {
    super(
      'import_format',
      400,
      `cannot import the file${where(line, column)}: ${detail}; nothing was imported`,
    );
    this.name = 'ImportRejectedError';
  }
}

function where(line: number | undefined, column: number | undefined): string {
  if (line === undefined) return '';
  return column === undefined
    ? ` at line ${String(line)}`
    : ` at line ${String(line)}, column ${String(column)}`;
}

/** Imports scan files and lists what was imported. */
export class ImportService {
  constructor(
    private readonly db: Db,
    private readonly assets: AssetRepository,
    private readonly scans: ScanService,
    private readonly clock: () => number = Date.now,
  ) {}

  /**
   * Checks and imports one file. Throws AppError: 413 past MAX_IMPORT_BYTES, 400 import_format
   * (ImportRejectedError) for a malformed file, 404 for an unknown organization, 403
   * out_of_scope when a host of the file is outside the organization's scope. On any error
   * nothing is stored.
   */
  async importFile(request: ImportRequest): Promise<ImportOutcome> {
    const size = request.bytes.byteLength;
    if (size > MAX_IMPORT_BYTES) {
      throw new AppError(
        'payload_too_large',
        413,
        `the file is ${String(size)} bytes, over the import limit of ${String(MAX_IMPORT_BYTES)} bytes (256 MiB)`,
      );
    }
    const text = Buffer.from(request.bytes.buffer, request.bytes.byteOffset, size).toString('utf8');
    let result: ImportResult;
    try {
      result = parseImport(text, request.format);
    } catch (error) {
      if (error instanceof ImportFormatError) {
        throw new ImportRejectedError(error.message, error.line, error.column);
      }
      throw error;
    }
    const org = await this.assets.findOrganization(request.org);
    if (org === undefined) {
      throw new AppError('not_found', 404, `no organization ${JSON.stringify(request.org)}`);
    }
    const scope = new Scope({
      domains: org.seeds.domains,
      cidrs: org.seeds.cidrs,
      excludes: org.seeds.excludes ?? [],
    });
    const refusals = outOfScope(result, scope);
    if (refusals.length > 0) {
      const first = refusals.slice(0, 5).map((r) => `${r.target} (${r.reason})`);
      const more = refusals.length > 5 ? ` and ${String(refusals.length - 5)} more` : '';
      throw new AppError(
        'out_of_scope',
        403,
        `the file lists hosts outside the scope of ${org.name}: ${first.join('; ')}${more}; nothing was imported`,
      );
    }
    const sha256 = createHash('sha256').update(request.bytes).digest('hex');
    const now = this.clock();
    const observedAt = result.scanner.finishedAt ?? result.scanner.startedAt ?? now;
    const run = () =>
      this.db.kysely
        .transaction()
        .execute((trx) => this.store(trx, org.id, result, sha256, observedAt, now));
    try {
      return await run();
    } catch (error) {
      // The same file imported twice at once: the loser's row insert failed and everything it
      // wrote was rolled back; run again, now as the re-import it is.
      if (isUniqueViolation(error)) return run();
      throw error;
    }
  }

  private async store(
    trx: Executor,
    orgId: string,
    result: ImportResult,
    sha256: string,
    observedAt: number,
    now: number,
  ): Promise<ImportOutcome> {
    const previous = await trx
      .selectFrom('imports')
      .selectAll()
      .where('org_id', '=', orgId)
      .where('sha256', '=', sha256)
      .executeTakeFirst();
    // A file imported again keeps its id, so its observations (ids derived from the run) are
    // the same rows and nothing but times moves.
    const id = previous?.id ?? timeOrderedId();
    const known = await knownEndpoints(trx, result);
    const newServices = result.findings.filter((f) => !known.has(endpoint(f.ip, f.port))).length;
    const issuesBefore = await countIssues(trx, orgId);
    const source = result.format === 'nmap-xml' ? 'nmap' : 'masscan';
    await this.scans.store(trx, orgId, id, source, result.findings, observedAt);
    let closedServices = 0;
    if (result.scanned.complete && result.scanned.ports !== undefined) {
      // Every host the file lists was scanned on these ports, hosts reported down included
      // (none of their ports is open).
      const hosts = new Set(result.hosts.map((h) => h.ip));
      const ranges = portRanges(result.scanned.ports);
      const covers = (ip: string, port: number): boolean =>
        hosts.has(ip) && ranges.some(([lo, hi]) => port >= lo && port <= hi);
      const openBefore = await countOpen(trx, orgId);
      await this.scans.finishCoverage(trx, orgId, id, covers, observedAt);
      closedServices = openBefore - (await countOpen(trx, orgId));
    }
    const issuesOpened = (await countIssues(trx, orgId)) - issuesBefore;
    const counts = {
      newServices,
      updatedServices: result.findings.length - newServices,
      closedServices,
      issuesOpened,
    };
    if (previous !== undefined) {
      await trx
        .updateTable('imports')
        .set({ last_imported_at: Math.max(now, previous.last_imported_at) })
        .where('id', '=', id)
        .execute();
      const record = toRecord({
        ...previous,
        last_imported_at: Math.max(now, previous.last_imported_at),
      });
      return { ...record, ...counts, reimport: true };
    }
    const row: ImportsTable = {
      id,
      org_id: orgId,
      format: result.format,
      scanner_name: result.scanner.name,
      scanner_version: result.scanner.version ?? null,
      scanner_args: result.scanner.args ?? null,
      sha256,
      started_at: result.scanner.startedAt ?? null,
      finished_at: result.scanner.finishedAt ?? null,
      observed_at: observedAt,
      ports: result.scanned.ports ?? null,
      complete: result.scanned.complete ? 1 : 0,
      host_count: result.hosts.length,
      service_count: result.findings.length,
      new_services: counts.newServices,
      updated_services: counts.updatedServices,
      closed_services: counts.closedServices,
      issues_opened: counts.issuesOpened,
      imported_at: now,
      last_imported_at: now,
    };
    await trx.insertInto('imports').values(row).execute();
    return { ...toRecord(row), reimport: false };
  }

  /** Imports, most recently imported first. */
  async list(limit: number, orgId?: string): Promise<ImportRecord[]> {
    const rows = await this.db.kysely
      .selectFrom('imports')
      .selectAll()
      .$if(orgId !== undefined, (q) => q.where('org_id', '=', orgId!))
      .orderBy('last_imported_at', 'desc')
      .orderBy('id', 'desc')
      .limit(limit)
      .execute();
    return rows.map(toRecord);
  }

  /** One import by id. */
  async get(id: string): Promise<ImportRecord | undefined> {
    const row = await this.db.kysely
      .selectFrom('imports')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
    return row === undefined ? undefined : toRecord(row);
  }
}

/** Every address of the file (hosts and findings) the scope refuses, once each. */
function outOfScope(result: ImportResult, scope: Scope): Refusal[] {
  const addresses = new Set([
    ...result.hosts.map((h) => h.ip),
    ...result.findings.map((f) => f.ip),
  ]);
  const refusals: Refusal[] = [];
  for (const text of addresses) {
    const ip = parseIp(text);
    const reason = ip === undefined ? 'not an IP address' : scope.refuseIp(ip);
    if (reason !== undefined) refusals.push({ target: text, reason });
  }
  return refusals;
}

function endpoint(ip: string, port: number): string {
  return `${ip}\u0000${String(port)}`;
}

const IPS_PER_STATEMENT = 400;

/** The file's ip:port pairs that already have a services row. */
async function knownEndpoints(trx: Executor, result: ImportResult): Promise<Set<string>> {
  const ips = [...new Set(result.findings.map((f) => f.ip))];
  const known = new Set<string>();
  for (let i = 0; i < ips.length; i += IPS_PER_STATEMENT) {
    const rows = await trx
      .selectFrom('services')
      .select(['ip', 'port'])
      .where('protocol', '=', 'tcp')
      .where('ip', 'in', ips.slice(i, i + IPS_PER_STATEMENT))
      .execute();
    for (const r of rows) known.add(endpoint(r.ip, r.port));
  }
  return known;
}

async function countOpen(trx: Executor, orgId: string): Promise<number> {
  const row = await trx
    .selectFrom('services')
    .select((eb) => eb.fn.countAll<number | string>().as('n'))
    .where('org_id', '=', orgId)
    .where('state', '=', 'open')
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

async function countIssues(trx: Executor, orgId: string): Promise<number> {
  const row = await trx
    .selectFrom('issues')
    .select((eb) => eb.fn.countAll<number | string>().as('n'))
    .where('org_id', '=', orgId)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

function toRecord(row: ImportsTable): ImportRecord {
  return {
    id: row.id,
    orgId: row.org_id,
    format: row.format as ImportFormat,
    scanner: { name: row.scanner_name, version: row.scanner_version, args: row.scanner_args },
    sha256: row.sha256,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    observedAt: row.observed_at,
    ports: row.ports,
    complete: row.complete === 1,
    hosts: row.host_count,
    services: row.service_count,
    newServices: row.new_services,
    updatedServices: row.updated_services,
    closedServices: row.closed_services,
    issuesOpened: row.issues_opened,
    importedAt: row.imported_at,
    lastImportedAt: row.last_imported_at,
  };
}
