/**
 * Discovery API: organizations (with the seeds that define their scan scope), scans (planned
 * here, run by workers shard by shard), services and assets.
 */
import { Type } from 'typebox';
import type { App } from '#src/http/app.js';
import { AppError, validationError } from '#src/http/errors.js';
import { ErrorBody } from '#src/http/http.schema.js';
import type { AssetRepository, Organization } from '#src/assets/assets.repository.js';
import { isUniqueViolation } from '#src/storage/dialect.js';
import type { JobService } from '#src/jobs/jobs.service.js';
import { shardJobs } from '#src/discovery/discovery.jobs.js';
import {
  getAsset,
  listAssets,
  type AssetRow,
  type ServiceRecord,
} from '#src/discovery/discovery.repository.js';
import { CursorError } from '#src/discovery/paging.js';
import type { Db } from '#src/storage/database.js';
import {
  NewOrganization,
  NewScan,
  OrganizationAnswer,
  Page,
  ScanAnswer,
  ServiceAnswer,
  ServiceQuery,
  AssetAnswer,
  AssetQuery,
  Observations,
} from '#src/discovery/discovery.schema.js';
import type { ScanService } from '#src/discovery/scan.service.js';
import { seedProblems } from '#src/discovery/scope.model.js';
import { orgIdOf } from '#src/assets/org-ref.js';

/** What the routes need. */
export interface DiscoveryRouteDeps {
  readonly assets: AssetRepository;
  readonly scans: ScanService;
  readonly jobs: JobService;
  readonly db: Db;
  readonly clock: () => number;
}

const iso = (ms: number): string => new Date(ms).toISOString();

function organizationAnswer(org: Organization) {
  const { domains, cidrs, asns, names, excludes } = org.seeds;
  return {
    id: org.id,
    name: org.name,
    seeds: {
      domains: [...domains],
      cidrs: [...cidrs],
      asns: [...asns],
      names: [...names],
      ...(excludes === undefined ? {} : { excludes: [...excludes] }),
    },
    createdAt: iso(org.created_at),
  };
}

/** A service as the API shows it. */
export function serviceAnswer(s: ServiceRecord) {
  return {
    id: s.id,
    orgId: s.orgId,
    ip: s.ip,
    port: s.port,
    protocol: s.protocol,
    state: s.state,
    service: s.service,
    product: s.product,
    version: s.version,
    provider: s.provider,
    source: s.source,
    firstSeen: iso(s.firstSeen),
    lastSeen: iso(s.lastSeen),
    finding: s.finding,
  };
}

/** An observation as the detail routes show it. */
function observationAnswer(o: { source: string; observed_at: number; data: unknown }) {
  return { source: o.source, observedAt: iso(o.observed_at), data: o.data };
}

function assetAnswer(a: AssetRow) {
  return { ...a, firstSeen: iso(a.firstSeen), lastSeen: iso(a.lastSeen) };
}

