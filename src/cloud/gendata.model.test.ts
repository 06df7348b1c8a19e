import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  environmentJsonChunks,
  environmentToJson,
  generateEnvironment,
  type GenOptions,
} from '#src/cloud/gendata.model.js';
import { parseEnvironment } from '#src/cloud/environment.loader.js';
import type { CloudEnvironment } from '#src/cloud/environment.model.js';
import { gendataCommand } from '#src/cli/gendata.command.js';
import { CommanderError } from 'commander';

const SMALL: GenOptions = { vms: 500, tags: 60, rules: 400, seed: 3 };

function tagCounts(env: CloudEnvironment): Map<string, number> {
  const counts = new Map<string, number>();
  for (const vm of env.vms) for (const tag of vm.tags) counts.set(tag, (counts.get(tag) ?? 0) + 1);
  return counts;
}

/** Attacker counts of every `step`-th VM, straight from the definition (no index). */
function attackerCounts(env: CloudEnvironment, step: number): number[] {
  const carriers = new Map<string, number[]>();
  env.vms.forEach((vm, i) => {
    for (const tag of vm.tags) {
      const list = carriers.get(tag) ?? [];
      list.push(i);
      carriers.set(tag, list);
    }
  });
  const sourcesOf = new Map<string, Set<string>>();
  for (const rule of env.fw_rules) {
    const sources = sourcesOf.get(rule.dest_tag) ?? new Set<string>();
    sources.add(rule.source_tag);
    sourcesOf.set(rule.dest_tag, sources);
  }
  const counts: number[] = [];
  for (let target = 0; target < env.vms.length; target += step) {
    const attackers = new Set<number>();
    for (const tag of env.vms[target]!.tags)
      for (const source of sourcesOf.get(tag) ?? [])
        for (const vm of carriers.get(source) ?? []) if (vm !== target) attackers.add(vm);
    counts.push(attackers.size);
  }
  return counts.sort((a, b) => a - b);
}

describe('generateEnvironment', () => {
  it('gives byte-identical JSON for the same options', () => {
    assert.equal(
      environmentToJson(generateEnvironment(SMALL)),
      environmentToJson(generateEnvironment({ ...SMALL })),
    );
  });

  it('gives another environment for another seed, even a neighbouring one', () => {
    const base = environmentToJson(generateEnvironment(SMALL));
    for (const seed of [4, -3, 0x7fffffff]) {
      assert.notEqual(environmentToJson(generateEnvironment({ ...SMALL, seed })), base, `${seed}`);
    }
  });

  it('makes exactly the requested numbers of VMs and rules', () => {
    for (const options of [
      { vms: 0, tags: 1, rules: 0, seed: 1 },
      { vms: 1, tags: 1, rules: 1, seed: 1 },
      { vms: 7, tags: 1, rules: 0, seed: 9 },
      { vms: 0, tags: 5, rules: 13, seed: 9 },
      { vms: 2345, tags: 300, rules: 1234, seed: 5 },
    ]) {
      const env = generateEnvironment(options);
      assert.equal(env.vms.length, options.vms, JSON.stringify(options));
      assert.equal(env.fw_rules.length, options.rules, JSON.stringify(options));
    }
  });

  it('writes a document the loader accepts, with well-formed, unique ids', () => {
    const env = generateEnvironment({ vms: 5000, tags: 400, rules: 3000, seed: 11 });
    const parsed = parseEnvironment(environmentToJson(env), 'generated');
    assert.deepEqual(parsed, env);
    assert.equal(new Set(env.vms.map((vm) => vm.vm_id)).size, env.vms.length);
    assert.equal(new Set(env.fw_rules.map((rule) => rule.fw_id)).size, env.fw_rules.length);
    for (const vm of env.vms) {
      assert.match(vm.vm_id, /^vm-[0-9a-f]{8,10}$/);
      assert.ok(vm.name.length > 0);
      assert.ok(vm.tags.length <= 6, vm.vm_id);
      assert.equal(new Set(vm.tags).size, vm.tags.length, `${vm.vm_id} has a tag twice`);
    }
    for (const rule of env.fw_rules) {
      assert.match(rule.fw_id, /^fw-[0-9a-f]+$/);
      assert.ok(rule.source_tag.length > 0 && rule.dest_tag.length > 0);
    }
  });

  it('uses only the requested number of tags on VMs, down to a single tag', () => {
    const env = generateEnvironment({ vms: 300, tags: 1, rules: 10, seed: 2 });
    for (const vm of env.vms) assert.ok(vm.tags.length <= 1);
    assert.ok(tagCounts(generateEnvironment(SMALL)).size <= SMALL.tags);
  });

  it('is skewed: the top tag is on more than 10% of VMs, rare tags exist, ~2% have no tag', () => {
    const env = generateEnvironment({ vms: 10_000, tags: 1000, rules: 1000, seed: 7 });
    const counts = [...tagCounts(env).values()].sort((a, b) => b - a);
    assert.ok(counts[0]! > 1000, `top tag on ${String(counts[0])} VMs`);
    assert.ok(counts.filter((n) => n <= 10).length > 300, 'hundreds of tags on at most 10 VMs');
    const untagged = env.vms.filter((vm) => vm.tags.length === 0).length;
    assert.ok(untagged > 100 && untagged < 400, `${String(untagged)} untagged`);
    const perVm = new Set(env.vms.map((vm) => vm.tags.length));
    assert.deepEqual([...perVm].sort(), [0, 1, 2, 3, 4, 5, 6]);
  });

  it('names rare tags in rules too, and has the untidy rules real estates have', () => {
    const env = generateEnvironment({ vms: 10_000, tags: 1000, rules: 1000, seed: 7 });
    const counts = tagCounts(env);
    const ruleTags = env.fw_rules.flatMap((rule) => [rule.source_tag, rule.dest_tag]);
    const rare = ruleTags.filter((tag) => (counts.get(tag) ?? 0) < 10).length;
    assert.ok(rare > ruleTags.length / 4, `${String(rare)} rule ends name rare tags`);
    assert.ok(
      ruleTags.some((tag) => !counts.has(tag)),
      'a tag no VM carries',
    );
    assert.ok(
      env.fw_rules.some((rule) => rule.source_tag === rule.dest_tag),
      'a t -> t rule',
    );
    const pairs = new Set(env.fw_rules.map((rule) => `${rule.source_tag}\n${rule.dest_tag}`));
    assert.ok(pairs.size < env.fw_rules.length, 'a (source, dest) pair under two fw_ids');
  });

  it('makes most VMs of a large environment attacked by a large share of the estate', () => {
    // The 100k / 1,000 tags / 10,000 rules benchmark case, scaled down 5x to stay fast.
    const env = generateEnvironment({ vms: 20_000, tags: 1000, rules: 2000, seed: 7 });
    const counts = attackerCounts(env, 50);
    const median = counts[counts.length >> 1]!;
    assert.ok(median > 2000, `median VM attacked by ${String(median)}`);
  });

  it('rejects counts it cannot honour', () => {
    assert.throws(() => generateEnvironment({ ...SMALL, vms: -1 }), RangeError);
    assert.throws(() => generateEnvironment({ ...SMALL, tags: 0 }), RangeError);
    assert.throws(() => generateEnvironment({ ...SMALL, rules: 1.5 }), RangeError);
  });
});

