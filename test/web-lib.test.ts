/**
 * The web UI's non-trivial logic, run under node:test: the Issues page's URL state and API
 * query, and the attack graph model behind the Cloud page's graph (grouping past the limit,
 * path highlighting). The widgets around them are exercised in Chromium by test/e2e-*.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  DEFAULT_QUERY,
  exportPath,
  filterParams,
  listPath,
  nextSort,
  parseIssueQuery,
  toPageParams,
  toggleValue,
} from '../web/src/lib/issue-query.js';
import { buildAttackGraph, firstTagGroups } from '../web/src/lib/attack-graph.js';
import { formatAge, label } from '../web/src/lib/format.js';

describe('issue query in the URL', () => {
  it('reads comma lists and repeated parameters, dropping unknown values', () => {
    const query = parseIssueQuery(
      new URLSearchParams(
        'priority=critical,bogus&priority=high&status=active&progress=in_progress,new&q=%20telnet%20&sort=name&order=asc',
      ),
    );
    assert.deepEqual(query.priority, ['critical', 'high']);
    assert.deepEqual(query.status, ['active']);
    assert.deepEqual(query.progress, ['in_progress', 'new']);
    assert.equal(query.q, 'telnet');
    assert.equal(query.sort, 'name');
    assert.equal(query.order, 'asc');
  });

  it('falls back to the default order for an unknown sort column or order', () => {
    const query = parseIssueQuery(new URLSearchParams('sort=drop_table&order=sideways'));
    assert.equal(query.sort, DEFAULT_QUERY.sort);
    assert.equal(query.order, DEFAULT_QUERY.order);
  });

  it('round-trips through the URL and leaves defaults out of shared links', () => {
    assert.equal(filterParams(DEFAULT_QUERY).toString(), '');
    const query = { ...DEFAULT_QUERY, priority: ['high'], provider: ['AWS', 'GCP'], q: 'ssh' };
    const params = filterParams(query);
    assert.equal(params.toString(), 'priority=high&provider=AWS%2CGCP&q=ssh');
    assert.deepEqual(parseIssueQuery(params), query);
  });

  it('keeps unrelated page parameters such as the open drawer', () => {
    const next = toPageParams(
      { ...DEFAULT_QUERY, status: ['inactive'] },
      new URLSearchParams('issue=42&status=active'),
    );
    assert.equal(next.toString(), 'status=inactive&issue=42');
  });

  it('asks the API for a page with sort, order, limit and the cursor', () => {
    const path = listPath({ ...DEFAULT_QUERY, priority: ['critical'] }, 200, 'abc=');
    const url = new URL(path, 'http://x');
    assert.equal(url.pathname, '/api/v1/issues');
    assert.equal(url.searchParams.get('priority'), 'critical');
    assert.equal(url.searchParams.get('sort'), 'priority');
    assert.equal(url.searchParams.get('order'), 'desc');
    assert.equal(url.searchParams.get('limit'), '200');
    assert.equal(url.searchParams.get('cursor'), 'abc=');
    assert.equal(
      new URL(listPath(DEFAULT_QUERY, 50, null), 'http://x').searchParams.has('cursor'),
      false,
    );
  });

  it('exports what the filters select', () => {
    assert.equal(
      exportPath({ ...DEFAULT_QUERY, status: ['active'] }, 'csv'),
      '/api/v1/issues/export?status=active&format=csv',
    );
  });

  it('sorts a new column descending (names ascending) and flips the same column', () => {
    assert.deepEqual(nextSort(DEFAULT_QUERY, 'last_observed'), {
      sort: 'last_observed',
      order: 'desc',
    });
    assert.deepEqual(nextSort(DEFAULT_QUERY, 'name'), { sort: 'name', order: 'asc' });
    assert.deepEqual(nextSort(DEFAULT_QUERY, 'priority'), { sort: 'priority', order: 'asc' });
  });

  it('toggles one value of a multi-valued filter', () => {
    assert.deepEqual(toggleValue(['a', 'b'], 'a'), ['b']);
    assert.deepEqual(toggleValue(['b'], 'a'), ['b', 'a']);
  });
});

describe('attack graph model', () => {
  const path = [
    { vm_id: 'c', fw_id: null },
    { vm_id: 'a', fw_id: 'fw-2' },
    { vm_id: 't', fw_id: 'fw-1' },
  ];

  it('draws the target, direct and transitive attackers, and highlights each hop of the path', () => {
    const graph = buildAttackGraph({
      target: 't',
      direct: ['a', 'b'],
      transitive: ['a', 'b', 'c', 't'],
      path,
      limit: 100,
    });
    const nodes = graph.elements.filter((e) => e.group === 'nodes');
    assert.deepEqual(
      nodes.map((n) => [n.data.id, n.data.kind, n.data.onPath]),
      [
        ['vm:t', 'target', 1],
        ['vm:a', 'direct', 1],
        ['vm:b', 'direct', 0],
        ['vm:c', 'transitive', 1],
      ],
    );
    const onPathEdges = graph.elements.filter((e) => e.group === 'edges' && e.data.onPath === 1);
    assert.deepEqual(onPathEdges.map((e) => [e.data.source, e.data.target, e.data.label]).sort(), [
      ['vm:a', 'vm:t', 'fw-1'],
      ['vm:c', 'vm:a', 'fw-2'],
    ]);
    // b's rule edge into the target is drawn, not highlighted; a's is replaced by the path hop.
    assert.equal(graph.elements.filter((e) => e.group === 'edges').length, 3);
    assert.equal(graph.grouped, 0);
  });

  it('groups attackers off the path past the limit, by tag group when known', () => {
    const many = Array.from({ length: 50 }, (_, i) => `v${String(i).padStart(2, '0')}`);
    const graph = buildAttackGraph({
      target: 't',
      direct: many.slice(0, 10),
      transitive: [...many, 'c', 'a'],
      path,
      limit: 20,
      groupOf: (vm) => (Number(vm.slice(1)) % 2 === 0 ? 'tag even' : 'tag odd'),
    });
    const nodes = graph.elements.filter((e) => e.group === 'nodes');
    const groups = nodes.filter((n) => n.data.kind === 'group');
    // Direct and transitive rings are grouped separately, each by tag.
    assert.deepEqual(groups.map((g) => g.data.label).sort(), [
      'tag even (20)',
      'tag even (5)',
      'tag odd (20)',
      'tag odd (5)',
    ]);
    assert.equal(graph.grouped, 50);
    // Path VMs stay individual so the path is still drawn hop by hop.
    assert.ok(nodes.some((n) => n.data.id === 'vm:c' && n.data.onPath === 1));
    assert.equal(
      graph.elements.filter((e) => e.group === 'edges' && e.data.onPath === 1).length,
      2,
    );
    // One merged edge per direct group into the target.
    const intoTarget = graph.elements.filter(
      (e) => e.group === 'edges' && e.data.target === 'vm:t' && e.data.onPath === 0,
    );
    assert.equal(intoTarget.length, 2);
  });

  it('reads the first tag of each VM of a document, untagged when none', () => {
    const groups = firstTagGroups({
      vms: [
        { vm_id: 'x', tags: ['web', 'ssh'] },
        { vm_id: 'y', tags: [] },
      ],
    });
    assert.equal(groups.get('x'), 'tag ssh');
    assert.equal(groups.get('y'), 'untagged');
    assert.equal(firstTagGroups(null).size, 0);
  });
});

describe('formatting', () => {
  it('shows enum values as labels and ages in the largest sensible unit', () => {
    assert.equal(label('acceptable_risk'), 'Acceptable Risk');
    assert.equal(formatAge(850), '850 ms');
    assert.equal(formatAge(12_400), '12 s');
    assert.equal(formatAge(3 * 3600_000), '3 h');
  });
});
