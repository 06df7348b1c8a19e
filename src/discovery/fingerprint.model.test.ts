import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  FingerprintError,
  MATCH_TEXT_LIMIT,
  loadFingerprints,
  matchRules,
} from '#src/discovery/fingerprint.model.js';

const db = loadFingerprints();

function withFile(content: unknown, check: (path: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'fingerprints-'));
  try {
    const path = join(dir, 'extra.json');
    writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
    check(path);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('loadFingerprints', () => {
  it('loads the bundled database with its probes, hints and rules', () => {
    assert.ok(db.probes.has('null'));
    assert.ok(db.probes.has('tls-http'));
    assert.deepEqual(db.portHints.get(22), ['ssh']);
    assert.ok((db.rules.get('http')?.length ?? 0) > 10);
    assert.ok(db.defaultOrder.includes('redis'));
  });

  it('names the file, entry index and problem for an invalid regex', () => {
    withFile(
      {
        fingerprints: [
          { probe: 'null', pattern: '^ok', service: 'x' },
          { probe: 'null', pattern: '(unclosed', service: 'ssh' },
        ],
      },
      (path) => {
        assert.throws(
          () => loadFingerprints([path]),
          (error: unknown) =>
            error instanceof FingerprintError &&
            error.message.includes(path) &&
            error.message.includes('fingerprints[1]') &&
            error.message.includes('invalid regex'),
        );
      },
    );
  });

  it('refuses unknown fields, unknown probes, bad templates and bad send bytes', () => {
    const cases: [unknown, string][] = [
      [
        { fingerprints: [{ probe: 'null', pattern: 'a', service: 'x', produkt: 'y' }] },
        'unknown field "produkt"',
      ],
      [{ fingerprints: [{ probe: 'nope', pattern: 'a', service: 'x' }] }, 'unknown probe "nope"'],
      [
        { fingerprints: [{ probe: 'null', pattern: 'a(b)', service: 'x', version: '$2' }] },
        'uses $2',
      ],
      [{ fingerprints: [{ probe: 'null', pattern: 'a', service: 'x', flags: 'g' }] }, '"flags"'],
      [{ probes: [{ name: 'bad', send: 'ā' }] }, 'above \\u00ff'],
      [{ probes: [{ name: 'null' }] }, 'defined twice'],
      [{ portHints: { '70000': ['http'] } }, 'port number'],
      [{ portHints: { '80': ['gopher'] } }, 'unknown probe "gopher"'],
      [{ extra: true }, 'unknown field "extra"'],
      ['{"fingerprints": [', 'not valid JSON'],
    ];
    for (const [content, expected] of cases) {
      withFile(content, (path) => {
        assert.throws(
          () => loadFingerprints([path]),
          (error: unknown) =>
            error instanceof FingerprintError &&
            error.message.includes(path) &&
            error.message.includes(expected),
          expected,
        );
      });
    }
    assert.throws(() => loadFingerprints(['/nonexistent/fp.json']), /cannot be read \(ENOENT\)/);
  });

  it('tries rules of extra files before the bundled ones', () => {
    withFile(
      {
        fingerprints: [
          {
            probe: 'null',
            pattern: '^SSH-2\\.0-OpenSSH_(\\S+)',
            service: 'ssh',
            product: 'Custom SSH',
            version: '$1',
          },
        ],
      },
      (path) => {
        const custom = loadFingerprints([path]);
        assert.equal(matchRules(custom, 'null', 'SSH-2.0-OpenSSH_9.6\r\n')?.product, 'Custom SSH');
      },
    );
  });
});

describe('bundled rules', () => {
  const cases: [string, string, Record<string, unknown>][] = [
    [
      'null',
      'SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n',
      {
        service: 'ssh',
        product: 'OpenSSH',
        version: '9.2p1',
        info: 'Debian-2+deb12u3',
        cpe: ['cpe:2.3:a:openbsd:openssh:9.2p1:*:*:*:*:*:*:*'],
      },
    ],
    ['null', 'SSH-2.0-OpenSSH_8.9\r\n', { product: 'OpenSSH', version: '8.9' }],
    [
      'null',
      'SSH-2.0-dropbear_2022.83\r\n',
      { service: 'ssh', product: 'Dropbear sshd', version: '2022.83' },
    ],
    ['null', 'SSH-2.0-libssh_0.9.6\r\n', { service: 'ssh', hard: false }],
    ['null', '220 (vsFTPd 3.0.3)\r\n', { service: 'ftp', product: 'vsftpd', version: '3.0.3' }],
    [
      'null',
      '220 ProFTPD 1.3.8 Server (Debian) [::ffff:127.0.0.1]\r\n',
      { service: 'ftp', product: 'ProFTPD', version: '1.3.8' },
    ],
    [
      'null',
      '220 ProFTPD Server (ProFTPD Default Installation) [127.0.0.1]\r\n',
      { product: 'ProFTPD' },
    ],
    [
      'null',
      '220---------- Welcome to Pure-FTPd [privsep] [TLS] ----------\r\n220-You are user number 1 of 50 allowed.\r\n',
      { service: 'ftp', product: 'Pure-FTPd' },
    ],
    [
      'null',
      '220 mail.example.com ESMTP Postfix (Debian/GNU)\r\n',
      { service: 'smtp', product: 'Postfix smtpd', info: 'Debian/GNU' },
    ],
    [
      'null',
      '220 mx.example.org ESMTP Exim 4.96 Mon, 24 Nov 2026 10:00:00 +0000\r\n',
      { service: 'smtp', product: 'Exim smtpd', version: '4.96' },
    ],
    ['null', '220 mx.example.org ESMTP ready\r\n', { service: 'smtp', hard: false }],
    ['null', '220 Welcome to the FTP service\r\n', { service: 'ftp', hard: false }],
    [
      'null',
      '@RSYNCD: 31.0\n',
      { service: 'rsync', product: 'rsync', info: 'protocol version 31.0' },
    ],
    ['null', '\u0015\u0003\u0001\u0000\u0002\u0002\u0016', { service: 'ssl', hard: false }],
    [
      'memcached',
      'VERSION 1.6.18\r\n',
      { service: 'memcached', product: 'Memcached', version: '1.6.18' },
    ],
    [
      'telnet',
      'telnet iac=3\n\r\nMikroTik v6.49.10 (long-term)\r\nLogin: ',
      { service: 'telnet', product: 'MikroTik router config telnetd', version: '6.49.10' },
    ],
    ['telnet', 'telnet iac=2\nlogin: ', { service: 'telnet', hard: false }],
    [
      'mysql',
      'protocol=10 version=5.5.5-10.11.6-MariaDB-0+deb12u1',
      { service: 'mysql', product: 'MariaDB', version: '10.11.6' },
    ],
    [
      'mysql',
      'protocol=10 version=8.0.36',
      {
        service: 'mysql',
        product: 'MySQL',
        version: '8.0.36',
        cpe: ['cpe:2.3:a:oracle:mysql:8.0.36:*:*:*:*:*:*:*'],
      },
    ],
    [
      'mysql',
      "error=1130 message=Host '10.0.0.1' is not allowed to connect to this MariaDB server",
      { product: 'MariaDB' },
    ],
    [
      'postgresql',
      'postgresql type=R auth=md5',
      { service: 'postgresql', product: 'PostgreSQL DB' },
    ],
    [
      'redis',
      'redis auth=none version=7.2.4 mode=standalone',
      { service: 'redis', version: '7.2.4' },
    ],
    [
      'mongodb',
      'mongodb ok=1 ismaster=true maxWireVersion=17 version=6.0.3',
      { service: 'mongodb', version: '6.0.3' },
    ],
    [
      'http',
      'HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\n\r\n',
      {
        service: 'http',
        product: 'nginx',
        version: '1.22.1',
        cpe: ['cpe:2.3:a:f5:nginx:1.22.1:*:*:*:*:*:*:*'],
      },
    ],
    [
      'http',
      'HTTP/1.1 200 OK\r\nServer: nginx\r\n\r\n',
      { product: 'nginx', cpe: ['cpe:2.3:a:f5:nginx:*:*:*:*:*:*:*:*'] },
    ],
    [
      'http',
      'HTTP/1.1 200 OK\r\nServer: Apache/2.4.57 (Debian)\r\n\r\n',
      { product: 'Apache httpd', version: '2.4.57', info: 'Debian' },
    ],
    ['http', 'HTTP/1.1 200 OK\r\nServer: Apache\r\n\r\n', { product: 'Apache httpd' }],
    [
      'http',
      'HTTP/1.1 200 OK\r\nServer: Apache-Coyote/1.1\r\n\r\n',
      { product: 'Apache Tomcat/Coyote JSP engine', version: '1.1' },
    ],
    [
      'http',
      'HTTP/1.1 404 \r\nContent-Type: text/html\r\n\r\n<html><head><title>Apache Tomcat/9.0.65 - Error report</title>',
      { product: 'Apache Tomcat', version: '9.0.65' },
    ],
    [
      'http',
      'HTTP/1.1 200 OK\r\nServer: Microsoft-IIS/10.0\r\n\r\n',
      { product: 'Microsoft IIS httpd', version: '10.0' },
    ],
    [
      'http',
      'HTTP/1.0 200 OK\r\nServer: lighttpd/1.4.69\r\n\r\n',
      { product: 'lighttpd', version: '1.4.69' },
    ],
    [
      'http',
      'HTTP/1.1 200 OK\r\n\r\n<html><title>RouterOS router configuration page</title>',
      { product: 'MikroTik RouterOS admin web interface' },
    ],
    [
      'http',
      'HTTP/1.1 200 OK\r\nServer: xxxxxxxx-xxxxx\r\n\r\n',
      { product: 'Fortinet admin web interface' },
    ],
    [
      'http',
      'HTTP/1.1 200 OK\r\n\r\n<title>FortiGate - Login</title>',
      { product: 'Fortinet admin web interface' },
    ],
    [
      'http',
      'HTTP/1.1 200 OK\r\nServer: HuaweiHomeGateway\r\n\r\n',
      { product: 'Huawei admin web interface' },
    ],
    [
      'http',
      'HTTP/1.1 200 OK\r\n\r\n<title>HUAWEI AR Web Platform</title>',
      { product: 'Huawei admin web interface' },
    ],
    [
      'http',
      'HTTP/1.1 401 Unauthorized\r\nServer: cisco-IOS\r\n\r\n',
      { product: 'Cisco IOS http config' },
    ],
    [
      'http',
      'HTTP/1.1 200 OK\r\n\r\n<title>Cisco ASDM 7.8</title>',
      { product: 'Cisco admin web interface' },
    ],
    [
      'http',
      'HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\r\n{\n  "name" : "n1",\n  "version" : {\n    "number" : "8.11.1",\n    "build_flavor" : "default"\n  },\n  "tagline" : "You Know, for Search"\n}\n',
      { service: 'elasticsearch', version: '8.11.1' },
    ],
    [
      'http',
      'HTTP/1.1 401 Unauthorized\r\nX-elastic-product: Elasticsearch\r\n\r\n',
      { service: 'elasticsearch' },
    ],
    [
      'http',
      'HTTP/1.1 400 Bad Request\r\nServer: nginx\r\n\r\n<center>The plain HTTP request was sent to HTTPS port</center>',
      { service: 'ssl', hard: false },
    ],
    ['http', 'HTTP/1.1 200 OK\r\n\r\nhello', { service: 'http', hard: false }],
  ];
  for (const [probe, text, expected] of cases) {
    it(`recognises ${JSON.stringify(text.slice(0, 60))}`, () => {
      const result = matchRules(db, probe, text);
      assert.ok(result, 'no rule matched');
      for (const [key, value] of Object.entries(expected)) {
        assert.deepEqual(result[key as keyof typeof result], value, key);
      }
      if (!('hard' in expected)) assert.equal(result.hard, true);
    });
  }

  it('matches nothing on unrelated text', () => {
    for (const namespace of db.rules.keys()) {
      assert.equal(matchRules(db, namespace, 'hello world\r\n'), undefined, namespace);
    }
  });

  it('stay fast on hostile text at the match limit', () => {
    const hostile = [
      'a'.repeat(MATCH_TEXT_LIMIT),
      ' '.repeat(MATCH_TEXT_LIMIT),
      '220 '.repeat(MATCH_TEXT_LIMIT / 4),
      `HTTP/1.1 200 OK\r\n${'Server: '.repeat(MATCH_TEXT_LIMIT / 8)}`,
      `"number" : "1${'.1'.repeat(MATCH_TEXT_LIMIT / 2)}`,
      '<title>'.repeat(MATCH_TEXT_LIMIT / 7),
      `SSH-2.0-OpenSSH_${'9'.repeat(MATCH_TEXT_LIMIT)}`,
      `telnet iac=1\n${'MikroTik v'.repeat(MATCH_TEXT_LIMIT / 10)}`,
      Buffer.from(Array.from({ length: MATCH_TEXT_LIMIT }, (_, i) => (i * 7919) % 256)).toString(
        'latin1',
      ),
    ];
    for (const namespace of db.rules.keys()) {
      for (const text of hostile) {
        const started = performance.now();
        // Twice the limit: matchRules must cut it.
        matchRules(db, namespace, text + text);
        const elapsed = performance.now() - started;
        assert.ok(
          elapsed < 100,
          `${namespace} took ${elapsed.toFixed(1)} ms on ${text.slice(0, 20)}`,
        );
      }
    }
  });
});
