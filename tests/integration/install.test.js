'use strict';
// make install into a temporary DESTDIR: the FHS layout, the units and
// settings filled in for PREFIX, settings kept on a second install, and
// the installed programs, migrations and pages serving one exchange.

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { startStack } = require('./stack');
const { connectReady, api, newCustomer, newAgent } = require('./ws-client');

const ROOT = path.resolve(__dirname, '..', '..');
const PREFIX = '/opt/chat';

function makeInstall(destdir) {
  return new Promise((resolve, reject) => {
    const env = { ...process.env, DESTDIR: destdir, PREFIX };
    for (const k of Object.keys(env)) if (k.startsWith('CHAT_') || k === 'MAKEFLAGS' || k === 'MAKELEVEL') delete env[k];
    const child = spawn('make', ['--no-print-directory', 'install'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { out += d; });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, out }));
  });
}

describe('make install', () => {
  let dest;
  let stack;

  before(async () => {
    dest = fs.mkdtempSync(path.join(os.tmpdir(), 'chat-install-'));
  });
  after(async () => {
    if (stack) await stack.stop();
    if (dest) fs.rmSync(dest, { recursive: true, force: true });
  });

  it('lays out programs, migrations, pages, units, settings and logrotate under PREFIX', async () => {
    const r = await makeInstall(dest);
    assert.equal(r.code, 0, r.out);
    const root = (p) => path.join(dest, p);
    for (const p of [`${PREFIX}/bin/chatctl`, `${PREFIX}/lib/chat/chat-api`, `${PREFIX}/lib/chat/chat-authorizer`,
      `${PREFIX}/lib/chat/chat-ws`]) {
      assert.ok(fs.statSync(root(p)).mode & 0o111, `${p} is executable`);
    }
    assert.deepEqual(fs.readdirSync(root(`${PREFIX}/share/chat/sql`)), fs.readdirSync(path.join(ROOT, 'sql')));
    assert.ok(fs.existsSync(root(`${PREFIX}/share/chat/www/index.html`)));
    const unit = fs.readFileSync(root(`${PREFIX}/lib/systemd/system/chat-websocketd.service`), 'utf8');
    assert.match(unit, /^User=www-data$/m);
    assert.match(unit, /^EnvironmentFile=\/etc\/chat\/chat\.env$/m);
    assert.match(unit, /--passenv=\S+ \/opt\/chat\/lib\/chat\/chat-ws$/m);
    assert.doesNotMatch(unit, /@[A-Z_]+@/);
    const env = fs.readFileSync(root('/etc/chat/chat.env'), 'utf8');
    assert.match(env, /^CHAT_DB=\/var\/lib\/chat\/chat\.db$/m);
    assert.match(env, /^CHAT_SQL_DIR=\/opt\/chat\/share\/chat\/sql$/m);
    assert.match(fs.readFileSync(root('/etc/logrotate.d/chat'), 'utf8'), /^\/var\/log\/chat\/\*\.log \{$/m);
    assert.ok(fs.statSync(root('/var/lib/chat')).isDirectory());

    // A second install keeps the administrator's settings.
    fs.appendFileSync(root('/etc/chat/chat.env'), 'CHAT_LOG_LEVEL=debug\n');
    const again = await makeInstall(dest);
    assert.equal(again.code, 0, again.out);
    assert.match(fs.readFileSync(root('/etc/chat/chat.env'), 'utf8'), /CHAT_LOG_LEVEL=debug\n$/);
  });

  it('the installed tree serves the pages and a message exchange', async () => {
    const root = (p) => path.join(dest, p);
    assert.ok(fs.existsSync(root(`${PREFIX}/bin/chatctl`)), 'installed by the test before');
    // server-config/run takes its programs from one directory.
    const programs = path.join(dest, 'programs');
    fs.mkdirSync(programs);
    for (const p of ['chat-api', 'chat-authorizer', 'chat-ws']) {
      fs.symlinkSync(root(`${PREFIX}/lib/chat/${p}`), path.join(programs, p));
    }
    fs.symlinkSync(root(`${PREFIX}/bin/chatctl`), path.join(programs, 'chatctl'));
    stack = await startStack({ CHAT_BUILD_DIR: programs, CHAT_SQL_DIR: root(`${PREFIX}/share/chat/sql`),
      CHAT_WWW_DIR: root(`${PREFIX}/share/chat/www`) });
    const page = await stack.request('GET', '/');
    assert.equal(page.status, 200);
    assert.equal(page.body, fs.readFileSync(root(`${PREFIX}/share/chat/www/index.html`), 'utf8'));

    const agent = await newAgent(stack, 'installed');
    const a = (await connectReady(stack, agent.token)).client;
    const customer = await newCustomer(stack);
    const c = (await connectReady(stack, customer.token)).client;
    const s = await api(stack, 'POST', '/api/v1/sessions', { token: customer.token, body: {} });
    assert.equal(s.status, 201);
    c.send({ type: 'message', sessionId: s.json.id, text: 'from the installed tree', clientMsgId: 'i-1' });
    const ack = await c.nextType('ack');
    const got = await a.nextType('message');
    assert.equal(got.message.id, ack.message.id);
    assert.equal(got.message.text, 'from the installed tree');
    await a.close();
    await c.close();
  });
});