/** Registers the organization, scan, service and asset routes. */
export function registerDiscoveryRoutes(app: App, deps: DiscoveryRouteDeps): void {
  const { assets, scans, jobs } = deps;
  const Id = Type.Object({ id: Type.String({ minLength: 1, maxLength: 200 }) });

  app.post(
    '/api/v1/organizations',
    {
      schema: {
        tags: ['discovery'],
        summary: 'Create an organization with its seeds (domains, CIDRs, ASNs, names).',
        description:
          'Seeds define what may be scanned: addresses inside its CIDRs and host names under ' +
          'its domains, minus `excludes`. Private, loopback and link-local ranges are in scope ' +
          'only when a CIDR inside that range names them.',
        body: NewOrganization,
        response: { 201: OrganizationAnswer, 400: ErrorBody, 409: ErrorBody },
      },
    },
    async (request, reply) => {
      const { name, seeds } = request.body;
      const problems = seedProblems({
        domains: seeds.domains,
        cidrs: seeds.cidrs,
        excludes: seeds.excludes ?? [],
      });
      if (problems.length > 0) throw validationError(`seeds: ${problems.join('; ')}`);
      try {
        const org = await assets.createOrganization(name, seeds, deps.clock());
        return await reply.status(201).send(organizationAnswer(org));
      } catch (error) {
        if (isUniqueViolation(error)) {
          throw new AppError(
            'conflict',
            409,
            `an organization named ${JSON.stringify(name)} exists`,
          );
        }
        throw error;
      }
    },
  );

  app.get(
    '/api/v1/organizations',
    {
      schema: {
        tags: ['discovery'],
        summary: 'Every organization, by name.',
        response: { 200: Type.Array(OrganizationAnswer) },
      },
    },
    async () => (await assets.listOrganizations()).map(organizationAnswer),
  );

  app.get(
    '/api/v1/organizations/:id',
    {
      schema: {
        tags: ['discovery'],
        summary: 'One organization by id or name.',
        params: Id,
        response: { 200: OrganizationAnswer, 404: ErrorBody },
      },
    },
    async (request) => {
      const org = await assets.findOrganization(request.params.id);
      if (org === undefined) {
        throw new AppError(
          'not_found',
          404,
          `no organization ${JSON.stringify(request.params.id)}`,
        );
      }
      return organizationAnswer(org);
    },
  );

  const scanAnswer = async (id: string) => {
    const scan = await scans.repository.getScan(id);
    if (scan === undefined) throw new AppError('not_found', 404, `no scan ${JSON.stringify(id)}`);
    const progress = await scans.repository.progress(id);
    return {
      id: scan.id,
      orgId: scan.orgId,
      state: scan.state,
      error: scan.error,
      hosts: scan.hosts.length,
      ports: scan.ports,
      options: scan.options,
      probesTotal: scan.probesTotal,
      probesDone: scan.state === 'completed' ? scan.probesTotal : progress.probesDone,
      openFound: progress.openFound,
      shards: scan.shardCount,
      shardsDone: progress.shardsDone,
      shardRestarts: progress.shardRestarts,
      createdAt: iso(scan.createdAt),
      finishedAt: scan.finishedAt === null ? null : iso(scan.finishedAt),
    };
  };

  app.post(
    '/api/v1/scans',
    {
      schema: {
        tags: ['discovery'],
        summary: 'Start a scan of in-scope targets; workers run it shard by shard.',
        description:
          'Every target is checked against the organization scope before anything is sent: ' +
          'one target outside it refuses the whole scan with 403 out_of_scope. A rate above ' +
          'the deployment cap (SURFACESCAN_SCAN_MAX_RATE) is a 400. Poll GET /api/v1/scans/{id} ' +
          'for progress.',
        body: NewScan,
        response: { 202: ScanAnswer, 400: ErrorBody, 403: ErrorBody, 404: ErrorBody },
      },
    },
    async (request, reply) => {
      const body = request.body;
      const scan = await scans.plan({
        org: body.org,
        targets: body.targets,
        ports: body.ports,
        rate: body.rate,
        concurrency: body.concurrency,
        timeoutMs: body.timeoutMs,
        retries: body.retries,
        parallelism: body.parallelism,
        identify: body.identify,
      });
      const first = await scans.repository.queueShards(scan.id, scan.options.parallelism);
      await jobs.enqueue(shardJobs(scan.id, first));
      return reply.status(202).send(await scanAnswer(scan.id));
    },
  );

  app.get(
    '/api/v1/scans',
    {
      schema: {
        tags: ['discovery'],
        summary: 'Recent scans, newest first (at most 100).',
        querystring: Type.Object(
          { org: Type.Optional(Type.String({ maxLength: 200 })) },
          { additionalProperties: false },
        ),
        response: { 200: Type.Array(ScanAnswer) },
      },
    },
    async (request) => {
      const orgId = await orgIdOf(assets, request.query.org);
      const list = await scans.repository.listScans(100, orgId);
      return Promise.all(list.map((s) => scanAnswer(s.id)));
    },
  );

  app.get(
    '/api/v1/scans/:id',
    {
      schema: {
        tags: ['discovery'],
        summary: 'One scan with its progress.',
        params: Id,
        response: { 200: ScanAnswer, 404: ErrorBody },
      },
    },
    async (request) => scanAnswer(request.params.id),
  );

  app.get(
    '/api/v1/services',
    {
      schema: {
        tags: ['discovery'],
        summary: 'Services (open or once-open ports), most recently seen first.',
        querystring: ServiceQuery,
        response: { 200: Page(ServiceAnswer), 400: ErrorBody, 404: ErrorBody },
      },
    },
    async (request) => {
      const query = request.query;
      const orgId = await orgIdOf(assets, query.org);
      const page = await pagedBy(() =>
        scans.repository.listServices({
          ...(orgId === undefined ? {} : { orgId }),
          ...(query.state === undefined ? {} : { state: query.state }),
          ...(query.q === undefined ? {} : { q: query.q }),
          ...(query.port === undefined ? {} : { port: query.port }),
          ...(query.cursor === undefined ? {} : { cursor: query.cursor }),
          limit: query.limit ?? 50,
        }),
      );
      return { ...page, items: page.items.map(serviceAnswer) };
    },
  );

  app.get(
    '/api/v1/services/:id',
    {
      schema: {
        tags: ['discovery'],
        summary: 'One service with its latest finding and its observation history.',
        params: Id,
        response: {
          200: Type.Intersect([
            ServiceAnswer,
            Type.Object({
              observations: Observations,
            }),
          ]),
          404: ErrorBody,
        },
      },
    },
    async (request) => {
      const service = await scans.repository.getService(request.params.id);
      if (service === undefined) {
        throw new AppError('not_found', 404, `no service ${JSON.stringify(request.params.id)}`);
      }
      const observations = await assets.observationsOf(service.id);
      return {
        ...serviceAnswer(service),
        observations: observations.map(observationAnswer),
      };
    },
  );
}

