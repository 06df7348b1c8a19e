import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { canonicalIp, formatIp, parseCidr, parseIp } from '#src/discovery/ip.model.js';
import { formatPorts, parsePorts, PortSpecError } from '#src/discovery/ports.model.js';
import { Permutation } from '#src/discovery/permutation.model.js';
import {
  expandTargets,
  OutOfScopeError,
  Scope,
  TargetSpecError,
} from '#src/discovery/scope.model.js';

const noDns = (): Promise<string[]> => Promise.reject(new Error('no DNS in this test'));

describe('IP addresses', () => {
  it('formats IPv6 the RFC 5952 way and round-trips every address', () => {
    assert.equal(canonicalIp('2001:0DB8:0:0:0:0:0:1'), '2001:db8::1');
    assert.equal(canonicalIp('::ffff:1.2.3.4'), '::ffff:102:304');
    assert.equal(canonicalIp('2001:db8:0:1:0:0:0:1'), '2001:db8:0:1::1');
    assert.equal(canonicalIp('1:0:0:1:0:0:0:1'), '1:0:0:1::1');
    assert.equal(canonicalIp('300.1.1.1'), undefined);
    fc.assert(
      fc.property(fc.ipV6(), (text) => {
        const ip = parseIp(text)!;
        assert.deepEqual(parseIp(formatIp(ip)), ip);
      }),
    );
    fc.assert(
      fc.property(fc.ipV4(), (text) => {
        assert.equal(canonicalIp(text), text);
      }),
    );
  });

  it('accepts CIDR blocks only with their host bits zero', () => {
    assert.ok(parseCidr('10.0.0.0/8'));
    assert.equal(parseCidr('10.0.0.1/8'), undefined);
    assert.equal(parseCidr('10.0.0.0/33'), undefined);
    assert.equal(parseCidr('10.0.0.0/x'), undefined);
    assert.equal(parseCidr('::1/128')?.prefix, 128);
  });
});

describe('port lists', () => {
  it('parses singles, ranges, open-ended ranges, top-N and all', () => {
    assert.deepEqual(parsePorts('80,22,80'), [22, 80]);
    assert.deepEqual(parsePorts('1-3, 5'), [1, 2, 3, 5]);
    assert.equal(parsePorts('-').length, 65535);
    assert.equal(parsePorts('65530-').length, 6);
    assert.equal(parsePorts('top-10').length, 10);
    assert.ok(parsePorts('top-10').includes(22));
    assert.equal(formatPorts(parsePorts('1-3,5,7-8')), '1-3,5,7-8');
  });

  it('names the bad part of a bad list', () => {
    for (const [spec, message] of [
      ['0', /outside/],
      ['70000', /outside/],
      ['5-1', /backwards/],
      ['ssh', /not a port/],
      ['top-0', /top-N/],
      ['', /empty/],
    ] as const) {
      assert.throws(
        () => parsePorts(spec),
        (e: unknown) => e instanceof PortSpecError && message.test(e.message),
      );
    }
  });
});

describe('probe order', () => {
  it('is a permutation of 0..n-1 for any size and key', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 5000 }), fc.integer(), (n, seed) => {
        const p = new Permutation(n, seed);
        const seen = new Uint8Array(n);
        for (let i = 0; i < n; i++) {
          const x = p.at(i);
          assert.ok(x >= 0 && x < n);
          assert.equal(seen[x], 0);
          seen[x] = 1;
        }
      }),
      { numRuns: 50 },
    );
  });

  it('spreads sequential positions over the space (no long runs of neighbours)', () => {
    const p = new Permutation(65535, 42);
    let adjacent = 0;
    for (let i = 1; i < 65535; i++) if (Math.abs(p.at(i) - p.at(i - 1)) === 1) adjacent++;
    assert.ok(adjacent < 100, `${String(adjacent)} adjacent pairs`);
  });
});

