'use strict';
// A WebSocket lives as long as its client, whichever web server it passes
// through (lighttpd, or Apache with SERVER=apache): it carries any number of
// bytes either way, and the configurations keep an idle one open for hours.
// Waiting out the servers' idle timeouts would take too long, so the
// settings that lift them are read from the configurations the servers are
// given: the demo's, as server-config/run fills it in, and the production
// ones setup/install writes.

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const http2 = require('node:http2');
const os = require('node:os');
const path = require('node:path');
const { ROOT, BUILD_DIR, startStack, runProgram } = require('./stack');
const { connectReady, api, newCustomer } = require('./ws-client');
const { textFrame, frameReader, connectStream } = require('./ws-frames');

const SERVER = process.env.SERVER === 'apache' ? 'apache' : 'lighttpd';
const MIB = 1024 * 1024;
// More than lighttpd's old cap (the demo's server.max-request-size, 4 MiB)
// many times over, and than any buffer on the way.
const BULK = 64 * MIB;
// Frames sent and not yet answered, at most: enough to keep the pipes
// busy, and their answers far fewer bytes than the handler queues for a
// client before it calls it a slow consumer (1 MiB).
const WINDOW = 32;
const ANSWER_MS = 10000;
const HTTP2_MS = 60000;
// A ping is the cheapest frame to send (the handler answers a pong and
// stores nothing); the pad makes it nearly as large as a frame may be (64 KiB).
const PADDED_PING = JSON.stringify({ type: 'ping', pad: 'x'.repeat(60000) });
// The longest message text (4000 characters), at two bytes a character:
// its ack echoes it, so acks carry as much back as messages carry out.
const LONG_TEXT = '\u00e9'.repeat(4000);
// The least silence a WebSocket must survive in both servers' settings.
const IDLE_AT_LEAST = 4 * 3600;
// lighttpd keeps its idle timeouts in an unsigned short: larger values
// wrap around silently (86400 becomes 20864).
const LIGHTTPD_SHORT_MAX = 65535;

/**
 * Send frames made by frame(i) on a ws-client connection, at most WINDOW
 * of them unanswered, until done({sent, received}) holds (bytes of the
 * frames' text each way, as the client sent and received them), then wait
 * for the answers still due. Resolves with the counts; rejects at once if
 * the connection closes, saying after how many bytes.
 */
async function pump(client, frame, isAnswer, done) {
  const count = { sent: 0, received: 0 };
  const onMessage = (data) => { count.received += data.length; };
  client.ws.on('message', onMessage);
  let onClose;
  const closed = new Promise((resolve, reject) => {
    onClose = (code, reason) => reject(new Error(`the WebSocket closed (${code} ${reason}) ` +
      `after ${count.sent} bytes sent and ${count.received} received`));
    client.ws.once('close', onClose);
  });
  closed.catch(() => {});
  try {
    let unanswered = 0;
    for (let i = 0; ;) {
      while (unanswered < WINDOW && !done(count)) {
        const text = frame(i++);
        client.send(text);
        count.sent += Buffer.byteLength(text);
        unanswered += 1;
      }
      if (unanswered === 0) break;
      const answer = client.next(isAnswer, ANSWER_MS).catch(() => {
        throw new Error(`no answer within ${ANSWER_MS} ms after ${count.sent} bytes sent and ${count.received} received`);
      });
      answer.catch(() => {});
      const f = await Promise.race([answer, closed]);
      assert.notEqual(f.type, 'error', `answered ${JSON.stringify(f)}`);
      unanswered -= 1;
      client.frames.length = 0; // every frame is kept otherwise: 64 MiB of them
    }
  } finally {
    client.ws.off('message', onMessage);
    client.ws.off('close', onClose);
  }
  return count;
}