/** Registers GET /api/v1/assets and /api/v1/assets/:id. */
export function registerAssetRoutes(app: App, deps: DiscoveryRouteDeps): void {
  const { assets, scans, db } = deps;
  app.get(
    '/api/v1/assets',
    {
      schema: {
        tags: ['discovery'],
        summary: 'The asset inventory (ips, services, domains, certificates, vms), newest first.',
        querystring: AssetQuery,
        response: { 200: Page(AssetAnswer), 400: ErrorBody, 404: ErrorBody },
      },
    },
    async (request) => {
      const query = request.query;
      const orgId = await orgIdOf(assets, query.org);
      const page = await pagedBy(() =>
        listAssets(db, {
          ...(query.kind === undefined ? {} : { kind: query.kind }),
          ...(query.q === undefined ? {} : { q: query.q }),
          ...(orgId === undefined ? {} : { orgId }),
          ...(query.cursor === undefined ? {} : { cursor: query.cursor }),
          limit: query.limit ?? 50,
        }),
      );
      return { ...page, items: page.items.map(assetAnswer) };
    },
  );

  app.get(
    '/api/v1/assets/:id',
    {
      schema: {
        tags: ['discovery'],
        summary: 'One asset with its observations over time and, for an ip, its services.',
        params: Type.Object({ id: Type.String({ minLength: 1, maxLength: 200 }) }),
        response: {
          200: Type.Intersect([
            AssetAnswer,
            Type.Object({
              observations: Observations,
              services: Type.Array(ServiceAnswer),
            }),
          ]),
          404: ErrorBody,
        },
      },
    },
    async (request) => {
      const asset = await getAsset(db, request.params.id);
      if (asset === undefined) {
        throw new AppError('not_found', 404, `no asset ${JSON.stringify(request.params.id)}`);
      }
      const observations = await assets.observationsOf(asset.id);
      const services =
        asset.kind === 'ip'
          ? await scans.repository.servicesOfIp(asset.key)
          : asset.kind === 'service'
            ? [await scans.repository.getService(asset.id)].filter((s) => s !== undefined)
            : [];
      return {
        ...assetAnswer(asset),
        observations: observations.map(observationAnswer),
        services: services.map(serviceAnswer),
      };
    },
  );
}

/** Runs a paged listing; a cursor this API did not hand out is a 400. */
async function pagedBy<T>(list: () => Promise<T>): Promise<T> {
  try {
    return await list();
  } catch (error) {
    if (error instanceof CursorError) throw validationError(`cursor: ${error.message}`);
    throw error;
  }
}