describe('environmentJsonChunks', () => {
  it('streams exactly the bytes of environmentToJson, in bounded chunks', () => {
    const options = { vms: 3000, tags: 200, rules: 900, seed: 11 };
    const chunks = [...environmentJsonChunks(options, 4096)];
    assert.ok(chunks.length > 10);
    for (const chunk of chunks) assert.ok(chunk.length < 4096 + 200, String(chunk.length));
    assert.equal(chunks.join(''), environmentToJson(generateEnvironment(options)));
  });

  it('writes empty lists as valid JSON', () => {
    const text = [...environmentJsonChunks({ vms: 0, tags: 1, rules: 0, seed: 1 })].join('');
    assert.deepEqual(JSON.parse(text), { vms: [], fw_rules: [] });
  });
});

describe('gendata command', () => {
  /** Runs the command in-process; commander errors come back as CommanderError. */
  async function run(args: string[]): Promise<{ out: string; err: string }> {
    let out = '';
    let err = '';
    const command = gendataCommand((text) => (out += text))
      .exitOverride()
      .configureOutput({ writeOut: (text) => (out += text), writeErr: (text) => (err += text) });
    await command.parseAsync(args, { from: 'user' });
    return { out, err };
  }

  it('writes the generated document to its output, with the documented defaults', async () => {
    const { out } = await run([]);
    assert.equal(
      out,
      environmentToJson(generateEnvironment({ vms: 1000, tags: 100, rules: 300, seed: 1 })),
    );
    const small = await run(['--vms', '20', '--tags', '5', '--rules', '7', '--seed', '-42']);
    assert.equal(
      small.out,
      environmentToJson(generateEnvironment({ vms: 20, tags: 5, rules: 7, seed: -42 })),
    );
  });

  it('rejects non-integers and out-of-range values as commander argument errors', async () => {
    for (const args of [
      ['--vms', '-1'],
      ['--vms', '2000001'],
      ['--vms', '1.5'],
      ['--vms', '1e3'],
      ['--vms', '0x10'],
      ['--vms', ''],
      ['--tags', '0'],
      ['--tags', '1000001'],
      ['--rules', '10000001'],
      ['--seed', '4294967296'],
      ['--seed', '-2147483649'],
      ['--seed', 'abc'],
    ]) {
      await assert.rejects(
        run(args),
        (error: unknown) =>
          error instanceof CommanderError && error.code === 'commander.invalidArgument',
        args.join(' '),
      );
    }
  });

  it('accepts the bounds of every range', async () => {
    for (const args of [
      ['--vms', '0', '--rules', '0'],
      ['--tags', '1', '--vms', '3'],
      ['--seed', '4294967295', '--vms', '1'],
      ['--seed', '-2147483648', '--vms', '1'],
    ]) {
      const { out } = await run(args);
      assert.ok(JSON.parse(out), args.join(' '));
    }
  });
});