/** The connection still works: a ping is answered with a pong. */
async function assertAlive(client) {
  client.send({ type: 'ping' });
  const pong = await client.next((f) => f.type === 'pong' || f.type === 'error', ANSWER_MS);
  assert.equal(pong.type, 'pong', JSON.stringify(pong));
  assert.equal(client.closed, null);
}

// ---------------------------------------------------------------------------
// The WebSocket over HTTP/2 (RFC 8441), as browsers open it where lighttpd
// offers it: lighttpd counts the bytes of each stream, not of the connection.

/**
 * Over one HTTP/2 stream, send padded pings until more than `bytes` went
 * out, then a plain one; resolves with the bytes sent once every ping got
 * its pong, rejects if the stream ends first.
 */
function pumpHttp2(port, token, bytes) {
  const session = http2.connect(`http://127.0.0.1:${port}`);
  return new Promise((resolve, reject) => {
    let sent = 0;
    let pings = 0;
    let pongs = 0;
    let finished = false;
    let timer = null;
    const fail = (err) => { clearTimeout(timer); session.destroy(); reject(err); };
    timer = setTimeout(() => fail(new Error(`not done in ${HTTP2_MS} ms: ${sent} bytes sent, ${pongs} pongs`)),
      HTTP2_MS);
    session.on('error', fail);
    const stream = connectStream(session, port, token);
    stream.on('error', fail);
    stream.on('close', () => {
      if (!finished) fail(new Error(`the stream closed after ${sent} bytes sent and ${pongs} pongs`));
    });
    stream.on('data', frameReader((f) => {
      if (f.type === 'error') fail(new Error(`answered ${JSON.stringify(f)}`));
      if (f.type !== 'pong') return;
      pongs += 1;
      if (pongs === pings && sent > bytes) {
        finished = true;
        clearTimeout(timer);
        stream.close();
        session.close();
        resolve(sent);
      }
    }));
    stream.once('response', (headers) => {
      if (headers[':status'] !== 200) return fail(new Error(`status ${headers[':status']}`));
      // HTTP/2 flow control paces the writes; the pongs are counted at the end.
      const write = () => {
        while (sent <= bytes) {
          pings += 1;
          sent += Buffer.byteLength(PADDED_PING);
          if (!stream.write(textFrame(PADDED_PING))) return stream.once('drain', write);
        }
        pings += 1;
        stream.write(textFrame(JSON.stringify({ type: 'ping' })));
        return undefined;
      };
      return write();
    });
  });
}

let stack;

// No message rate limit: the acks carry the bytes back.
before(async () => { stack = await startStack({ CHAT_WS_RATE: '0' }); });
after(async () => { if (stack) await stack.stop(); });

describe(`a WebSocket through ${SERVER}`, () => {
  it('carries more than 64 MiB from the client and still answers a ping', async () => {
    const customer = await newCustomer(stack);
    const { client } = await connectReady(stack, customer.token);
    const count = await pump(client, () => PADDED_PING, (f) => f.type === 'pong' || f.type === 'error',
      (c) => c.sent > BULK);
    assert.ok(count.sent > BULK, `${count.sent} bytes sent`);
    await assertAlive(client);
    await client.close();
  });

  it('carries more than 64 MiB each way (long messages and their acks) and still answers a ping', async () => {
    const customer = await newCustomer(stack);
    const { client } = await connectReady(stack, customer.token);
    const s = await api(stack, 'POST', '/api/v1/sessions', { token: customer.token, body: {} });
    assert.equal(s.status, 201, JSON.stringify(s.json));
    const message = (i) => JSON.stringify({ type: 'message', sessionId: s.json.id, text: LONG_TEXT,
      clientMsgId: `long-${i}` });
    const count = await pump(client, message, (f) => f.type === 'ack' || f.type === 'error',
      (c) => c.sent > BULK && c.received > BULK);
    assert.ok(count.received > BULK, `${count.received} bytes received`);
    assert.ok(count.sent > BULK, `${count.sent} bytes sent`);
    await assertAlive(client);
    await client.close();
  });

  it('carries more than 64 MiB over HTTP/2 too', { skip: SERVER === 'apache' && 'Apache serves no HTTP/2 here' },
    async () => {
      const customer = await newCustomer(stack);
      const sent = await pumpHttp2(stack.port, customer.token, BULK);
      assert.ok(sent > BULK, `${sent} bytes sent`);
    });
});

