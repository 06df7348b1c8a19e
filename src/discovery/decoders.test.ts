import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { DECODERS } from '#src/discovery/fingerprint.model.js';
import { decode, printable } from '#src/discovery/decoders.js';

function mysqlGreeting(version: string): Buffer {
  const payload = Buffer.concat([
    Buffer.from([10]),
    Buffer.from(`${version}\0`, 'latin1'),
    Buffer.alloc(40, 1),
  ]);
  const header = Buffer.alloc(4);
  header.writeUIntLE(payload.length, 0, 3);
  return Buffer.concat([header, payload]);
}

function pgMessage(type: string, body: Buffer): Buffer {
  const header = Buffer.alloc(5);
  header.write(type, 0, 'latin1');
  header.writeInt32BE(body.length + 4, 1);
  return Buffer.concat([header, body]);
}

function bsonDoc(fields: [string, string | number | boolean][]): Buffer {
  const parts: Buffer[] = [];
  for (const [key, value] of fields) {
    const name = Buffer.from(`${key}\0`);
    if (typeof value === 'string') {
      const text = Buffer.from(`${value}\0`);
      const length = Buffer.alloc(4);
      length.writeInt32LE(text.length);
      parts.push(Buffer.from([2]), name, length, text);
    } else if (typeof value === 'boolean') {
      parts.push(Buffer.from([8]), name, Buffer.from([value ? 1 : 0]));
    } else {
      const number = Buffer.alloc(8);
      number.writeDoubleLE(value);
      parts.push(Buffer.from([1]), name, number);
    }
  }
  const body = Buffer.concat(parts);
  const size = Buffer.alloc(4);
  size.writeInt32LE(body.length + 5);
  return Buffer.concat([size, body, Buffer.from([0])]);
}

function opReply(responseTo: number, doc: Buffer): Buffer {
  const header = Buffer.alloc(36);
  header.writeInt32LE(36 + doc.length, 0);
  header.writeInt32LE(responseTo, 8);
  header.writeInt32LE(1, 12);
  header.writeInt32LE(1, 32);
  return Buffer.concat([header, doc]);
}

describe('decoders', () => {
  it('read the MySQL/MariaDB greeting version', () => {
    assert.equal(
      decode('mysql', mysqlGreeting('5.5.5-10.11.6-MariaDB-0+deb12u1'))?.text,
      'protocol=10 version=5.5.5-10.11.6-MariaDB-0+deb12u1',
    );
    const error = Buffer.concat([
      Buffer.from([0x45, 0, 0, 0, 0xff, 0x6a, 0x04]),
      Buffer.from("Host '10.1.1.1' is not allowed to connect to this MariaDB server", 'latin1'),
    ]);
    assert.match(decode('mysql', error)?.text ?? '', /^error=1130 message=Host/);
  });

  it('read PostgreSQL errors, auth requests and server_version', () => {
    const error = pgMessage(
      'E',
      Buffer.from(
        'SFATAL\0C28000\0Mrole "surfacescan" does not exist\0RInitializeSessionUserId\0\0',
      ),
    );
    assert.equal(
      decode('postgresql', error)?.text,
      'postgresql type=E severity=FATAL code=28000 routine=InitializeSessionUserId message=role "surfacescan" does not exist',
    );
    const md5 = pgMessage('R', Buffer.from([0, 0, 0, 5, 1, 2, 3, 4]));
    assert.deepEqual(decode('postgresql', md5), {
      text: 'postgresql type=R auth=md5',
      extra: { auth: 'required' },
    });
    const trusted = Buffer.concat([
      pgMessage('R', Buffer.from([0, 0, 0, 0])),
      pgMessage('S', Buffer.from('server_version\x0015.4 (Debian 15.4-1)\0', 'latin1')),
    ]);
    assert.equal(
      decode('postgresql', trusted)?.text,
      'postgresql type=R auth=ok server_version=15.4_(Debian_15.4-1)',
    );
  });

  it('read Redis auth state and version', () => {
    assert.deepEqual(
      decode('redis', Buffer.from('+PONG\r\n$30\r\n# Server\r\nredis_version:7.0.15\r\n')),
      {
        text: 'redis auth=none version=7.0.15',
        extra: { auth: 'none' },
      },
    );
    assert.equal(
      decode('redis', Buffer.from('-NOAUTH Authentication required.\r\n'))?.extra?.auth,
      'required',
    );
  });

  it('read MongoDB isMaster and buildinfo replies', () => {
    const reply = Buffer.concat([
      opReply(
        1,
        bsonDoc([
          ['ismaster', true],
          ['maxWireVersion', 17],
          ['ok', 1],
        ]),
      ),
      opReply(
        2,
        bsonDoc([
          ['version', '6.0.3'],
          ['ok', 1],
        ]),
      ),
    ]);
    assert.equal(
      decode('mongodb', reply)?.text,
      'mongodb ok=1 ismaster=true maxWireVersion=17 version=6.0.3',
    );
  });

  it('read RDP, SMB and NetBIOS answers', () => {
    const rdp = Buffer.from([3, 0, 0, 19, 14, 0xd0, 0, 0, 0x12, 0x34, 0, 2, 0, 8, 0, 2, 0, 0, 0]);
    assert.deepEqual(decode('rdp', rdp), {
      text: 'rdp security=nla',
      extra: { rdpSecurity: 'nla' },
    });
    const smb2 = Buffer.alloc(4 + 64 + 8);
    smb2.write('\xfeSMB', 4, 'latin1');
    smb2.writeUInt16LE(0x02ff, 4 + 64 + 4);
    assert.equal(decode('smb', smb2)?.text, 'smb version=2 dialect=0x02ff');
    assert.equal(decode('netbios', Buffer.from([0x82, 0, 0, 0]))?.text, 'netbios session=positive');
    assert.equal(
      decode('netbios', Buffer.from([0x83, 0, 0, 1, 0x80]))?.text,
      'netbios session=negative error=0x80',
    );
  });

  it('strip telnet negotiation and keep the text', () => {
    const data = Buffer.from([0xff, 0xfd, 0x18, 0xff, 0xfb, 0x01, ...Buffer.from('\r\nlogin: ')]);
    assert.equal(decode('telnet', data)?.text, 'telnet iac=2\n\r\nlogin: ');
    assert.equal(decode('telnet', Buffer.from('login: ')), undefined);
  });

  it('never throw and rarely accept random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.constantFrom(...DECODERS), (data, name) => {
        decode(name, Buffer.from(data));
      }),
      { numRuns: 2000 },
    );
  });

  it('escape banners as printable text within the limit', () => {
    assert.equal(printable(Buffer.from('a\\b\r\n\x00\xff', 'latin1')), 'a\\\\b\\r\\n\\x00\\xff');
    assert.equal(printable(Buffer.alloc(5000, 0)).length, 1024);
  });
});
