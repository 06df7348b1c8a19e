/**
 * Decoders for binary answers. Each one checks the answer's framing strictly (random bytes
 * must not pass for a database) and turns it into one `key=value` text line, which the
 * fingerprint rules then read like any banner, plus protocol facts for policies (`extra`).
 * Every decoder works on a bounded buffer and never throws.
 */
import type { DecoderName } from '#src/discovery/fingerprint.model.js';

/** A decoded answer. */
export interface Decoded {
  /** One line of `key=value` facts that fingerprint rules match. */
  readonly text: string;
  /** Facts for ServiceFinding.extra. */
  readonly extra?: Readonly<Record<string, string>>;
}

/** A byte string as printable ASCII: \r \n \t and \xNN escapes, cut at `limit` characters. */
export function printable(data: Buffer, limit = 1024): string {
  let out = '';
  for (const byte of data) {
    let piece: string;
    if (byte === 0x5c) piece = '\\\\';
    else if (byte >= 0x20 && byte < 0x7f) piece = String.fromCharCode(byte);
    else if (byte === 0x0d) piece = '\\r';
    else if (byte === 0x0a) piece = '\\n';
    else if (byte === 0x09) piece = '\\t';
    else piece = `\\x${byte.toString(16).padStart(2, '0')}`;
    if (out.length + piece.length > limit) break;
    out += piece;
  }
  return out;
}

/** Printable text of a field (no escapes, control bytes dropped), at most `limit` long. */
function clean(text: string, limit = 200): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\x00-\x1f\x7f]+/g, ' ').slice(0, limit);
}

/** NUL-terminated string at `offset`, or undefined when there is no NUL before `end`. */
function cstring(data: Buffer, offset: number, end = data.length): [string, number] | undefined {
  const nul = data.indexOf(0, offset);
  if (nul < 0 || nul >= end) return undefined;
  return [data.toString('latin1', offset, nul), nul + 1];
}

/** MySQL/MariaDB server greeting (HandshakeV10) or the error packet a refused host gets. */
function mysql(data: Buffer): Decoded | undefined {
  if (data.length < 5) return undefined;
  const length = data.readUIntLE(0, 3);
  const sequence = data[3]!;
  if (sequence !== 0 || length < 2 || length > 4096) return undefined;
  const kind = data[4]!;
  if (kind === 9 || kind === 10) {
    const version = cstring(data, 5, Math.min(data.length, 4 + length));
    if (version === undefined || !/^[\x20-\x7e]{1,100}$/.test(version[0])) return undefined;
    return { text: `protocol=${kind} version=${version[0]}` };
  }
  if (kind === 0xff && data.length >= 7) {
    const code = data.readUInt16LE(5);
    let offset = 7;
    if (data[offset] === 0x23) offset += 6; // '#' + SQLSTATE
    const message = data.toString('latin1', offset, Math.min(data.length, 4 + length));
    if (!/^[\x20-\x7e]{1,}$/.test(message)) return undefined;
    return { text: `error=${code} message=${clean(message, 300)}` };
  }
  return undefined;
}

/** Telnet option negotiation: IAC first, then any text the server sent. */
function telnet(data: Buffer): Decoded | undefined {
  if (data.length < 3 || data[0] !== 0xff || data[1]! < 0xfa || data[1] === 0xff) return undefined;
  let iac = 0;
  let text = '';
  let i = 0;
  while (i < data.length) {
    const byte = data[i]!;
    if (byte !== 0xff) {
      text += String.fromCharCode(byte);
      i++;
      continue;
    }
    const command = data[i + 1];
    if (command === undefined) break;
    iac++;
    if (command === 0xff) {
      text += '\xff';
      i += 2;
    } else if (command === 0xfa) {
      // Subnegotiation runs until IAC SE.
      let end = i + 2;
      while (end < data.length - 1 && !(data[end] === 0xff && data[end + 1] === 0xf0)) end++;
      i = end + 2;
    } else if (command >= 0xfb) {
      i += 3;
    } else {
      i += 2;
    }
  }
  // eslint-disable-next-line no-control-regex
  return { text: `telnet iac=${iac}\n${text.replace(/[\x00-\x08\x0b\x0c\x0e-\x1f]/g, '')}` };
}

const PG_AUTH: Record<number, string> = {
  0: 'ok',
  2: 'kerberos',
  3: 'cleartext',
  5: 'md5',
  7: 'gss',
  9: 'sspi',
  10: 'sasl',
};

