/**
 * SQL for scans, their shards and services. A finding is stored three ways at once, in the
 * caller's transaction: the ip and service assets (first/last seen), an observation (the
 * history, idempotent by id), and the services row (the latest state, for listing).
 */
import { createHash, randomUUID } from 'node:crypto';
import { sql, type Selectable } from 'kysely';
import type { AssetRepository, Executor } from '#src/assets/assets.repository.js';
import type { Db } from '#src/storage/database.js';
import { fromJson, toJson } from '#src/storage/dialect.js';
import type { AssetsTable, ScansTable, ScanState, ShardState } from '#src/storage/schema.js';
import type { FindingSource, ServiceFinding } from '#src/discovery/discovery.model.js';
import { pageByLastSeen, type LastSeenPage } from '#src/discovery/paging.js';

/** Scan settings kept with the scan (every shard reads them). */
export interface ScanOptions {
  /** Probes (connection attempts) per second for the whole scan. */
  readonly rate: number;
  /** Connections in flight per running shard. */
  readonly concurrency: number;
  readonly timeoutMs: number;
  readonly retries: number;
  /** Shards of this scan that may run at once (each gets rate / parallelism). */
  readonly parallelism: number;
  /** Identify services on open ports (probes, TLS, HTTP). */
  readonly identify: boolean;
}

/** A scan as stored. */
export interface ScanRecord {
  readonly id: string;
  readonly orgId: string;
  readonly hosts: readonly string[];
  /** The host names each address was resolved from (addresses given as such are absent). */
  readonly names: Readonly<Record<string, readonly string[]>>;
  readonly ports: string;
  readonly options: ScanOptions;
  readonly seed: number;
  readonly probesTotal: number;
  readonly shardSize: number;
  readonly shardCount: number;
  readonly state: ScanState;
  readonly error: string | null;
  readonly createdAt: number;
  readonly startedAt: number | null;
  readonly finishedAt: number | null;
}

/** Progress of a scan, summed over its shards. */
export interface ScanProgress {
  readonly probesDone: number;
  readonly openFound: number;
  readonly shardsDone: number;
  /** Shard runs beyond the first (a worker died or was stopped mid-shard). */
  readonly shardRestarts: number;
}

/** A stored service. */
export interface ServiceRecord {
  readonly id: string;
  readonly orgId: string | null;
  readonly ip: string;
  readonly port: number;
  readonly protocol: string;
  readonly state: 'open' | 'closed';
  readonly service: string | null;
  readonly product: string | null;
  readonly version: string | null;
  readonly finding: ServiceFinding;
  readonly provider: string;
  readonly source: string;
  readonly firstSeen: number;
  readonly lastSeen: number;
  readonly lastScanId: string | null;
}

/** Findings to record together. */
export interface FindingBatch {
  readonly orgId: string | null;
  readonly findings: readonly ServiceFinding[];
  readonly source: FindingSource;
  readonly observedAt: number;
  /** The scan (or import) they belong to: makes observation ids idempotent per run. */
  readonly runId: string;
  readonly providerOf: (ip: string) => string;
}

/** Filters of the services list. */
export interface ServiceFilter {
  readonly orgId?: string;
  readonly state?: 'open' | 'closed';
  /** Matches ip, product, service name or banner text (case-insensitive substring). */
  readonly q?: string;
  readonly port?: number;
  readonly limit: number;
  readonly cursor?: string;
}

const ROWS_PER_STATEMENT = 400;

/** The key of a service asset. */
export function serviceKey(ip: string, port: number): string {
  return ip.includes(':') ? `[${ip}]:${String(port)}/tcp` : `${ip}:${String(port)}/tcp`;
}

/** Scans, shards and services on one database. */
export class DiscoveryRepository {
  constructor(
    private readonly db: Db,
    private readonly assets: AssetRepository,
  ) {}

