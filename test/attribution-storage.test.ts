/** Facts and attributions on every engine: SQLite, and PostgreSQL when configured. */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { connectDatabase, type Db } from '#src/storage/database.js';
import { migrate } from '#src/storage/migrations.js';
import { AssetRepository } from '#src/assets/assets.repository.js';
import { toFact, type Fact, type FactInput } from '#src/attribution/facts.model.js';
import { FactRepository } from '#src/attribution/facts.repository.js';
import { AttributionRepository } from '#src/attribution/attribution.repository.js';
import { engines, type ScratchDatabase } from './helpers/databases.js';

const T = 1_790_000_000_000;

function fact(input: FactInput, seenAt: number): Fact {
  const f = toFact({ ...input, seen_at: seenAt }, T, 'test');
  if (typeof f === 'string') assert.fail(f);
  return f;
}

const A: FactInput = { kind: 'dns', subject: 'a.example', value: { type: 'A', data: '192.0.2.1' } };
const B: FactInput = {
  kind: 'registration',
  subject: 'b.example',
  value: { registrant_org: 'Example Corp' },
};
const NET: FactInput = {
  kind: 'registration',
  subject: '192.0.2.0/24',
  value: { registrant_org: 'Example Corp' },
};
const PREFIX: FactInput = { kind: 'prefix', subject: '198.51.100.0/24', value: { asn: 64500 } };

for (const engine of engines()) {
  describe(`attribution storage on ${engine.name}`, () => {
    let scratch: ScratchDatabase;
    let db: Db;
    beforeEach(async () => {
      scratch = await engine.create();
      db = await connectDatabase(scratch.url);
      await migrate(db);
    });
    afterEach(async () => {
      await db.close();
      await scratch.drop();
    });

    it('re-importing a fact only widens its seen window', async () => {
      const facts = new FactRepository(db);
      const first = await facts.importFacts([fact(A, T), fact(B, T)]);
      assert.deepEqual(first, { received: 2, added: 2, updated: 0 });
      const again = await facts.importFacts([
        fact(A, T + 1000),
        fact(A, T - 5000),
        fact(PREFIX, T),
      ]);
      assert.deepEqual(again, { received: 3, added: 1, updated: 1 });
      assert.equal(await facts.count(), 3);
      const stored = (await facts.inRange('a.example', 'b.example'))[0];
      assert.ok(stored !== undefined);
      assert.equal(stored.subject, 'a.example');
      assert.equal(stored.firstSeen, T - 5000);
      assert.equal(stored.seenAt, T + 1000);
      assert.deepEqual(stored.kind === 'dns' && stored.value, { type: 'A', data: '192.0.2.1' });
    });

    it('splits facts into batches by subject and finds the network facts', async () => {
      const facts = new FactRepository(db);
      await facts.importFacts([fact(A, T), fact(B, T), fact(NET, T), fact(PREFIX, T)]);
      const bounds = await facts.batchBounds(2);
      assert.equal(bounds.length, 2);
      let total = 0;
      for (let i = 0; i < bounds.length; i++) {
        total += (await facts.inRange(bounds[i]!, bounds[i + 1] ?? null)).length;
      }
      assert.equal(total, 4);
      const network = await facts.networkFacts();
      assert.deepEqual(network.map((f) => f.subject).sort(), ['192.0.2.0/24', '198.51.100.0/24']);
    });

    it('keeps an analyst confirmation when the decision is made again', async () => {
      const assets = new AssetRepository(db);
      const org = await assets.createOrganization(
        'Example Corp',
        { domains: ['example.com'], cidrs: [], asns: [], names: [] },
        T,
      );
      const [assetId] = await assets.upsertAssets([
        { kind: 'domain', key: 'b.example', seenAt: T },
      ]);
      const repo = new AttributionRepository(db);
      const decision = {
        assetId: assetId!,
        orgId: org.id,
        score: 0.42,
        decision: 'candidate' as const,
        reasons: [{ type: 'registrant_org' }],
        modelVersion: 'lr-test',
        decidedAt: T,
      };
      await repo.save([decision]);
      assert.equal(
        await repo.confirm(assetId!, org.id, 'owned', 'analyst@example.com', T + 1),
        true,
      );
      assert.equal(await repo.confirm('nope', org.id, 'owned', 'x', T), false);
      await repo.save([{ ...decision, score: 0.9, decision: 'owned' }]);
      const stored = await repo.get(assetId!, org.id);
      assert.ok(stored !== undefined);
      assert.equal(stored.score, 0.9);
      assert.equal(stored.decision, 'owned');
      assert.equal(stored.confirmation, 'owned');
      assert.equal(stored.confirmed_by, 'analyst@example.com');
      assert.equal(stored.asset_key, 'b.example');
      assert.deepEqual(stored.reasons, [{ type: 'registrant_org' }]);
      assert.deepEqual(await repo.labels(), [{ asset: 'b.example', org_id: org.id, owned: true }]);
      assert.equal((await repo.list({ orgId: org.id, decision: 'owned', limit: 10 })).length, 1);
    });
  });
}
