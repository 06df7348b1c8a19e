import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { AttackIndex, type AttackMode } from '#src/cloud/attack-index.model.js';
import type { CloudEnvironment, FwId, FwRule, Vm, VmId } from '#src/cloud/environment.model.js';
import { parseEnvironment } from '#src/cloud/environment.loader.js';

const FIXTURES = new URL('../../../test/fixtures/cloud/', import.meta.url);

function env(vms: [string, string[]][], rules: [string, string][]): CloudEnvironment {
  return {
    vms: vms.map(([id, tags]): Vm => ({ vm_id: id as VmId, name: id, tags })),
    fw_rules: rules.map(([source, dest], i): FwRule => ({
      fw_id: `fw-${i}` as FwId,
      source_tag: source,
      dest_tag: dest,
    })),
  };
}

/** The contract read literally: quadratic, obviously right, used as the oracle. */
function naiveDirect(e: CloudEnvironment, target: string): string[] {
  const victim = e.vms.find((vm) => vm.vm_id === target);
  if (!victim) throw new Error('no such vm');
  const result = new Set<string>();
  for (const rule of e.fw_rules) {
    if (!victim.tags.includes(rule.dest_tag)) continue;
    for (const vm of e.vms) {
      if (vm.vm_id !== target && vm.tags.includes(rule.source_tag)) result.add(vm.vm_id);
    }
  }
  return [...result].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

function canHop(e: CloudEnvironment, from: Vm, to: Vm): FwId | undefined {
  return e.fw_rules.find((r) => from.tags.includes(r.source_tag) && to.tags.includes(r.dest_tag))
    ?.fw_id;
}

/** Breadth-first over VM pairs: every VM with a chain of hops into target. */
function naiveTransitive(e: CloudEnvironment, target: string): string[] {
  const reached = new Set<string>([target]);
  const queue = [target];
  while (queue.length > 0) {
    const id = queue.shift();
    const current = e.vms.find((vm) => vm.vm_id === id)!;
    for (const vm of e.vms) {
      if (!reached.has(vm.vm_id) && canHop(e, vm, current) !== undefined) {
        reached.add(vm.vm_id);
        queue.push(vm.vm_id);
      }
    }
  }
  reached.delete(target);
  return [...reached].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

function naiveDistance(e: CloudEnvironment, from: string, to: string): number | undefined {
  const dist = new Map<string, number>([[from, 0]]);
  const queue = [from];
  while (queue.length > 0) {
    const id = queue.shift()!;
    const current = e.vms.find((vm) => vm.vm_id === id)!;
    for (const vm of e.vms) {
      if (!dist.has(vm.vm_id) && canHop(e, current, vm) !== undefined) {
        dist.set(vm.vm_id, dist.get(id)! + 1);
        queue.push(vm.vm_id);
      }
    }
  }
  return dist.get(to);
}

function both(index: AttackIndex, vmId: string, mode: AttackMode): string[] {
  const ids = index.attackers(vmId, mode);
  const json = index.attackersJson(vmId, mode);
  assert.ok(ids !== undefined && json !== undefined);
  assert.deepEqual(
    JSON.parse(Buffer.concat(json).toString('utf8')),
    ids,
    'JSON bytes and id list agree',
  );
  return ids;
}

describe('attack index: the original contract', () => {
  it('answers every VM of every shared fixture exactly as expected.json says', () => {
    const expected = JSON.parse(readFileSync(new URL('expected.json', FIXTURES), 'utf8')) as Record<
      string,
      Record<string, string[]>
    >;
    let checked = 0;
    for (const [file, answers] of Object.entries(expected)) {
      const e = parseEnvironment(readFileSync(new URL(file, FIXTURES), 'utf8'), file);
      const index = new AttackIndex(e);
      assert.equal(
        Object.keys(answers).length,
        e.vms.length,
        `${file}: expected.json covers every VM`,
      );
      for (const [vmId, attackers] of Object.entries(answers)) {
        assert.deepEqual(both(index, vmId, 'direct'), attackers, `${file} ${vmId}`);
        checked++;
      }
    }
    assert.equal(checked, 28);
  });

  it('follows the spec example: ssh->dev lets the bastion reach the jira server, not itself', () => {
    const index = new AttackIndex(
      env(
        [
          ['jira', ['ci', 'dev']],
          ['bastion', ['ssh', 'dev']],
        ],
        [['ssh', 'dev']],
      ),
    );
    assert.deepEqual(both(index, 'jira', 'direct'), ['bastion']);
    assert.deepEqual(both(index, 'bastion', 'direct'), []);
  });

  it('grants nothing for a shared tag without a rule', () => {
    const index = new AttackIndex(
      env(
        [
          ['a', ['web']],
          ['b', ['web']],
        ],
        [],
      ),
    );
    assert.deepEqual(both(index, 'a', 'direct'), []);
  });

  it('lets a rule t->t connect every holder of t to every other, never to itself', () => {
    const index = new AttackIndex(
      env(
        [
          ['a', ['t']],
          ['b', ['t']],
          ['c', ['t', 'x']],
          ['d', ['x']],
        ],
        [['t', 't']],
      ),
    );
    assert.deepEqual(both(index, 'a', 'direct'), ['b', 'c']);
    assert.deepEqual(both(index, 'c', 'direct'), ['a', 'b']);
    assert.deepEqual(both(index, 'd', 'direct'), []);
  });

  it('handles VMs without tags as neither attackers nor targets', () => {
    const index = new AttackIndex(
      env(
        [
          ['a', []],
          ['b', ['s']],
          ['c', ['d']],
        ],
        [['s', 'd']],
      ),
    );
    assert.deepEqual(both(index, 'a', 'direct'), []);
    assert.deepEqual(both(index, 'c', 'direct'), ['b']);
  });

  it('ignores rules whose tags no VM carries', () => {
    const index = new AttackIndex(
      env(
        [
          ['a', ['s']],
          ['b', ['d']],
        ],
        [
          ['ghost', 'd'],
          ['s', 'ghost'],
          ['s', 'd'],
        ],
      ),
    );
    assert.deepEqual(both(index, 'b', 'direct'), ['a']);
    assert.equal(index.info.rule_count, 3);
  });

  it('counts a tag listed twice on one VM once', () => {
    const index = new AttackIndex(
      env(
        [
          ['a', ['s', 's']],
          ['b', ['d', 'd']],
        ],
        [['s', 'd']],
      ),
    );
    assert.deepEqual(both(index, 'b', 'direct'), ['a']);
  });

  it('lists an attacker once however many rules allow it', () => {
    const index = new AttackIndex(
      env(
        [
          ['a', ['s', 's2']],
          ['b', ['d', 'd2']],
        ],
        [
          ['s', 'd'],
          ['s', 'd'],
          ['s2', 'd'],
          ['s', 'd2'],
          ['s2', 'd2'],
        ],
      ),
    );
    assert.deepEqual(both(index, 'b', 'direct'), ['a']);
  });

  it('is not transitive in direct mode, and follows chains in transitive mode', () => {
    const index = new AttackIndex(
      env(
        [
          ['a', ['x']],
          ['b', ['y']],
          ['c', ['z']],
        ],
        [
          ['x', 'y'],
          ['y', 'z'],
        ],
      ),
    );
    assert.deepEqual(both(index, 'c', 'direct'), ['b']);
    assert.deepEqual(both(index, 'c', 'transitive'), ['a', 'b']);
    assert.deepEqual(index.path('a', 'c'), [
      { vm_id: 'a', fw_id: null },
      { vm_id: 'b', fw_id: 'fw-0' },
      { vm_id: 'c', fw_id: 'fw-1' },
    ]);
    assert.equal(index.path('c', 'a'), null);
  });

  it('sorts answers by UTF-16 code units, including non-ASCII ids', () => {
    const ids = ['vm-é', 'vm-Z', 'vm-a', 'vm-10', 'vm-9', 'vm-"quoted"'];
    const index = new AttackIndex(
      env([...ids.map((id): [string, string[]] => [id, ['s']]), ['target', ['d']]], [['s', 'd']]),
    );
    const sorted = [...ids].sort();
    assert.deepEqual(both(index, 'target', 'direct'), sorted);
  });

  it('answers unknown ids with undefined and an empty environment with nothing', () => {
    const index = new AttackIndex({ vms: [], fw_rules: [] });
    assert.equal(index.attackers('x', 'direct'), undefined);
    assert.equal(index.attackersJson('x', 'transitive'), undefined);
    assert.equal(index.path('x', 'y'), undefined);
  });

  it('shares one cached answer between VMs with the same attacker set, cutting each VM out', () => {
    const vms: [string, string[]][] = [];
    for (let i = 0; i < 100; i++) vms.push([`vm-${String(i).padStart(3, '0')}`, ['web']]);
    const index = new AttackIndex(env(vms, [['web', 'web']]));
    assert.equal(index.info.attacker_set_count, 1);
    for (const [id] of vms) {
      const answer = both(index, id, 'direct');
      assert.equal(answer.length, 99);
      assert.ok(!answer.includes(id));
    }
    const cache = index.cacheInfo();
    assert.equal(cache.misses, 1);
    assert.ok(cache.hits >= 99);
  });

  it('warms direct answers in slices so later queries are cache hits', () => {
    const vms: [string, string[]][] = [];
    for (let i = 0; i < 200; i++) vms.push([`vm-${String(i)}`, [`t${String(i % 20)}`]]);
    const rules: [string, string][] = [];
    for (let i = 0; i < 20; i++)
      rules.push(
        [`t${String(i)}`, `t${String((i * 7) % 20)}`],
        [`t${String(i)}`, `t${String((i + 1) % 20)}`],
      );
    const index = new AttackIndex(env(vms, rules));
    let clock = 0;
    // Each slice is allowed one tick of a fake clock, so warming takes several calls.
    let calls = 1;
    while (!index.warmUp(1, () => clock++)) calls++;
    assert.ok(calls > 1, 'warm-up is sliced');
    assert.equal(index.cacheInfo().warmed, true);
    assert.equal(index.cacheInfo().entries, index.info.attacker_set_count);
    for (const [id] of vms) both(index, id, 'direct');
    assert.equal(index.cacheInfo().misses, 0);
  });

  it('keeps answering correctly when the cache budget is smaller than one answer', () => {
    const vms: [string, string[]][] = [];
    for (let i = 0; i < 50; i++) vms.push([`vm-${i}`, ['web']]);
    const index = new AttackIndex(env(vms, [['web', 'web']]), { cacheBytes: 16 });
    assert.equal(both(index, 'vm-3', 'direct').length, 49);
    assert.equal(index.cacheInfo().entries, 0);
  });
});

const tagPool = ['a', 'b', 'c', 'd', 'e', 'f', 'g'];
const environments = fc
  .record({
    vmTags: fc.array(fc.array(fc.constantFrom(...tagPool), { maxLength: 4 }), {
      minLength: 1,
      maxLength: 24,
    }),
    rules: fc.array(
      fc.tuple(fc.constantFrom(...tagPool, 'ghost'), fc.constantFrom(...tagPool, 'ghost')),
      {
        maxLength: 14,
      },
    ),
    // Dense tags switch the index to bitsets above 32 VMs; big environments exercise that path.
    padding: fc.integer({ min: 0, max: 80 }),
  })
  .map(({ vmTags, rules, padding }) => {
    const vms: [string, string[]][] = vmTags.map((tags, i) => [
      `vm-${(i * 7919) % 1000}-${i}`,
      tags,
    ]);
    for (let i = 0; i < padding; i++) vms.push([`pad-${i}`, [tagPool[i % 3]!]]);
    return env(vms, rules);
  });

describe('attack index: property tests against a naive reference', () => {
  it('direct and transitive answers equal the naive reference for every VM', () => {
    fc.assert(
      fc.property(environments, (e) => {
        const index = new AttackIndex(e, { cacheBytes: 4096 });
        for (const vm of e.vms) {
          assert.deepEqual(both(index, vm.vm_id, 'direct'), naiveDirect(e, vm.vm_id));
          assert.deepEqual(both(index, vm.vm_id, 'transitive'), naiveTransitive(e, vm.vm_id));
        }
      }),
      { numRuns: 150 },
    );
  });

  it('paths are valid hop chains of the shortest length, and exist exactly when reachable', () => {
    fc.assert(
      fc.property(environments, fc.nat(), fc.nat(), (e, i, j) => {
        const from = e.vms[i % e.vms.length]!;
        const to = e.vms[j % e.vms.length]!;
        const path = new AttackIndex(e).path(from.vm_id, to.vm_id);
        const distance = naiveDistance(e, from.vm_id, to.vm_id);
        if (distance === undefined) {
          assert.equal(path, null);
          return;
        }
        assert.ok(path);
        assert.equal(path.length - 1, distance);
        const [first] = path;
        assert.ok(first);
        assert.deepEqual(first, { vm_id: from.vm_id, fw_id: null });
        assert.equal(path.at(-1)!.vm_id, to.vm_id);
        for (let k = 1; k < path.length; k++) {
          const a = e.vms.find((vm) => vm.vm_id === path[k - 1]!.vm_id)!;
          const b = e.vms.find((vm) => vm.vm_id === path[k]!.vm_id)!;
          const rule = e.fw_rules.find((r) => r.fw_id === path[k]!.fw_id);
          assert.ok(rule, 'each hop names a real rule');
          assert.ok(
            a.tags.includes(rule.source_tag) && b.tags.includes(rule.dest_tag),
            'the rule allows the hop',
          );
        }
      }),
      { numRuns: 300 },
    );
  });
});