  /** Stores a new scan with all its shards pending. */
  async createScan(input: {
    orgId: string;
    hosts: readonly string[];
    names: Readonly<Record<string, readonly string[]>>;
    ports: string;
    portCount: number;
    options: ScanOptions;
    shardSize: number;
    now: number;
  }): Promise<ScanRecord> {
    const total = input.hosts.length * input.portCount;
    const shardCount = Math.max(1, Math.ceil(total / input.shardSize));
    const scan: ScanRecord = {
      id: randomUUID(),
      orgId: input.orgId,
      hosts: input.hosts,
      names: input.names,
      ports: input.ports,
      options: input.options,
      seed: Math.floor(Math.random() * 2 ** 31),
      probesTotal: total,
      shardSize: input.shardSize,
      shardCount,
      state: 'running',
      error: null,
      createdAt: input.now,
      startedAt: input.now,
      finishedAt: null,
    };
    await this.db.kysely.transaction().execute(async (trx) => {
      await trx
        .insertInto('scans')
        .values({
          id: scan.id,
          org_id: scan.orgId,
          hosts: toJson(scan.hosts),
          host_names: toJson(scan.names),
          ports: scan.ports,
          options: toJson(scan.options),
          seed: scan.seed,
          probes_total: total,
          shard_size: scan.shardSize,
          shard_count: shardCount,
          state: 'running',
          error: null,
          created_at: input.now,
          started_at: input.now,
          finished_at: null,
        })
        .execute();
      for (let first = 0; first < shardCount; first += ROWS_PER_STATEMENT) {
        const rows = [];
        for (let s = first; s < Math.min(shardCount, first + ROWS_PER_STATEMENT); s++) {
          rows.push({
            scan_id: scan.id,
            shard: s,
            state: 'pending' as ShardState,
            probes_done: 0,
            open_found: 0,
            runs: 0,
          });
        }
        await trx.insertInto('scan_shards').values(rows).execute();
      }
    });
    return scan;
  }

  /** One scan by id. */
  async getScan(id: string): Promise<ScanRecord | undefined> {
    const row = await this.db.kysely
      .selectFrom('scans')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
    return row === undefined ? undefined : toScan(row);
  }

  /** Recent scans, newest first (hosts and names left out: they can be large). */
  async listScans(limit: number, orgId?: string): Promise<ScanRecord[]> {
    const rows = await this.db.kysely
      .selectFrom('scans')
      .selectAll()
      .$if(orgId !== undefined, (q) => q.where('org_id', '=', orgId!))
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .limit(limit)
      .execute();
    return rows.map((r) => toScan({ ...r, hosts: '[]', host_names: null }));
  }

  /** Progress summed over the shards. */
  async progress(scanId: string): Promise<ScanProgress> {
    const row = await this.db.kysely
      .selectFrom('scan_shards')
      .select((eb) => [
        eb.fn
          .coalesce(eb.fn.sum<number | string>('probes_done'), sql<number | string>`0`)
          .as('probes'),
        eb.fn
          .coalesce(eb.fn.sum<number | string>('open_found'), sql<number | string>`0`)
          .as('open'),
        eb.fn
          .coalesce(
            eb.fn.sum<number | string>(sql`case when state = 'done' then 1 else 0 end`),
            sql<number | string>`0`,
          )
          .as('done'),
        eb.fn
          .coalesce(
            eb.fn.sum<number | string>(sql`case when runs > 1 then runs - 1 else 0 end`),
            sql<number | string>`0`,
          )
          .as('restarts'),
      ])
      .where('scan_id', '=', scanId)
      .executeTakeFirstOrThrow();
    return {
      probesDone: Number(row.probes),
      openFound: Number(row.open),
      shardsDone: Number(row.done),
      shardRestarts: Number(row.restarts),
    };
  }

