'use strict';
// WebSocket frames by hand (RFC 6455 5.2), for the tests that speak it over
// a stream of their own (an HTTP/2 extended CONNECT stream).

const crypto = require('node:crypto');

// One masked client-to-server text frame; payloads < 64 KiB.
function textFrame(text) {
  const payload = Buffer.from(text, 'utf8');
  const head = payload.length < 126 ? Buffer.from([0x81, 0x80 | payload.length])
    : Buffer.from([0x81, 0x80 | 126, payload.length >> 8, payload.length & 0xff]);
  const mask = crypto.randomBytes(4);
  for (let i = 0; i < payload.length; i++) payload[i] ^= mask[i % 4];
  return Buffer.concat([head, mask, payload]);
}

// The server's text frames in a stream of bytes, parsed as JSON, each given
// to onFrame: returns the stream's data handler. Server frames are unmasked.
function frameReader(onFrame) {
  let buf = Buffer.alloc(0);
  return (data) => {
    buf = Buffer.concat([buf, data]);
    for (;;) {
      if (buf.length < 2) return;
      let len = buf[1] & 0x7f;
      let off = 2;
      if (len === 126) {
        if (buf.length < 4) return;
        len = buf.readUInt16BE(2);
        off = 4;
      } else if (len === 127) {
        if (buf.length < 10) return;
        len = Number(buf.readBigUInt64BE(2));
        off = 10;
      }
      if (buf.length < off + len) return;
      if ((buf[0] & 0x0f) === 1) onFrame(JSON.parse(buf.subarray(off, off + len).toString('utf8')));
      buf = buf.subarray(off + len);
    }
  };
}

// Open /ws/chat?token=... as an HTTP/2 extended CONNECT stream (RFC 8441)
// on session (node:http2), to the server on 127.0.0.1:port.
function connectStream(session, port, token) {
  return session.request({
    ':method': 'CONNECT',
    ':protocol': 'websocket',
    ':scheme': 'http',
    ':authority': `127.0.0.1:${port}`,
    ':path': `/ws/chat?token=${encodeURIComponent(token)}`,
    'sec-websocket-version': '13',
  });
}

module.exports = { textFrame, frameReader, connectStream };