/** PostgreSQL backend messages answering a StartupMessage: 'E' error, or 'R' auth (+ 'S'...). */
function postgresql(data: Buffer): Decoded | undefined {
  const parts: string[] = [];
  const extra: Record<string, string> = {};
  let offset = 0;
  let first = true;
  while (offset + 5 <= data.length) {
    const type = String.fromCharCode(data[offset]!);
    const length = data.readInt32BE(offset + 1);
    if (length < 4 || length > 65536) break;
    const end = offset + 1 + length;
    if (first && !'ERN'.includes(type)) return undefined;
    if (end > data.length) {
      if (first && type !== 'E') return undefined;
      if (first) parts.push(`type=${type}`);
      break;
    }
    const body = data.subarray(offset + 5, end);
    if (type === 'E' || type === 'N') {
      const fields: Record<string, string> = {};
      let at = 0;
      while (at < body.length && body[at] !== 0) {
        const field = String.fromCharCode(body[at]!);
        const value = cstring(body, at + 1);
        if (value === undefined) return undefined;
        fields[field] = value[0];
        at = value[1];
      }
      if (first && (fields.S === undefined || fields.C === undefined)) return undefined;
      if (first) {
        parts.push(
          `type=${type} severity=${clean(fields.S ?? '', 20)} code=${clean(fields.C ?? '', 10)}`,
        );
        if (fields.R !== undefined) parts.push(`routine=${clean(fields.R, 60)}`);
        parts.push(`message=${clean(fields.M ?? '')}`);
      }
    } else if (type === 'R') {
      if (body.length < 4) return undefined;
      const code = body.readInt32BE(0);
      const name = PG_AUTH[code] ?? String(code);
      if (first) parts.push(`type=R auth=${name}`);
      extra.auth = code === 0 ? 'none' : 'required';
    } else if (type === 'S') {
      const name = cstring(body, 0);
      const value = name === undefined ? undefined : cstring(body, name[1]);
      if (name?.[0] === 'server_version' && value !== undefined)
        parts.push(`server_version=${clean(value[0], 60).replace(/ /g, '_')}`);
    }
    first = false;
    offset = end;
  }
  if (parts.length === 0) return undefined;
  return { text: `postgresql ${parts.join(' ')}`, extra };
}

/** Redis answers to "PING" and "INFO server" (inline commands). */
function redis(data: Buffer): Decoded | undefined {
  const text = data.toString('latin1');
  const first = text.slice(0, text.indexOf('\r\n') >>> 0);
  let auth: string;
  const extra: Record<string, string> = {};
  if (first === '+PONG') auth = 'none';
  else if (first.startsWith('-NOAUTH')) auth = 'required';
  else if (first.startsWith('-DENIED Redis')) {
    auth = 'required';
    extra.protectedMode = 'yes';
  } else return undefined;
  extra.auth = auth;
  const parts = [`redis auth=${auth}`];
  const version = /^redis_version:([\w.-]{1,40})\r?$/m.exec(text);
  if (version) parts.push(`version=${version[1]!}`);
  const mode = /^redis_mode:(\w{1,20})\r?$/m.exec(text);
  if (mode) parts.push(`mode=${mode[1]!}`);
  return { text: parts.join(' '), extra };
}

/** Top-level scalar fields of a BSON document (nested documents are skipped). */
function bsonFields(data: Buffer, offset: number): Record<string, string> | undefined {
  if (offset + 5 > data.length) return undefined;
  const size = data.readInt32LE(offset);
  const end = offset + size;
  if (size < 5 || end > data.length) return undefined;
  const fields: Record<string, string> = {};
  let at = offset + 4;
  while (at < end - 1) {
    const type = data[at]!;
    const name = cstring(data, at + 1, end);
    if (name === undefined) return fields;
    at = name[1];
    const key = name[0];
    switch (type) {
      case 0x01:
        if (at + 8 > end) return fields;
        fields[key] = String(data.readDoubleLE(at));
        at += 8;
        break;
      case 0x02:
      case 0x0d:
      case 0x0e: {
        if (at + 4 > end) return fields;
        const length = data.readInt32LE(at);
        if (length < 1 || at + 4 + length > end) return fields;
        fields[key] = data.toString('utf8', at + 4, at + 3 + length);
        at += 4 + length;
        break;
      }
      case 0x03:
      case 0x04: {
        if (at + 4 > end) return fields;
        const length = data.readInt32LE(at);
        if (length < 5) return fields;
        at += length;
        break;
      }
      case 0x05: {
        if (at + 4 > end) return fields;
        at += 5 + data.readInt32LE(at);
        break;
      }
      case 0x07:
        at += 12;
        break;
      case 0x08:
        fields[key] = data[at] === 1 ? 'true' : 'false';
        at += 1;
        break;
      case 0x09:
      case 0x11:
        at += 8;
        break;
      case 0x0a:
      case 0x7f:
      case 0xff:
        break;
      case 0x10:
        if (at + 4 > end) return fields;
        fields[key] = String(data.readInt32LE(at));
        at += 4;
        break;
      case 0x12:
        if (at + 8 > end) return fields;
        fields[key] = String(data.readBigInt64LE(at));
        at += 8;
        break;
      case 0x13:
        at += 16;
        break;
      default:
        return fields;
    }
  }
  return fields;
}

