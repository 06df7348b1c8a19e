import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ServiceFinding, TlsCertificate } from '#src/discovery/discovery.model.js';
import {
  compareVersions,
  evaluatePolicies,
  loadPolicies,
  parsePolicies,
  PolicyError,
} from '#src/issues/policy.model.js';

const NOW = Date.UTC(2026, 10, 24);
const DAY = 86_400_000;
const policies = loadPolicies();
const IP = '203.0.113.7';

const cert = (overrides: Partial<TlsCertificate> = {}): TlsCertificate => ({
  subject: 'CN=www.example.com',
  issuer: "CN=R11, O=Let's Encrypt",
  sans: ['www.example.com'],
  validFrom: new Date(NOW - 30 * DAY).toISOString(),
  validTo: new Date(NOW + 60 * DAY).toISOString(),
  selfSigned: false,
  keyType: 'rsa',
  keyBits: 2048,
  sha256: 'ab'.repeat(32),
  serial: '01',
  ...overrides,
});
const https = (port = 443): ServiceFinding => ({
  ip: IP,
  port,
  protocol: 'tcp',
  service: 'https',
  tls: { protocol: 'TLSv1.3', cipher: 'TLS_AES_128_GCM_SHA256', chain: [cert()] },
  http: { status: 200, server: 'cloudflare', title: 'Welcome' },
});
const f = (fields: Partial<ServiceFinding> & { port: number }): ServiceFinding => ({
  ip: IP,
  protocol: 'tcp',
  ...fields,
});