// ---------------------------------------------------------------------------
// The settings, in the configurations the servers are given.

/** The command line of the web server in process group pgid. */
function serverArgv(pgid) {
  const name = SERVER === 'apache' ? 'apache2' : 'lighttpd';
  for (const pid of fs.readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      const pgrp = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
      const argv = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      if (pgrp === pgid && path.basename(argv[0]) === name) return argv;
    } catch (e) { /* gone already */ }
  }
  throw new Error(`no ${name} in process group ${pgid}`);
}

/** The file given to the server with -f. */
function configFile(argv) {
  const i = argv.indexOf('-f');
  assert.ok(i > 0, `no -f in ${argv.join(' ')}`);
  return argv[i + 1];
}

/**
 * The settings of lighttpd's blocks whose condition is on /ws/chat or on
 * /api/, as lighttpd itself parses FILE (lighttpd -p: includes read,
 * variables replaced): {ws: {name: value}, api: {...}, wsProxy: text of
 * the proxy.server entry for /ws/chat}.
 */
async function lighttpdSettings(file) {
  const r = await runProgram('lighttpd', ['-p', '-f', file]);
  assert.equal(r.code, 0, `lighttpd -p -f ${file}: ${r.stderr}`);
  const blocks = { ws: {}, api: {} };
  let inside = null;
  for (const line of r.stdout.split('\n')) {
    const open = /^\s*\$HTTP\["url"\] (=~|=\^|==) "\^?\/(ws\/chat|api\/)/.exec(line);
    if (open) { inside = open[2] === 'api/' ? 'api' : 'ws'; continue; }
    if (/^\s*\$|^\s*\}/.test(line)) { inside = null; continue; }
    const setting = /^\s*(server\.[a-z-]+)\s*=\s*(.+)$/.exec(line);
    if (inside && setting) blocks[inside][setting[1]] = setting[2];
  }
  const proxy = /"\/ws\/chat" => \(\s*\(([^)]*)\)/.exec(r.stdout.slice(r.stdout.indexOf('proxy.server')));
  assert.ok(proxy, `no proxy.server entry for /ws/chat in\n${r.stdout}`);
  blocks.wsProxy = proxy[1];
  return blocks;
}

function assertLighttpd(s, where) {
  assert.equal(s.ws['server.max-request-size'], '0',
    `${where}: the WebSocket's bytes are not limited (0), lighttpd counts them all as one request body`);
  for (const name of ['server.max-read-idle', 'server.max-write-idle']) {
    const v = Number(s.ws[name]);
    assert.ok(v >= IDLE_AT_LEAST && v <= LIGHTTPD_SHORT_MAX,
      `${where}: ${name} for /ws/chat is ${s.ws[name]}, not ${IDLE_AT_LEAST}..${LIGHTTPD_SHORT_MAX}`);
  }
  // The REST API keeps a limit, larger than its own (CHAT_MAX_BODY), so
  // that the API answers with its JSON 413.
  const api = Number(s.api['server.max-request-size']);
  assert.ok(api * 1024 > 65536, `${where}: server.max-request-size for /api/ is ${s.api['server.max-request-size']}`);
  // No timeout on the connection to websocketd (none is the default).
  assert.doesNotMatch(s.wsProxy, /"(read|write)-timeout" => [1-9]/, `${where}: proxy.server /ws/chat`);
}

/** FILE's text and that of every file it Includes, in order. */
function apacheText(file) {
  const text = fs.readFileSync(file, 'utf8');
  // The chat's Include paths name no variable.
  return text.replace(/^\s*Include(?:Optional)?\s+"?([^"\s]+)"?\s*$/gm, (line, inc) => apacheText(inc));
}

