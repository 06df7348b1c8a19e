import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { daySeries, foldTop } from '#src/discovery/inventory-summary.model.js';

describe('inventory summary folding', () => {
  it('keeps the largest groups, ties by name, and folds the rest into other', () => {
    const counts = new Map([
      ['b', 2],
      ['a', 2],
      ['c', 5],
      ['d', 1],
      ['e', 1],
      ['zero', 0],
    ]);
    assert.deepEqual(foldTop(counts, 3), {
      items: [
        { name: 'c', count: 5 },
        { name: 'a', count: 2 },
        { name: 'b', count: 2 },
      ],
      other: { count: 2, names: 2 },
    });
    assert.deepEqual(foldTop(counts, 10).other, { count: 0, names: 0 });
    assert.deepEqual(foldTop(new Map(), 10), { items: [], other: { count: 0, names: 0 } });
  });

  it('lists every day of the window oldest first, empty days as 0', () => {
    const today = Date.UTC(2026, 10, 24) / 86_400_000;
    const series = daySeries(
      new Map([
        [today, 3],
        [today - 2, 1],
        [today - 9, 7],
      ]),
      today,
      3,
    );
    assert.deepEqual(series, [
      { day: '2026-11-22', count: 1 },
      { day: '2026-11-23', count: 0 },
      { day: '2026-11-24', count: 3 },
    ]);
  });
});