/** MongoDB replies (OP_REPLY or OP_MSG) to isMaster and buildinfo. */
function mongodb(data: Buffer): Decoded | undefined {
  const merged: Record<string, string> = {};
  let offset = 0;
  let messages = 0;
  while (offset + 16 <= data.length && messages < 2) {
    const length = data.readInt32LE(offset);
    const responseTo = data.readInt32LE(offset + 8);
    const opCode = data.readInt32LE(offset + 12);
    if (length < 21 || length > 48 * 1024 * 1024 || responseTo < 1 || responseTo > 2) break;
    let doc: Record<string, string> | undefined;
    if (opCode === 1) doc = bsonFields(data, offset + 36);
    else if (opCode === 2013 && data[offset + 20] === 0) doc = bsonFields(data, offset + 21);
    else break;
    if (doc === undefined) break;
    Object.assign(merged, doc);
    messages++;
    offset += length;
  }
  if (messages === 0 || merged.ok === undefined) return undefined;
  const parts = ['mongodb', `ok=${merged.ok}`];
  for (const key of ['ismaster', 'isWritablePrimary', 'maxWireVersion', 'version', 'codeName']) {
    const value = merged[key];
    if (value !== undefined) parts.push(`${key}=${clean(value, 60).replace(/ /g, '_')}`);
  }
  return { text: parts.join(' ') };
}

const SMB1_DIALECTS = ['NT LM 0.12', 'SMB 2.002', 'SMB 2.???'];

/** SMB negotiate response, SMB1 (\xffSMB) or SMB2 (\xfeSMB), behind a NetBIOS header. */
function smb(data: Buffer): Decoded | undefined {
  if (data.length < 8 || data[0] !== 0) return undefined;
  const magic = data.toString('latin1', 4, 8);
  if (magic === '\xffSMB') {
    if (data.length < 39 || data[8] !== 0x72) return undefined;
    const status = data.readUInt32LE(9);
    const index = data.readUInt16LE(37);
    const dialect = SMB1_DIALECTS[index] ?? `index-${index}`;
    return {
      text: `smb version=1 dialect=${dialect.replace(/ /g, '_')} status=0x${status.toString(16)}`,
      extra: { smb1: 'enabled' },
    };
  }
  if (magic === '\xfeSMB') {
    if (data.length < 4 + 64 + 6) return undefined;
    const dialect = data.readUInt16LE(4 + 64 + 4);
    return { text: `smb version=2 dialect=0x${dialect.toString(16).padStart(4, '0')}` };
  }
  return undefined;
}

/** NetBIOS session service answer: positive (0x82) or negative (0x83) session response. */
function netbios(data: Buffer): Decoded | undefined {
  if (data.length < 4 || data[1] !== 0 || data[2] !== 0) return undefined;
  if (data[0] === 0x82 && data[3] === 0) return { text: 'netbios session=positive' };
  if (data[0] === 0x83 && data[3] === 1 && data.length >= 5)
    return { text: `netbios session=negative error=0x${data[4]!.toString(16)}` };
  return undefined;
}

const RDP_PROTOCOLS: Record<number, string> = {
  0: 'rdp',
  1: 'tls',
  2: 'nla',
  3: 'nla',
  8: 'rdstls',
  10: 'nla',
};

/** X.224 Connection Confirm in a TPKT, with the RDP negotiation response when present. */
function rdp(data: Buffer): Decoded | undefined {
  if (data.length < 11 || data[0] !== 3 || data[1] !== 0 || data[5] !== 0xd0) return undefined;
  const length = data.readUInt16BE(2);
  if (length < 11 || length > 1024) return undefined;
  if (data.length >= 19 && data[11] === 0x02) {
    const selected = data.readUInt32LE(15);
    const security = RDP_PROTOCOLS[selected] ?? `0x${selected.toString(16)}`;
    return { text: `rdp security=${security}`, extra: { rdpSecurity: security } };
  }
  if (data.length >= 19 && data[11] === 0x03)
    return { text: `rdp negotiation-failure=${data.readUInt32LE(15)}` };
  return { text: 'rdp security=rdp', extra: { rdpSecurity: 'rdp' } };
}

const TABLE: Record<DecoderName, (data: Buffer) => Decoded | undefined> = {
  mysql,
  telnet,
  postgresql,
  redis,
  mongodb,
  smb,
  netbios,
  rdp,
};

/** Runs one decoder; a malformed answer gives undefined, never an exception. */
export function decode(name: DecoderName, data: Buffer): Decoded | undefined {
  try {
    return TABLE[name](data);
  } catch {
    return undefined;
  }
}