/** Each bundled policy: a realistic finding it fires on, and a near miss it must not. */
const cases: Record<string, { hit: ServiceFinding; miss: ServiceFinding; title?: string }> = {
  'telnet-server': {
    hit: f({ port: 23, service: 'telnet', banner: '\\xff\\xfd\\x18\\xff\\xfd ' }),
    miss: f({ port: 23, service: 'http', http: { status: 200 } }),
    title: `Telnet Server at ${IP}:23`,
  },
  'ftp-server': {
    hit: f({
      port: 21,
      service: 'ftp',
      product: 'vsftpd',
      version: '3.0.3',
      banner: '220 (vsFTPd 3.0.3)',
    }),
    miss: f({ port: 21, service: 'ssh', banner: 'SSH-2.0-OpenSSH_9.2p1' }),
  },
  'rsync-server': {
    hit: f({ port: 873, banner: '@RSYNCD: 31.0' }),
    miss: f({ port: 873, banner: 'HTTP/1.1 400 Bad Request' }),
  },
  'netbios-name-server': {
    hit: f({ port: 139, service: 'netbios-ssn', product: 'Samba smbd' }),
    miss: f({ port: 139, service: 'http' }),
  },
  'smb-server': {
    hit: f({ port: 445, service: 'microsoft-ds', product: 'Windows Server 2016 microsoft-ds' }),
    miss: f({ port: 445, service: 'https' }),
  },
  'rdp-server': {
    hit: f({ port: 3389, service: 'ms-wbt-server', product: 'Microsoft Terminal Services' }),
    miss: f({ port: 3389, service: 'vnc' }),
  },
  'mysql-server': {
    hit: f({ port: 3306, service: 'mysql', product: 'MySQL', version: '8.0.36' }),
    miss: f({ port: 3306, service: 'postgresql' }),
  },
  'postgresql-server': {
    hit: f({ port: 5432, service: 'postgresql', product: 'PostgreSQL DB', version: '15.4' }),
    miss: f({ port: 5432, service: 'mysql' }),
  },
  'redis-unauthenticated': {
    hit: f({
      port: 6379,
      service: 'redis',
      product: 'Redis key-value store',
      extra: { auth: 'none' },
    }),
    miss: f({ port: 6379, service: 'redis', extra: { auth: 'required' } }),
    title: `Unauthenticated Redis Server at ${IP}:6379`,
  },
  'mqtt-anonymous': {
    hit: f({
      port: 1883,
      service: 'mqtt',
      product: 'Eclipse Mosquitto',
      version: '2.0.11',
      extra: { info: 'anonymous access' },
    }),
    miss: f({ port: 1883, service: 'mqtt', extra: { info: 'authentication required' } }),
    title: `MQTT Broker Allowing Anonymous Access at ${IP}:1883`,
  },
  'mqtt-server': {
    hit: f({ port: 1883, service: 'mqtt', extra: { info: 'authentication required' } }),
    miss: f({ port: 1883, service: 'mqtt', extra: { info: 'anonymous access' } }),
  },
  'erlang-epmd': {
    hit: f({ port: 4369, service: 'epmd', product: 'Erlang Port Mapper Daemon' }),
    miss: f({ port: 4369, service: 'amqp' }),
  },
  'redis-server': {
    hit: f({ port: 6379, service: 'redis', extra: { auth: 'required' } }),
    miss: f({ port: 6379, service: 'redis', extra: { auth: 'none' } }),
    title: `Redis Server at ${IP}:6379`,
  },
  'memcached-server': {
    hit: f({ port: 11211, service: 'memcached', product: 'Memcached', version: '1.6.21' }),
    miss: f({ port: 11211, service: 'redis' }),
  },
  'mongodb-server': {
    hit: f({ port: 27017, service: 'mongodb', product: 'MongoDB', version: '6.0.4' }),
    miss: f({ port: 27017, service: 'http' }),
  },
  'elasticsearch-server': {
    hit: f({ port: 9200, service: 'http', product: 'Elasticsearch REST API', version: '7.17.9' }),
    miss: f({ port: 9200, service: 'http', product: 'nginx', version: '1.25.3' }),
  },
  'ssh-server': {
    hit: f({
      port: 22,
      service: 'ssh',
      product: 'OpenSSH',
      version: '9.2p1',
      banner: 'SSH-2.0-OpenSSH_9.2p1 Debian-2',
    }),
    miss: f({ port: 22, service: 'telnet' }),
  },
  'insecure-tls-protocol': {
    hit: { ...https(), tls: { protocol: 'TLSv1', chain: [cert()] } },
    miss: https(),
  },
  'expired-tls-certificate': {
    hit: {
      ...https(),
      tls: { protocol: 'TLSv1.2', chain: [cert({ validTo: new Date(NOW - DAY).toISOString() })] },
    },
    miss: https(),
  },
  'expiring-tls-certificate': {
    hit: {
      ...https(),
      tls: {
        protocol: 'TLSv1.2',
        chain: [cert({ validTo: new Date(NOW + 5 * DAY).toISOString() })],
      },
    },
    miss: {
      ...https(),
      tls: {
        protocol: 'TLSv1.2',
        chain: [cert({ validTo: new Date(NOW + 20 * DAY).toISOString() })],
      },
    },
  },
  'self-signed-tls-certificate': {
    hit: {
      ...https(),
      tls: {
        protocol: 'TLSv1.3',
        chain: [cert({ selfSigned: true, issuer: 'CN=www.example.com' })],
      },
    },
    miss: https(),
  },
  'weak-tls-key': {
    hit: { ...https(), tls: { protocol: 'TLSv1.2', chain: [cert({ keyBits: 1024 })] } },
    miss: {
      ...https(),
      tls: { protocol: 'TLSv1.2', chain: [cert({ keyType: 'ec', keyBits: 256 })] },
    },
  },
  'apache-httpd-outdated': {
    hit: {
      ...https(),
      http: { status: 200, server: 'Apache/2.4.12 (Unix) OpenSSL/1.0.1e', title: 'Test' },
    },
    miss: { ...https(), http: { status: 200, server: 'Apache/2.4.58 (Unix)' } },
    title: `Apache Web Server (2.4.12) at ${IP}:443`,
  },
  'nginx-outdated': {
    hit: f({ port: 80, service: 'http', product: 'nginx', version: '1.22.1' }),
    miss: f({ port: 80, service: 'http', product: 'nginx', version: '1.24.0' }),
    title: `nginx Web Server (1.22.1) at ${IP}:80`,
  },
  'tomcat-outdated': {
    hit: f({ port: 8080, service: 'http', product: 'Apache Tomcat', version: '9.0.31' }),
    miss: f({ port: 8080, service: 'http', product: 'Apache Tomcat', version: '10.1.13' }),
    title: `Apache Tomcat (9.0.31) at ${IP}:8080`,
  },
  'iis-outdated': {
    hit: f({ port: 80, service: 'http', http: { status: 200, server: 'Microsoft-IIS/7.5' } }),
    miss: f({ port: 80, service: 'http', http: { status: 200, server: 'Microsoft-IIS/10.0' } }),
    title: `Microsoft IIS (7.5) at ${IP}:80`,
  },
  'lighttpd-outdated': {
    hit: f({ port: 80, service: 'http', http: { status: 200, server: 'lighttpd/1.4.45' } }),
    miss: f({ port: 80, service: 'http', http: { status: 200, server: 'lighttpd/1.4.73' } }),
  },
  'huawei-admin-interface': {
    hit: f({ port: 443, service: 'https', http: { status: 200, title: 'HUAWEI HG8245H' } }),
    miss: f({ port: 443, service: 'https', http: { status: 200, title: 'Sign in' } }),
  },
  'cisco-admin-interface': {
    hit: f({ port: 80, service: 'http', http: { status: 401, server: 'cisco-IOS' } }),
    miss: f({ port: 80, service: 'http', http: { status: 200, server: 'Apache' } }),
  },
  'mikrotik-admin-interface': {
    hit: f({
      port: 80,
      service: 'http',
      http: { status: 200, title: 'RouterOS router configuration page' },
    }),
    miss: f({ port: 80, service: 'http', http: { status: 200, title: 'Router login' } }),
  },
  'fortinet-admin-interface': {
    hit: f({
      port: 443,
      service: 'https',
      http: { status: 200, server: 'xxxxxxxx-xxxxx', title: '' },
    }),
    miss: f({ port: 443, service: 'https', http: { status: 200, server: 'xxxxxxxx' } }),
  },
  'ubiquiti-admin-interface': {
    hit: f({ port: 8443, service: 'https', http: { status: 200, title: 'UniFi Network' } }),
    miss: f({ port: 8443, service: 'https', http: { status: 200, title: 'Unify your data' } }),
  },
};