  /**
   * Marks up to `count` pending shards queued and returns their numbers, lowest first. Each
   * shard is claimed by a conditional update, so two processes never both queue one shard.
   */
  async queueShards(scanId: string, count: number): Promise<number[]> {
    const claimed: number[] = [];
    while (claimed.length < count) {
      const candidates = await this.db.kysely
        .selectFrom('scan_shards')
        .select('shard')
        .where('scan_id', '=', scanId)
        .where('state', '=', 'pending')
        .orderBy('shard')
        .limit(count - claimed.length)
        .execute();
      if (candidates.length === 0) break;
      for (const { shard } of candidates) {
        const result = await this.db.kysely
          .updateTable('scan_shards')
          .set({ state: 'queued' })
          .where('scan_id', '=', scanId)
          .where('shard', '=', shard)
          .where('state', '=', 'pending')
          .executeTakeFirst();
        if (Number(result.numUpdatedRows) === 1) claimed.push(shard);
      }
    }
    return claimed;
  }

  /** Records that a worker started the shard; returns false when it is already done. */
  async startShard(scanId: string, shard: number, now: number): Promise<boolean> {
    const result = await this.db.kysely
      .updateTable('scan_shards')
      .set((eb) => ({ runs: eb('runs', '+', 1), started_at: now, probes_done: 0, open_found: 0 }))
      .where('scan_id', '=', scanId)
      .where('shard', '=', shard)
      .where('state', '!=', 'done')
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  /** Progress of a running shard (for the API's progress figures). */
  async shardProgress(
    scanId: string,
    shard: number,
    probesDone: number,
    openFound: number,
  ): Promise<void> {
    await this.db.kysely
      .updateTable('scan_shards')
      .set({ probes_done: probesDone, open_found: openFound })
      .where('scan_id', '=', scanId)
      .where('shard', '=', shard)
      .where('state', '!=', 'done')
      .execute();
  }

  /** Marks a shard done in `trx`; returns how many shards of the scan are not done yet. */
  async finishShard(
    trx: Executor,
    scanId: string,
    shard: number,
    probesDone: number,
    openFound: number,
    now: number,
  ): Promise<number> {
    await trx
      .updateTable('scan_shards')
      .set({ state: 'done', probes_done: probesDone, open_found: openFound, finished_at: now })
      .where('scan_id', '=', scanId)
      .where('shard', '=', shard)
      .execute();
    const row = await trx
      .selectFrom('scan_shards')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('scan_id', '=', scanId)
      .where('state', '!=', 'done')
      .executeTakeFirstOrThrow();
    return row.n;
  }

  /** Moves a running scan to a final state; false when another process did it first. */
  async endScan(
    trx: Executor,
    scanId: string,
    state: Exclude<ScanState, 'running'>,
    now: number,
    error: string | null = null,
  ): Promise<boolean> {
    const result = await trx
      .updateTable('scans')
      .set({ state, finished_at: now, error })
      .where('id', '=', scanId)
      .where('state', '=', 'running')
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  /**
   * Records findings in `trx`: ip and service assets, one observation each (id derived from the
   * run and the host name, so a shard or import replayed writes nothing new), and the services
   * rows. Returns the service ids in input order.
   *
   * An ip:port may come several times, once per host name it was identified under: it stays one
   * service (and one issue per policy), whose row keeps the first finding with every name in
   * `hostnames`, while each name's finding, with its own certificate and page, is an observation.
   */
  async recordFindings(trx: Executor, batch: FindingBatch): Promise<string[]> {
    if (batch.findings.length === 0) return [];
    const { orgId, observedAt } = batch;
    const latest = latestPerEndpoint(batch.findings);
    const providers = batch.findings.map((f) => batch.providerOf(f.ip));
    await this.assets.upsertAssets(
      batch.findings.map((f, i) => ({
        kind: 'ip' as const,
        key: f.ip,
        seenAt: observedAt,
        orgId,
        provider: providers[i]!,
      })),
      trx,
    );
    const ids = await this.assets.upsertAssets(
      batch.findings.map((f, i) => ({
        kind: 'service' as const,
        key: serviceKey(f.ip, f.port),
        seenAt: observedAt,
        orgId,
        provider: providers[i]!,
      })),
      trx,
    );
    await this.assets.recordObservations(
      batch.findings.map((f, i) => ({
        id: observationId(batch.source, batch.runId, f),
        assetId: ids[i]!,
        source: batch.source === 'scan' ? 'scan' : 'import',
        data: f,
        observedAt,
      })),
      trx,
    );
    // One row per endpoint: PostgreSQL refuses an upsert that touches a row twice.
    const rowsOf = latest.map(({ index, finding }) => ({
      f: finding,
      id: ids[index]!,
      provider: providers[index]!,
    }));
    for (let i = 0; i < rowsOf.length; i += ROWS_PER_STATEMENT) {
      const rows = rowsOf.slice(i, i + ROWS_PER_STATEMENT).map(({ f, id, provider }) => ({
        id,
        org_id: orgId,
        ip: f.ip,
        port: f.port,
        protocol: f.protocol,
        state: 'open' as const,
        service: f.service ?? null,
        product: f.product ?? null,
        version: f.version ?? null,
        finding: toJson(f),
        provider,
        source: batch.source,
        first_seen: observedAt,
        last_seen: observedAt,
        last_scan_id: batch.runId,
      }));
      await trx
        .insertInto('services')
        .values(rows)
        .onConflict((oc) =>
          oc.columns(['ip', 'port', 'protocol']).doUpdateSet((eb) => {
            // An older finding (a replayed import of an old file) never overwrites a newer one.
            const newer = eb('excluded.last_seen', '>=', eb.ref('services.last_seen'));
            const pick = <
              C extends
                | 'service'
                | 'product'
                | 'version'
                | 'finding'
                | 'source'
                | 'provider'
                | 'last_scan_id'
                | 'state',
            >(
              column: C,
            ) =>
              eb
                .case()
                .when(newer)
                .then(eb.ref(`excluded.${column}`))
                .else(eb.ref(`services.${column}`))
                .end();
            return {
              org_id: eb.fn.coalesce('excluded.org_id', 'services.org_id'),
              // Nor does a finding older than the complete run that closed the service reopen it.
              state: eb
                .case()
                .when(
                  eb.and([
                    newer,
                    eb.or([
                      eb('services.closed_at', 'is', null),
                      eb('excluded.last_seen', '>=', eb.ref('services.closed_at')),
                    ]),
                  ]),
                )
                .then(eb.ref('excluded.state'))
                .else(eb.ref('services.state'))
                .end(),
              service: pick('service'),
              product: pick('product'),
              version: pick('version'),
              finding: pick('finding'),
              provider: pick('provider'),
              source: pick('source'),
              last_scan_id: pick('last_scan_id'),
              first_seen: eb
                .case()
                .when('excluded.first_seen', '<', eb.ref('services.first_seen'))
                .then(eb.ref('excluded.first_seen'))
                .else(eb.ref('services.first_seen'))
                .end(),
              last_seen: eb
                .case()
                .when(newer)
                .then(eb.ref('excluded.last_seen'))
                .else(eb.ref('services.last_seen'))
                .end(),
            };
          }),
        )
        .execute();
    }
    return ids;
  }

  /**
   * After a complete run observed at `observedAt`: open services of the organization that the
   * run covered but did not find are marked closed, except those seen after `observedAt` (an
   * old file imported late says nothing about what a later run saw). Returns the ids it closed.
   */
  async closeMissing(
    trx: Executor,
    orgId: string,
    runId: string,
    covers: (ip: string, port: number) => boolean,
    observedAt: number,
  ): Promise<string[]> {
    const open = await trx
      .selectFrom('services')
      .select(['id', 'ip', 'port', 'last_scan_id'])
      .where('org_id', '=', orgId)
      .where('state', '=', 'open')
      .where('last_seen', '<=', observedAt)
      .execute();
    const gone = open
      .filter((s) => s.last_scan_id !== runId && covers(s.ip, s.port))
      .map((s) => s.id);
    for (let i = 0; i < gone.length; i += ROWS_PER_STATEMENT) {
      await trx
        .updateTable('services')
        .set({ state: 'closed', closed_at: observedAt })
        .where('id', 'in', gone.slice(i, i + ROWS_PER_STATEMENT))
        .execute();
    }
    return gone;
  }

  /**
   * What one run found, for the issue reconcile that ends it: each service's latest finding,
   * and for a service identified under several names, each name's own finding (read back from
   * its observation, whose id the run and the name determine), so that an issue only one name
   * shows (its certificate, say) is not taken for gone.
   */
  async findingsOfRun(
    trx: Executor,
    runId: string,
  ): Promise<{ serviceId: string; finding: ServiceFinding; provider: string }[]> {
    const services = await this.servicesOfRun(trx, runId);
    const wanted = new Map<string, string>();
    for (const s of services) {
      for (const hostname of s.finding.hostnames?.slice(1) ?? []) {
        const id = observationId(s.source as FindingSource, runId, { ...s.finding, hostname });
        wanted.set(id, s.id);
      }
    }
    const extra = new Map<string, ServiceFinding[]>();
    const ids = [...wanted.keys()];
    for (let i = 0; i < ids.length; i += ROWS_PER_STATEMENT) {
      const rows = await trx
        .selectFrom('observations')
        .select(['id', 'data'])
        .where('id', 'in', ids.slice(i, i + ROWS_PER_STATEMENT))
        .execute();
      for (const row of rows) {
        const serviceId = wanted.get(row.id)!;
        extra.set(serviceId, [...(extra.get(serviceId) ?? []), fromJson<ServiceFinding>(row.data)]);
      }
    }
    return services.flatMap((s) =>
      [s.finding, ...(extra.get(s.id) ?? [])].map((finding) => ({
        serviceId: s.id,
        finding,
        provider: s.provider,
      })),
    );
  }

  /** Services found by one run (scan id or import id). */
  async servicesOfRun(trx: Executor, runId: string): Promise<ServiceRecord[]> {
    const rows = await trx
      .selectFrom('services')
      .selectAll()
      .where('last_scan_id', '=', runId)
      .execute();
    return rows.map(toService);
  }

  /** One service by id. */
  async getService(id: string): Promise<ServiceRecord | undefined> {
    const row = await this.db.kysely
      .selectFrom('services')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
    return row === undefined ? undefined : toService(row);
  }

  /** Services of an ip (for an asset page). */
  async servicesOfIp(ip: string): Promise<ServiceRecord[]> {
    const rows = await this.db.kysely
      .selectFrom('services')
      .selectAll()
      .where('ip', '=', ip)
      .orderBy('port')
      .execute();
    return rows.map(toService);
  }

  /** Services, most recently seen first, with keyset paging and a total. */
  async listServices(filter: ServiceFilter): Promise<LastSeenPage<ServiceRecord>> {
    const base = this.db.kysely
      .selectFrom('services')
      .$if(filter.orgId !== undefined, (q) => q.where('org_id', '=', filter.orgId!))
      .$if(filter.state !== undefined, (q) => q.where('state', '=', filter.state!))
      .$if(filter.port !== undefined, (q) => q.where('port', '=', filter.port!))
      .$if(filter.q !== undefined && filter.q !== '', (q) => {
        const pattern = `%${escapeLike(filter.q!.toLowerCase())}%`;
        return q.where((eb) =>
          eb.or([
            eb(eb.fn('lower', ['ip']), 'like', sql<string>`${pattern} escape '\\'`),
            eb(eb.fn('lower', ['product']), 'like', sql<string>`${pattern} escape '\\'`),
            eb(eb.fn('lower', ['service']), 'like', sql<string>`${pattern} escape '\\'`),
          ]),
        );
      });
    return pageByLastSeen(base, filter, toService);
  }
}

/** An asset row as the inventory lists it. */
export interface AssetRow {
  readonly id: string;
  readonly kind: string;
  readonly key: string;
  readonly orgId: string | null;
  readonly provider: string | null;
  readonly firstSeen: number;
  readonly lastSeen: number;
}

/** Assets, most recently seen first, with keyset paging and a total. */
export async function listAssets(
  db: Db,
  filter: { kind?: string; q?: string; orgId?: string; limit: number; cursor?: string },
): Promise<LastSeenPage<AssetRow>> {
  const base = db.kysely
    .selectFrom('assets')
    .$if(filter.kind !== undefined, (q) => q.where('kind', '=', filter.kind as never))
    .$if(filter.orgId !== undefined, (q) => q.where('org_id', '=', filter.orgId!))
    .$if(filter.q !== undefined && filter.q !== '', (q) =>
      q.where(
        (eb) => eb.fn('lower', ['key']),
        'like',
        sql<string>`${`%${escapeLike(filter.q!.toLowerCase())}%`} escape '\\'`,
      ),
    );
  return pageByLastSeen(base, filter, toAsset);
}

/** One asset by id. */
export async function getAsset(db: Db, id: string): Promise<AssetRow | undefined> {
  const r = await db.kysely
    .selectFrom('assets')
    .selectAll()
    .where('id', '=', id)
    .executeTakeFirst();
  return r === undefined ? undefined : toAsset(r);
}

function toAsset(r: Selectable<AssetsTable>): AssetRow {
  return {
    id: r.id,
    kind: r.kind,
    key: r.key,
    orgId: r.org_id,
    provider: r.provider,
    firstSeen: r.first_seen,
    lastSeen: r.last_seen,
  };
}

/** Escapes LIKE wildcards (the pattern uses backslash as its escape character). */
export function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/**
 * The first finding of each ip:port in a batch, with the names of all of them, and the index of
 * that first finding. Findings without a name keep their shape (imports, scans of addresses).
 */
function latestPerEndpoint(
  findings: readonly ServiceFinding[],
): { index: number; finding: ServiceFinding }[] {
  const byKey = new Map<string, { index: number; finding: ServiceFinding; names: string[] }>();
  findings.forEach((f, index) => {
    const key = serviceKey(f.ip, f.port);
    const seen = byKey.get(key);
    if (seen === undefined) {
      byKey.set(key, { index, finding: f, names: f.hostname === undefined ? [] : [f.hostname] });
    } else if (f.hostname !== undefined && !seen.names.includes(f.hostname)) {
      seen.names.push(f.hostname);
    }
  });
  return [...byKey.values()].map(({ index, finding, names }) => ({
    index,
    finding: names.length === 0 ? finding : { ...finding, hostnames: names },
  }));
}

function observationId(
  source: FindingSource,
  runId: string,
  f: Pick<ServiceFinding, 'ip' | 'port' | 'hostname'>,
): string {
  // Without a name the id is what it always was, so replays of older runs stay idempotent.
  const name = f.hostname === undefined ? '' : `\u0000${f.hostname}`;
  const digest = createHash('sha256')
    .update(`${source}\u0000${runId}\u0000${f.ip}\u0000${String(f.port)}${name}`)
    .digest('base64url');
  return `${source}:${digest.slice(0, 32)}`;
}

function toScan(row: Selectable<ScansTable>): ScanRecord {
  return {
    id: row.id,
    orgId: row.org_id,
    hosts: fromJson<string[]>(row.hosts),
    names: row.host_names === null ? {} : fromJson<Record<string, string[]>>(row.host_names),
    ports: row.ports,
    options: fromJson<ScanOptions>(row.options),
    seed: row.seed,
    probesTotal: row.probes_total,
    shardSize: row.shard_size,
    shardCount: row.shard_count,
    state: row.state,
    error: row.error,
    createdAt: row.created_at,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
  };
}

function toService(row: {
  id: string;
  org_id: string | null;
  ip: string;
  port: number;
  protocol: string;
  state: 'open' | 'closed';
  service: string | null;
  product: string | null;
  version: string | null;
  finding: unknown;
  provider: string;
  source: string;
  first_seen: number;
  last_seen: number;
  last_scan_id: string | null;
}): ServiceRecord {
  return {
    id: row.id,
    orgId: row.org_id,
    ip: row.ip,
    port: row.port,
    protocol: row.protocol,
    state: row.state,
    service: row.service,
    product: row.product,
    version: row.version,
    finding: fromJson<ServiceFinding>(row.finding),
    provider: row.provider,
    source: row.source,
    firstSeen: row.first_seen,
    lastSeen: row.last_seen,
    lastScanId: row.last_scan_id,
  };
}
