/**
 * Strict, all-or-nothing loading of a cloud environment document. The first bad element is
 * reported with its JSON path and what is wrong, so a user can fix a 10 MB file without
 * guessing. Unknown extra fields are ignored; tags no VM carries are fine.
 */
import { readFileSync } from 'node:fs';
import { jsonErrorOffset } from '#src/cloud/json-position.js';
import type { CloudEnvironment, FwId, FwRule, Vm, VmId } from '#src/cloud/environment.model.js';
import { StartupError } from '#src/startup-error.js';

/** Why an environment could not be loaded; the message names the source and the JSON path. */
export class EnvironmentError extends StartupError {
  constructor(message: string) {
    super(message);
    this.name = 'EnvironmentError';
  }
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') {
    return `the string ${JSON.stringify(value.length > 40 ? value.slice(0, 40) + '…' : value)}`;
  }
  if (typeof value === 'number' || typeof value === 'boolean')
    return `${typeof value} ${String(value)}`;
  if (typeof value === 'object') return 'an object';
  return typeof value;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Describes a JSON syntax error with line and column, whatever JSON.parse's message says. */
function jsonSyntaxMessage(text: string, error: unknown): string {
  const raw = error instanceof Error ? error.message : String(error);
  const position = jsonErrorOffset(text);
  if (position < 0) return `not valid JSON (${raw})`;
  const before = text.slice(0, position);
  const line = before.split('\n').length;
  const column = position - before.lastIndexOf('\n');
  const found =
    position >= text.length
      ? 'unexpected end of file'
      : `unexpected ${JSON.stringify(text[position])}`;
  return `not valid JSON at line ${line} column ${column}: ${found}`;
}

function requireString(
  record: Record<string, unknown>,
  field: string,
  path: string,
  allowEmpty: boolean,
): string {
  if (!(field in record)) throw new EnvironmentError(`${path}: missing required field "${field}"`);
  const value = record[field];
  if (typeof value !== 'string') {
    throw new EnvironmentError(`${path}.${field}: expected a string, got ${describe(value)}`);
  }
  if (!allowEmpty && value.length === 0) {
    throw new EnvironmentError(`${path}.${field}: must not be empty`);
  }
  return value;
}

function parseVm(value: unknown, path: string): Vm {
  if (!isRecord(value))
    throw new EnvironmentError(`${path}: expected an object, got ${describe(value)}`);
  const vmId = requireString(value, 'vm_id', path, false);
  const name = requireString(value, 'name', path, true);
  if (!('tags' in value)) throw new EnvironmentError(`${path}: missing required field "tags"`);
  const tags = value.tags;
  if (!Array.isArray(tags)) {
    throw new EnvironmentError(`${path}.tags: expected an array of strings, got ${describe(tags)}`);
  }
  for (let i = 0; i < tags.length; i++) {
    const tag: unknown = tags[i];
    if (typeof tag !== 'string') {
      throw new EnvironmentError(`${path}.tags[${i}]: expected a string, got ${describe(tag)}`);
    }
  }
  return { vm_id: vmId as VmId, name, tags: tags as string[] };
}

function parseRule(value: unknown, path: string): FwRule {
  if (!isRecord(value))
    throw new EnvironmentError(`${path}: expected an object, got ${describe(value)}`);
  return {
    fw_id: requireString(value, 'fw_id', path, false) as FwId,
    source_tag: requireString(value, 'source_tag', path, true),
    dest_tag: requireString(value, 'dest_tag', path, true),
  };
}

/** Parses every element of one array and rejects the first repeated id, naming both positions. */
function parseUnique<T>(
  raw: readonly unknown[],
  field: 'vms' | 'fw_rules',
  parse: (value: unknown, path: string) => T,
  idOf: (item: T) => string,
  idName: 'vm_id' | 'fw_id',
): T[] {
  const items = new Array<T>(raw.length);
  const seen = new Map<string, number>();
  for (let i = 0; i < raw.length; i++) {
    const item = parse(raw[i], `$.${field}[${i}]`);
    const id = idOf(item);
    const first = seen.get(id);
    if (first !== undefined) {
      throw new EnvironmentError(
        `$.${field}[${i}].${idName}: duplicate ${idName} ${JSON.stringify(id)} (first at $.${field}[${first}])`,
      );
    }
    seen.set(id, i);
    items[i] = item;
  }
  return items;
}

/** Validates an already-parsed document; throws EnvironmentError naming the first bad element. */
export function validateEnvironment(doc: unknown): CloudEnvironment {
  if (!isRecord(doc)) {
    throw new EnvironmentError(
      `$: expected an object with "vms" and "fw_rules", got ${describe(doc)}`,
    );
  }
  for (const field of ['vms', 'fw_rules'] as const) {
    if (!(field in doc)) throw new EnvironmentError(`$: missing required field "${field}"`);
    if (!Array.isArray(doc[field])) {
      throw new EnvironmentError(`$.${field}: expected an array, got ${describe(doc[field])}`);
    }
  }
  const vms = parseUnique(doc.vms as unknown[], 'vms', parseVm, (vm) => vm.vm_id, 'vm_id');
  const rules = parseUnique(
    doc.fw_rules as unknown[],
    'fw_rules',
    parseRule,
    (rule) => rule.fw_id,
    'fw_id',
  );
  return { vms, fw_rules: rules };
}

/** Parses and validates environment text; `source` names it in the error message. */
export function parseEnvironment(text: string, source: string): CloudEnvironment {
  // Editors on some systems save UTF-8 with a byte-order mark, which JSON.parse rejects.
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (error) {
    throw new EnvironmentError(`cloud environment ${source}: ${jsonSyntaxMessage(text, error)}`);
  }
  try {
    return validateEnvironment(doc);
  } catch (error) {
    if (error instanceof EnvironmentError) {
      throw new EnvironmentError(`cloud environment ${source}: ${error.message}`);
    }
    throw error;
  }
}

/** Reads, parses and validates an environment file. */
export function loadEnvironmentFile(path: string): CloudEnvironment {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT'
        ? 'no such file'
        : code === 'EISDIR'
          ? 'is a directory, not a file'
          : code === 'EACCES'
            ? 'permission denied'
            : (error as Error).message;
    throw new EnvironmentError(`cloud environment ${path}: cannot read file: ${why}`);
  }
  return parseEnvironment(text, path);
}