describe('scope', () => {
  const loopback = new Scope({ domains: ['example.com'], cidrs: ['127.0.0.0/8', '0.0.0.0/0'] });
  const internet = new Scope({ domains: [], cidrs: ['0.0.0.0/0'], excludes: ['8.8.8.0/24'] });

  it('lets a seed inside a special range open it, but not a wider seed', async () => {
    assert.deepEqual(await expandTargets(['127.0.0.1'], loopback, noDns, { maxHosts: 10 }), {
      hosts: ['127.0.0.1'],
      names: {},
    });
    await assert.rejects(
      expandTargets(['10.0.0.1'], loopback, noDns, { maxHosts: 10 }),
      (e: unknown) => e instanceof OutOfScopeError && /private/.test(e.message),
    );
    await assert.rejects(
      expandTargets(['127.0.0.1'], internet, noDns, { maxHosts: 10 }),
      (e: unknown) => e instanceof OutOfScopeError && /loopback/.test(e.message),
    );
    await assert.rejects(
      expandTargets(['169.254.169.254'], internet, noDns, { maxHosts: 10 }),
      (e: unknown) => e instanceof OutOfScopeError && /link-local/.test(e.message),
    );
  });

  it('lets exclusions win over inclusions', async () => {
    await assert.rejects(
      expandTargets(['8.8.8.8'], internet, noDns, { maxHosts: 10 }),
      (e: unknown) => e instanceof OutOfScopeError && /excluded/.test(e.message),
    );
    assert.deepEqual(await expandTargets(['8.8.4.4'], internet, noDns, { maxHosts: 10 }), {
      hosts: ['8.8.4.4'],
      names: {},
    });
  });

  it('refuses the whole list when one address of a block is out of scope', async () => {
    await assert.rejects(
      expandTargets(['8.8.8.0/23'], internet, noDns, { maxHosts: 1000 }),
      (e: unknown) => e instanceof OutOfScopeError && /251 more/.test(e.message),
    );
  });

  it('takes host names only under seed domains, and checks what they resolve to', async () => {
    const dns = (name: string): Promise<string[]> =>
      Promise.resolve(name === 'www.example.com' ? ['127.0.0.2'] : ['10.9.9.9']);
    assert.deepEqual(await expandTargets(['www.example.com'], loopback, dns, { maxHosts: 10 }), {
      hosts: ['127.0.0.2'],
      names: { '127.0.0.2': ['www.example.com'] },
    });
    await assert.rejects(
      expandTargets(['intranet.example.com'], loopback, dns, { maxHosts: 10 }),
      (e: unknown) => e instanceof OutOfScopeError && /resolves into the private/.test(e.message),
    );
    await assert.rejects(
      expandTargets(['example.org'], loopback, dns, { maxHosts: 10 }),
      (e: unknown) => e instanceof OutOfScopeError,
    );
  });

  it('refuses malformed targets and oversized blocks before any lookup', async () => {
    for (const bad of ['127.0.0.1/8', 'a b', '1.2.3', '-x.com']) {
      await assert.rejects(
        expandTargets([bad], loopback, noDns, { maxHosts: 10 }),
        TargetSpecError,
        bad,
      );
    }
    await assert.rejects(
      expandTargets(['127.0.0.0/24'], loopback, noDns, { maxHosts: 100 }),
      (e: unknown) => e instanceof TargetSpecError && /256 addresses/.test(e.message),
    );
  });

  describe('host names each address came from', () => {
    const zone: Record<string, string[]> = {
      'a.example.com': ['127.0.0.1'],
      'b.example.com': ['127.0.0.1', '127.0.0.3'],
      'c.example.com': ['127.0.0.3'],
      'split.example.com': ['127.0.0.4', '10.1.1.1'],
    };
    const dns = (name: string): Promise<string[]> =>
      zone[name] === undefined
        ? Promise.reject(new Error('NXDOMAIN'))
        : Promise.resolve(zone[name]);

    it('maps each resolved address to its names, in target order, each once', async () => {
      const expanded = await expandTargets(
        ['b.example.com', '127.0.0.2', 'A.Example.com.', 'a.example.com', 'c.example.com'],
        loopback,
        dns,
        { maxHosts: 10 },
      );
      assert.deepEqual(expanded.hosts, ['127.0.0.1', '127.0.0.3', '127.0.0.2']);
      assert.deepEqual(expanded.names, {
        '127.0.0.1': ['b.example.com', 'a.example.com'],
        '127.0.0.3': ['b.example.com', 'c.example.com'],
      });
    });

    it('keeps an address given both ways under its names, and a literal one without', async () => {
      const expanded = await expandTargets(
        ['127.0.0.1', 'a.example.com', '127.0.0.8/31'],
        loopback,
        dns,
        {
          maxHosts: 10,
        },
      );
      assert.deepEqual(expanded, {
        hosts: ['127.0.0.1', '127.0.0.8', '127.0.0.9'],
        names: { '127.0.0.1': ['a.example.com'] },
      });
    });

    it('refuses more names per address than the cap, naming the address', async () => {
      const many = Array.from({ length: 4 }, (_, i) => `n${String(i)}.example.com`);
      const one = (): Promise<string[]> => Promise.resolve(['127.0.0.1']);
      assert.deepEqual(
        (
          await expandTargets(many.slice(0, 3), loopback, one, {
            maxHosts: 10,
            maxNamesPerAddress: 3,
          })
        ).names,
        { '127.0.0.1': many.slice(0, 3) },
      );
      await assert.rejects(
        expandTargets(many, loopback, one, { maxHosts: 10, maxNamesPerAddress: 3 }),
        (e: unknown) =>
          e instanceof TargetSpecError &&
          /more than 3 .*127\.0\.0\.1.*n3\.example\.com/.test(e.message),
      );
    });

    it('still refuses a name when one of its addresses is out of scope, or it does not resolve', async () => {
      await assert.rejects(
        expandTargets(['a.example.com', 'split.example.com'], loopback, dns, { maxHosts: 10 }),
        (e: unknown) =>
          e instanceof OutOfScopeError && /split\.example\.com -> 10\.1\.1\.1/.test(e.message),
      );
      await assert.rejects(
        expandTargets(['gone.example.com'], loopback, dns, { maxHosts: 10 }),
        (e: unknown) => e instanceof TargetSpecError && /does not resolve/.test(e.message),
      );
    });

    it('counts an address reached by several names once against maxHosts', async () => {
      const expanded = await expandTargets(['a.example.com', 'b.example.com'], loopback, dns, {
        maxHosts: 2,
      });
      assert.deepEqual(expanded.hosts, ['127.0.0.1', '127.0.0.3']);
      await assert.rejects(
        expandTargets(['a.example.com', 'b.example.com', '127.0.0.9'], loopback, dns, {
          maxHosts: 2,
        }),
        (e: unknown) => e instanceof TargetSpecError && /more than 2 addresses/.test(e.message),
      );
    });
  });
});