const fired = (finding: ServiceFinding): string[] =>
  evaluatePolicies(policies, finding, NOW).map((m) => m.policyId);

describe('bundled policies', () => {
  it('every bundled policy has a case here', () => {
    assert.deepEqual(policies.map((p) => p.id).sort(), Object.keys(cases).sort());
  });

  for (const [id, c] of Object.entries(cases)) {
    it(`${id} fires on a realistic finding and not on a near miss`, () => {
      assert.ok(
        fired(c.hit).includes(id),
        `fires on ${JSON.stringify(c.hit)}: ${fired(c.hit).join(', ')}`,
      );
      assert.ok(!fired(c.miss).includes(id), `not on ${JSON.stringify(c.miss)}`);
      if (c.title !== undefined) {
        const match = evaluatePolicies(policies, c.hit, NOW).find((m) => m.policyId === id);
        assert.equal(match?.title, c.title);
      }
    });
  }

  it('records the values that matched as evidence', () => {
    const match = evaluatePolicies(policies, cases['apache-httpd-outdated']!.hit, NOW).find(
      (m) => m.policyId === 'apache-httpd-outdated',
    );
    assert.deepEqual(match?.evidence, {
      'http.server': 'Apache/2.4.12 (Unix) OpenSSL/1.0.1e',
      version: '2.4.12',
    });
    const tls = evaluatePolicies(policies, cases['weak-tls-key']!.hit, NOW).find(
      (m) => m.policyId === 'weak-tls-key',
    );
    assert.deepEqual(tls?.evidence, { 'tls.keyType': 'rsa', 'tls.keyBits': 1024 });
  });

  it('writes IPv6 endpoints in brackets', () => {
    const [match] = evaluatePolicies(
      policies,
      { ip: '2001:db8::7', port: 23, protocol: 'tcp', service: 'telnet' },
      NOW,
    );
    assert.equal(match?.title, 'Telnet Server at [2001:db8::7]:23');
  });
});

