import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { environmentToJson, generateEnvironment } from '#src/cloud/gendata.model.js';
import { parseEnvironment } from '#src/cloud/environment.loader.js';
import { AttackIndex } from '#src/cloud/attack-index.model.js';

describe('gendata', () => {
  it('writes a valid environment with exactly the requested counts and unique ids', () => {
    const env = generateEnvironment({ vms: 3000, tags: 200, rules: 900, seed: 11 });
    const parsed = parseEnvironment(environmentToJson(env), 'generated');
    assert.equal(parsed.vms.length, 3000);
    assert.equal(parsed.fw_rules.length, 900);
    assert.equal(new Set(parsed.vms.map((vm) => vm.vm_id)).size, 3000);
    for (const vm of parsed.vms)
      assert.equal(new Set(vm.tags).size, vm.tags.length, 'no tag twice on a VM');
  });

  it('is skewed: the most common tag is on more than 10% of VMs, and some VMs have no tag', () => {
    const env = generateEnvironment({ vms: 10_000, tags: 1000, rules: 1000, seed: 7 });
    const counts = new Map<string, number>();
    for (const vm of env.vms)
      for (const tag of vm.tags) counts.set(tag, (counts.get(tag) ?? 0) + 1);
    const top = Math.max(...counts.values());
    assert.ok(top > 1000, `top tag on ${String(top)} VMs`);
    const untagged = env.vms.filter((vm) => vm.tags.length === 0).length;
    assert.ok(untagged > 50 && untagged < 500, `${String(untagged)} untagged`);
  });

  it('makes most VMs of a large environment attacked by thousands', () => {
    const env = generateEnvironment({ vms: 20_000, tags: 1000, rules: 2000, seed: 7 });
    const index = new AttackIndex(env);
    const sizes = index
      .vmIds()
      .filter((_, i) => i % 100 === 0)
      .map((id) => index.attackers(id, 'direct')?.length ?? 0)
      .sort((a, b) => a - b);
    const median = sizes[sizes.length >> 1] ?? 0;
    assert.ok(median > 2000, `median ${String(median)}`);
  });
});
