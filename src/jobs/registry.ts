/**
 * The typed job registry: every job type is declared once, with its payload schema, retries,
 * backoff, timeout, concurrency and priority. Enqueueing validates the payload against the
 * schema, so a bad job is refused at the door (400) instead of failing later in a worker.
 */
import { randomUUID } from 'node:crypto';
import type { Static, TSchema } from 'typebox';
import { Compile, type Validator } from 'typebox/compile';
import { validationError } from '#src/http/errors.js';
import type { Backoff, NewJob, QueueConsumption, RateLimit } from '#src/jobs/queue.js';
import type { AssetRepository } from '#src/assets/assets.repository.js';
import type { CpuPool } from '#src/jobs/pool.js';
import type { Db } from '#src/storage/database.js';
import type { ScanService } from '#src/discovery/scan.service.js';
import { StartupError } from '#src/startup-error.js';

/** What a handler may use; every side effect comes in through here. */
export interface JobContext {
  readonly jobId: string;
  /** 1 on the first run. */
  readonly attempt: number;
  /** Aborted when the job times out or the worker is shutting down hard. */
  readonly signal: AbortSignal;
  readonly assets: AssetRepository;
  /** Runs a CPU-heavy task in the worker-thread pool, never on this event loop. */
  readonly cpu: CpuPool;
  readonly now: () => number;
  /** The database, for handlers whose capability keeps its own tables. */
  readonly db: Db;
  /** Plans and runs scans (the scan-shard job). */
  readonly scans: ScanService;
  /** Adds follow-up jobs (validated like the API's); a job that fans out uses it. */
  readonly enqueue: (requests: readonly EnqueueRequest[]) => Promise<string[]>;
}

/** One job type. */
export interface JobDefinition<S extends TSchema = TSchema> {
  /** Also the name of its queue. */
  readonly name: string;
  /** One line for the API docs and the scheduler view. */
  readonly description: string;
  readonly payload: S;
  /** Runs at most this many times (first run included). */
  readonly attempts: number;
  readonly backoff: Backoff;
  /** A run taking longer fails (and is retried if attempts remain). */
  readonly timeoutMs: number;
  /** Jobs of this type run at once per worker process. */
  readonly concurrency: number;
  /** Default priority; 1 runs first. */
  readonly priority: number;
  readonly rateLimit?: RateLimit;
  readonly run: (payload: Static<S>, ctx: JobContext) => Promise<unknown>;
}

/** Declares a job type with its payload type inferred from the schema. */
export function defineJob<S extends TSchema>(definition: JobDefinition<S>): JobDefinition<S> {
  return definition;
}

/** A request to enqueue one job. */
export interface EnqueueRequest {
  readonly type: string;
  readonly payload: unknown;
  readonly id?: string | undefined;
  readonly priority?: number | undefined;
  readonly delayMs?: number | undefined;
}

/** A queue name that no job type has (a typo in --queues, say). */
export class UnknownQueueError extends StartupError {
  constructor(message: string) {
    super(message);
    this.name = 'UnknownQueueError';
  }
}

/** The registered job types. */
export class JobRegistry {
  private readonly definitions = new Map<string, JobDefinition>();
  private readonly validators = new Map<string, Validator>();

  constructor(definitions: readonly JobDefinition[]) {
    for (const definition of definitions) {
      if (this.definitions.has(definition.name)) {
        throw new Error(`job type ${definition.name} is declared twice`);
      }
      this.definitions.set(definition.name, definition);
      this.validators.set(definition.name, Compile(definition.payload));
    }
  }

  /** Every job type name (= every queue). */
  names(): string[] {
    return [...this.definitions.keys()];
  }

  /** The definition of a type, if registered. */
  get(name: string): JobDefinition | undefined {
    return this.definitions.get(name);
  }

  /** All definitions. */
  all(): JobDefinition[] {
    return [...this.definitions.values()];
  }

  /**
   * Turns requests into jobs, validating each; throws a 400 validation_error naming the first
   * bad request (its index in a batch) and adds nothing.
   */
  prepare(requests: readonly EnqueueRequest[]): NewJob[] {
    return requests.map((request, index) => {
      const where = requests.length > 1 ? `jobs[${String(index)}]: ` : '';
      const definition = this.definitions.get(request.type);
      if (definition === undefined) {
        throw validationError(
          `${where}unknown job type ${JSON.stringify(request.type)} (known: ${this.names().join(', ')})`,
        );
      }
      const validator = this.validators.get(request.type)!;
      if (!validator.Check(request.payload)) {
        const first = validator.Errors(request.payload)[0];
        const path = first?.instancePath.replace(/^\//, '').replace(/\//g, '.') ?? '';
        throw validationError(
          `${where}invalid payload for ${request.type}: ${path === '' ? '' : `${path}: `}${first?.message ?? 'does not match the schema'}`,
        );
      }
      return {
        id: request.id ?? randomUUID(),
        queue: definition.name,
        payload: request.payload,
        priority: request.priority ?? definition.priority,
        delayMs: request.delayMs ?? 0,
        maxAttempts: definition.attempts,
        backoff: definition.backoff,
      };
    });
  }

  /** How a worker consumes the given queues (all when null); throws on an unknown name. */
  consumption(queues: readonly string[] | null): QueueConsumption[] {
    const names = queues ?? this.names();
    return names.map((name) => {
      const definition = this.definitions.get(name);
      if (definition === undefined) {
        throw new UnknownQueueError(
          `unknown queue ${JSON.stringify(name)} in --queues (known: ${this.names().join(', ')})`,
        );
      }
      return {
        queue: name,
        concurrency: definition.concurrency,
        backoff: definition.backoff,
        rateLimit: definition.rateLimit,
      };
    });
  }
}