describe('compareVersions', () => {
  it('orders dotted versions numerically, with patch suffixes above and pre-releases below', () => {
    const ordered = [
      '1.0rc1',
      '1.0',
      '1.22',
      '1.22.1',
      '2.4.9',
      '2.4.12',
      '9.0.31',
      '9.2',
      '9.2p1',
      '9.2.1',
      '10.1.0-rc1',
      '10.1.0',
      '10.1.13',
    ];
    for (let i = 1; i < ordered.length; i++) {
      assert.ok(
        compareVersions(ordered[i - 1]!, ordered[i]!)! < 0,
        `${ordered[i - 1]!} < ${ordered[i]!}`,
      );
      assert.ok(
        compareVersions(ordered[i]!, ordered[i - 1]!)! > 0,
        `${ordered[i]!} > ${ordered[i - 1]!}`,
      );
    }
    assert.equal(compareVersions('2.4.58', '2.4.58'), 0);
    assert.equal(compareVersions('unknown', '1.0'), undefined);
  });
});

describe('loading policies', () => {
  const file = (doc: unknown): string => {
    const dir = mkdtempSync(join(tmpdir(), 'surfacescan-policies-'));
    const path = join(dir, 'extra.json');
    writeFileSync(path, JSON.stringify(doc));
    return path;
  };
  const base = {
    id: 'x-1',
    name: 'X',
    priority: 'low',
    match: { service: '^x$' },
    remediation: 'Fix it.',
  };
  const rejects = (policy: Record<string, unknown>, pattern: RegExp): void => {
    const path = file({ policies: [{ ...base, ...policy }] });
    assert.throws(
      () => loadPolicies([path]),
      (error: unknown) =>
        error instanceof PolicyError &&
        error.message.startsWith(`${path}: policy "x-1": `) &&
        pattern.test(error.message),
    );
  };

  it('names the file, the policy and the problem', () => {
    rejects(
      { match: { service: '([unclosed' } },
      /match\.service is not a valid regular expression/,
    );
    rejects({ match: { servce: 'x' } }, /unknown field "servce" in match/);
    rejects({ priority: 'urgent' }, /priority must be one of critical, high, medium, low/);
    rejects(
      { match: [{ version: { lt: 'latest' } }] },
      /match\[0\]\.version\[0\]\.lt must be a version/,
    );
    rejects({ match: { tls: { weak: true } } }, /unknown field "weak" in match\.tls/);
    rejects({ match: {} }, /has no conditions/);
    rejects({ colour: 'red' }, /unknown field "colour" in the policy/);
    assert.throws(
      () => parsePolicies('{', 'broken.json'),
      /^PolicyError: broken.json: not valid JSON/,
    );
    assert.throws(
      () => loadPolicies(['/nonexistent/p.json']),
      /\/nonexistent\/p\.json: cannot read policy file/,
    );
  });

  it('lets a later file override a bundled policy by id and add new ones', () => {
    const path = file({
      policies: [
        {
          ...base,
          id: 'ssh-server',
          name: 'SSH Server',
          priority: 'medium',
          match: { service: '^ssh$' },
        },
        base,
      ],
    });
    const loaded = loadPolicies([path]);
    assert.equal(loaded.find((p) => p.id === 'ssh-server')?.priority, 'medium');
    assert.ok(loaded.some((p) => p.id === 'x-1'));
    assert.equal(loaded.length, policies.length + 1);
    const twice = file({ policies: [base, base] });
    assert.throws(() => loadPolicies([twice]), /policy "x-1": the id is used twice/);
  });
});