/** The directives of a <Location "PATH"> block (comments left out). */
function apacheLocation(text, where) {
  const re = new RegExp(`<Location "${where.replace(/[/.]/g, '\\$&')}">([\\s\\S]*?)</Location>`);
  const m = re.exec(text);
  assert.ok(m, `no <Location "${where}">`);
  return m[1].split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
}

function assertApache(text, where) {
  const ws = apacheLocation(text, '/ws/chat');
  const pass = ws.find((l) => l.startsWith('ProxyPass '));
  assert.ok(pass, `${where}: no ProxyPass in <Location "/ws/chat">`);
  assert.match(pass, /\supgrade=websocket(\s|$)/, `${where}: ${pass}`);
  // The tunnel ends after the larger of Timeout and this worker's timeout
  // without a byte either way.
  const timeout = /\stimeout=(\d+)(\s|$)/.exec(pass);
  assert.ok(timeout && Number(timeout[1]) >= IDLE_AT_LEAST, `${where}: ${pass} has no timeout=${IDLE_AT_LEAST} or more`);
  assert.match(pass, /\sconnectiontimeout=\d+(\s|$)/, `${where}: ${pass}: the connect keeps a short timeout`);
  // Nothing shortens it inside the location.
  for (const d of ws) assert.doesNotMatch(d, /^(ProxyTimeout|Timeout|RequestReadTimeout)\b/i, `${where}: ${d}`);
}

describe(`${SERVER}'s configurations keep a WebSocket for hours`, () => {
  let dir;
  let installed;

  before(async () => {
    // The production configurations, as make install writes them, here
    // into a directory of our own (setup/install only copies what is built).
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'chat-ws-long-'));
    const env = { PATH: process.env.PATH, PREFIX: `${dir}/prefix`, SYSCONFDIR: `${dir}/etc`,
      LOCALSTATEDIR: `${dir}/var`, RUNSTATEDIR: `${dir}/run`, UNITDIR: `${dir}/units`,
      SERVER_NAME: 'chat.example.com' };
    const r = await runProgram(path.join(ROOT, 'setup', 'install'), [BUILD_DIR], undefined, { env });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    installed = `${dir}/prefix/share/chat/server-config`;
  });
  after(() => {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  if (SERVER === 'lighttpd') {
    it('the demo lifts the size limit and the idle timeouts for /ws/chat only', async () => {
      const file = configFile(serverArgv(stack.pid));
      const s = await lighttpdSettings(file);
      assertLighttpd(s, file);
    });

    it('so does the production configuration, within its host', async () => {
      // lighttpd-chat.conf is a part of Debian's lighttpd.conf: give it
      // the modules and document root that one has, and a size limit for
      // the server, which the chat's host must not take for its WebSocket.
      const main = path.join(dir, 'lighttpd.conf');
      fs.writeFileSync(main, [
        'server.modules = ( "mod_access", "mod_fastcgi", "mod_proxy", "mod_setenv", "mod_rewrite" )',
        `server.document-root = "${dir}"`,
        'server.max-request-size = 1024',
        `include "${installed}/lighttpd-chat.conf"`,
        '',
      ].join('\n'));
      const check = await runProgram('lighttpd', ['-tt', '-f', main]);
      assert.equal(check.code, 0, check.stdout + check.stderr);
      assertLighttpd(await lighttpdSettings(main), 'lighttpd-chat.conf');
    });
  } else {
    it('the demo gives the WebSocket\'s tunnel an idle timeout of hours', () => {
      const file = configFile(serverArgv(stack.pid));
      assertApache(apacheText(file), file);
    });

    it('so does the production configuration', () => {
      assertApache(apacheText(`${installed}/apache-chat.conf`), 'apache-chat.conf');
    });
  }
});
