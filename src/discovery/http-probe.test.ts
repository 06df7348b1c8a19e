import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  extractTitle,
  faviconHashOf,
  hostHeader,
  httpInfo,
  parseHttpResponse,
  responseComplete,
} from '#src/discovery/http-probe.js';

const response = (text: string, closed = true) =>
  parseHttpResponse(Buffer.from(text, 'latin1'), closed);

describe('HTTP response parsing', () => {
  it('reads status, headers and a Content-Length body', () => {
    const parsed = response(
      'HTTP/1.1 301 Moved\r\nServer: nginx\r\nLocation: /x\r\nContent-Length: 2\r\n\r\nhiEXTRA',
    );
    assert.equal(parsed?.status, 301);
    assert.equal(parsed.headers.get('location'), '/x');
    assert.equal(parsed.body.toString(), 'hi');
    assert.equal(parsed.complete, true);
  });

  it('tolerates bare LF, a missing reason phrase and a cut-off head', () => {
    assert.equal(response('HTTP/1.0 200\nServer: x\n\nbody')?.headers.get('server'), 'x');
    const cut = response('HTTP/1.1 200 OK\r\nX-A: 1\r\nX-B: 2', false);
    assert.equal(cut?.status, 200);
    assert.equal(cut.complete, false);
    assert.equal(response('SSH-2.0-OpenSSH_9.2\r\n'), undefined);
  });

  it('de-chunks bodies and knows when a response is whole', () => {
    const chunked =
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n2\r\nef\r\n0\r\n\r\n';
    assert.equal(response(chunked)?.body.toString(), 'abcdef');
    assert.equal(responseComplete(Buffer.from(chunked)), true);
    assert.equal(responseComplete(Buffer.from(chunked.slice(0, -12))), false);
    assert.equal(responseComplete(Buffer.from('HTTP/1.1 200 OK\r\n\r\nno length')), false);
    assert.equal(responseComplete(Buffer.from('HTTP/1.1 204 No Content\r\n\r\n')), true);
  });

  it('extracts a collapsed, decoded, bounded title', () => {
    assert.equal(
      extractTitle(Buffer.from('<html><TITLE lang=en>\n  Router &amp;\t Admin </TITLE>')),
      'Router & Admin',
    );
    assert.equal(extractTitle(Buffer.from('<title>Überschrift</title>')), 'Überschrift');
    assert.equal(extractTitle(Buffer.from(`<title>${'x '.repeat(500)}</title>`))?.length, 200);
    assert.equal(extractTitle(Buffer.from('<p>no title</p>')), undefined);
  });

  it('records the captured headers and hashes only real icons', () => {
    const parsed = response(
      'HTTP/1.1 200 OK\r\nServer: Apache\r\nX-Powered-By: PHP/8.2\r\nContent-Length: 20\r\n\r\n<title>Hi</title>...',
    );
    assert.deepEqual(parsed && httpInfo(parsed, 5), {
      status: 200,
      server: 'Apache',
      poweredBy: 'PHP/8.2',
      title: 'Hi',
      faviconHash: 5,
    });
    assert.equal(
      faviconHashOf(response('HTTP/1.1 404 Not Found\r\nContent-Length: 1\r\n\r\nx')),
      undefined,
    );
    assert.equal(
      faviconHashOf(
        response('HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 1\r\n\r\nx'),
      ),
      undefined,
    );
    assert.equal(
      typeof faviconHashOf(response('HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx')),
      'number',
    );
  });

  it('builds the Host header from name or address', () => {
    assert.equal(hostHeader({ ip: '10.0.0.1', port: 80 }, false), '10.0.0.1');
    assert.equal(hostHeader({ ip: '10.0.0.1', port: 443 }, false), '10.0.0.1:443');
    assert.equal(
      hostHeader({ ip: '::1', port: 8443, hostname: 'a.example' }, true),
      'a.example:8443',
    );
    assert.equal(hostHeader({ ip: '::1', port: 443 }, true), '[::1]');
  });
});
