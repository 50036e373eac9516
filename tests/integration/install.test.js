'use strict';
// make install into a temporary DESTDIR: the FHS layout, the units and
// settings filled in for PREFIX, settings kept on a second install, and
// the installed programs, migrations and pages serving one exchange.

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { startStack, freePort, request, runProgram, sleep } = require('./stack');
const { connectReady, api, handshake, handlerPids, newCustomer, newAgent } = require('./ws-client');
const {
  account, canServeAs, readEnvFile, readUnit, listening, run, stop, startUnit, startDebianLighttpd, startDebianApache,
} = require('./deployed');

const ROOT = path.resolve(__dirname, '..', '..');
const PREFIX = '/opt/chat';

// make install with these variables (DESTDIR and PREFIX, say) and no other
// CHAT_* setting than theirs.
async function makeInstall(vars) {
  const env = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('CHAT_') || k === 'MAKEFLAGS' || k === 'MAKELEVEL') delete env[k];
  Object.assign(env, vars);
  const r = await runProgram('make', ['--no-print-directory', 'install'], undefined, { cwd: ROOT, env });
  return { code: r.code, out: r.stdout + r.stderr };
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
    const r = await makeInstall({ DESTDIR: dest, PREFIX });
    assert.equal(r.code, 0, r.out);
    const root = (p) => path.join(dest, p);
    for (const p of [`${PREFIX}/bin/chatctl`, `${PREFIX}/lib/chat/chat-api`, `${PREFIX}/lib/chat/chat-authorizer`,
      `${PREFIX}/lib/chat/chat-ws`, `${PREFIX}/lib/chat/chat-mail`]) {
      assert.ok(fs.statSync(root(p)).mode & 0o111, `${p} is executable`);
    }
    assert.deepEqual(fs.readdirSync(root(`${PREFIX}/share/chat/sql`)), fs.readdirSync(path.join(ROOT, 'sql')));
    assert.ok(fs.existsSync(root(`${PREFIX}/share/chat/www/index.html`)));
    const unit = fs.readFileSync(root(`${PREFIX}/lib/systemd/system/chat-websocketd.service`), 'utf8');
    assert.match(unit, /^User=www-data$/m);
    assert.match(unit, /^EnvironmentFile=\/etc\/chat\/chat\.env$/m);
    assert.match(unit, /--passenv=\S+ \/opt\/chat\/lib\/chat\/chat-ws$/m);
    // websocketd hands chat-ws only what --passenv names: every setting read,
    // but the SMTP login, which only the mail sender needs.
    const passed = /--passenv=(\S+)/.exec(unit)[1].split(',');
    const secret = ['CHAT_SMTP_USER', 'CHAT_SMTP_PASSWORD'];
    for (const f of fs.readdirSync(path.join(ROOT, 'lib')).filter((n) => n.endsWith('.c'))) {
      for (const m of fs.readFileSync(path.join(ROOT, 'lib', f), 'utf8').matchAll(/"(CHAT_[A-Z_]+)"/g)) {
        if (secret.includes(m[1])) {
          assert.ok(!passed.includes(m[1]), `${m[1]} is kept from chat-ws`);
          continue;
        }
        assert.ok(passed.includes(m[1]), `${m[1]} (lib/${f}) is in chat-websocketd's --passenv`);
      }
    }
    // Without malloc's per-thread cache an idle chat-ws hands its heap back.
    assert.match(unit, /^Environment=GLIBC_TUNABLES=glibc\.malloc\.tcache_count=0$/m);
    assert.ok(passed.includes('GLIBC_TUNABLES'), 'GLIBC_TUNABLES is in chat-websocketd\'s --passenv');
    assert.doesNotMatch(unit, /@[A-Z_]+@/);
    const env = fs.readFileSync(root('/etc/chat/chat.env'), 'utf8');
    assert.match(env, /^CHAT_DB=\/var\/lib\/chat\/chat\.db$/m);
    assert.match(env, /^CHAT_SQL_DIR=\/opt\/chat\/share\/chat\/sql$/m);
    assert.match(fs.readFileSync(root('/etc/logrotate.d/chat'), 'utf8'), /^\/var\/log\/chat\/\*\.log \{$/m);
    assert.match(env, /^CHAT_API_SOCKET=\/run\/chat\/api\.sock$/m);
    // The mail settings as examples; the file may come to hold the SMTP password.
    assert.match(env, /^#CHAT_SMTP_URL=smtp:\/\/localhost:25$/m);
    assert.match(env, /^#CHAT_SMTP_PASSWORD=/m);
    assert.equal(fs.statSync(root('/etc/chat/chat.env')).mode & 0o007, 0, 'chat.env is not readable by every user');
    const mailUnit = fs.readFileSync(root(`${PREFIX}/lib/systemd/system/chat-mail.service`), 'utf8');
    assert.match(mailUnit, /^ExecStart=\/opt\/chat\/lib\/chat\/chat-mail$/m);
    assert.match(mailUnit, /^ExecStartPre=\/opt\/chat\/lib\/chat\/chat-mail --check$/m);
    assert.match(mailUnit, /^EnvironmentFile=\/etc\/chat\/chat\.env$/m);
    assert.match(mailUnit, /^User=www-data$/m);
    assert.doesNotMatch(mailUnit, /@[A-Z_]+@/);
    assert.ok(fs.statSync(root('/var/lib/chat')).isDirectory());

    // The web servers' configurations, filled in for the same paths and ports.
    const conf = (name) => fs.readFileSync(root(`${PREFIX}/share/chat/server-config/${name}`), 'utf8');
    const lighttpd = conf('lighttpd-chat.conf');
    const apache = conf('apache-chat.conf');
    for (const text of [lighttpd, apache]) assert.doesNotMatch(text, /@[A-Z_]+@/);
    assert.match(lighttpd, /^\$HTTP\["host"\] =~ "\^localhost\(:\[0-9\]\+\)\?\$" \{$/m);
    assert.match(lighttpd, /"socket" => "\/run\/chat\/api\.sock"/);
    assert.match(lighttpd, /"port" => 9001,/);
    assert.match(lighttpd, /^ {4}var\.chat_ws_port = 8081$/m);
    assert.match(lighttpd, /^ {4}include "\/opt\/chat\/share\/chat\/server-config\/lighttpd-chat-site\.conf"$/m);
    assert.match(apache, /^Define CHAT_API_SOCKET "\/run\/chat\/api\.sock"$/m);
    assert.match(apache, /^AuthnzFcgiDefineProvider authn chat_ws_check fcgi:\/\/127\.0\.0\.1:9001\/$/m);
    assert.match(apache, /^<VirtualHost \*:80>$/m);
    assert.equal(conf('lighttpd-chat-site.conf'), fs.readFileSync(path.join(ROOT, 'server-config/lighttpd-chat-site.conf'), 'utf8'));
    assert.equal(conf('apache-chat-site.conf'), fs.readFileSync(path.join(ROOT, 'server-config/apache-chat-site.conf'), 'utf8'));

    // A second install keeps the administrator's settings, and the web
    // servers' configurations follow the ports and socket they name.
    fs.appendFileSync(root('/etc/chat/chat.env'), 'CHAT_LOG_LEVEL=debug\n');
    fs.writeFileSync(root('/etc/chat/chat.env'), fs.readFileSync(root('/etc/chat/chat.env'), 'utf8')
      .replace(/^CHAT_WS_PORT=.*$/m, 'CHAT_WS_PORT=8099').replace(/^CHAT_API_SOCKET=.*$/m, 'CHAT_API_SOCKET=/srv/chat.sock'));
    const again = await makeInstall({ DESTDIR: dest, PREFIX, CHAT_WS_PORT: '7000' });
    assert.equal(again.code, 0, again.out);
    assert.match(fs.readFileSync(root('/etc/chat/chat.env'), 'utf8'), /CHAT_LOG_LEVEL=debug\n$/);
    assert.match(conf('lighttpd-chat.conf'), /^ {4}var\.chat_ws_port = 8099$/m);
    assert.match(conf('lighttpd-chat.conf'), /"socket" => "\/srv\/chat\.sock"/);
    assert.match(conf('apache-chat.conf'), /^Define CHAT_WS_PORT 8099$/m);
    assert.match(conf('apache-chat.conf'), /^Define CHAT_API_SOCKET "\/srv\/chat\.sock"$/m);
  });

  it('the installed tree serves the pages and a message exchange', async () => {
    const root = (p) => path.join(dest, p);
    assert.ok(fs.existsSync(root(`${PREFIX}/bin/chatctl`)), 'installed by the test before');
    // server-config/run takes its programs from one directory.
    const programs = path.join(dest, 'programs');
    fs.mkdirSync(programs);
    for (const p of ['chat-api', 'chat-authorizer', 'chat-ws', 'chat-mail']) {
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
    await customerToAgent(stack, customer, c, a, 'from the installed tree');
    await a.close();
    await c.close();
  });
});

describe('make install: the installed units and web server configurations in production', () => {
  // Everything under one temporary directory standing for /: PREFIX, /etc,
  // /var and /run, installed without DESTDIR, so that the installed files
  // name their real paths and run as they are.
  let top;
  const procs = [];

  before(() => {
    top = fs.mkdtempSync(path.join(os.tmpdir(), 'chat-deployed-'));
    fs.chmodSync(top, 0o755); // the units' and web servers' user walks through it
  });
  after(async () => {
    for (const p of procs.reverse()) await stop(p);
    if (top) fs.rmSync(top, { recursive: true, force: true });
  });

  it('refuses a bad host name or port with the variable named', async () => {
    const dest = path.join(top, 'refused');
    for (const [vars, msg] of [
      [{ SERVER_NAME: 'two words' }, /SERVER_NAME: "two words" is not a host name/],
      [{ HTTP_PORT: '0' }, /HTTP_PORT: "0" is not a port/],
      [{ CHAT_WS_PORT: '70000' }, /CHAT_WS_PORT: "70000" is not a port/],
      [{ CHAT_API_SOCKET: 'api.sock' }, /CHAT_API_SOCKET: "api.sock" is not an absolute path/],
      [{ SYSCONFDIR: '/etc/my chat' }, /SYSCONFDIR: "\/etc\/my chat" is not an absolute path without spaces/],
    ]) {
      const r = await makeInstall({ DESTDIR: dest, PREFIX, ...vars });
      assert.notEqual(r.code, 0, r.out);
      assert.match(r.out, msg);
    }
    assert.equal(fs.existsSync(path.join(dest, 'etc', 'chat', 'chat.env')), false);
  });

  it('the units run as written and Debian\'s lighttpd and Apache serve the chat with the installed configurations', async (t) => {
    // Run as root, the units and both servers serve as www-data (see tests/run-all).
    if (!canServeAs('www-data')) {
      t.skip('user www-data cannot read /usr/lib/apache2/modules (is / private to root?)');
      return;
    }
    const [lighttpdPort, apachePort, wsPort, authPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
    const dirs = {
      PREFIX: path.join(top, 'usr'), SYSCONFDIR: path.join(top, 'etc'), LOCALSTATEDIR: path.join(top, 'var'),
      RUNSTATEDIR: path.join(top, 'run'), UNITDIR: path.join(top, 'units'),
    };
    const r = await makeInstall({ DESTDIR: '', ...dirs, SERVER_NAME: '127.0.0.1', HTTP_PORT: String(apachePort),
      CHAT_WS_PORT: String(wsPort), CHAT_AUTHORIZER_PORT: String(authPort) });
    assert.equal(r.code, 0, r.out);
    const units = ['chat-api', 'chat-authorizer', 'chat-websocketd', 'chat-mail'].map((u) => path.join(dirs.UNITDIR, `${u}.service`));
    const share = path.join(dirs.PREFIX, 'share', 'chat');

    // systemd's own check of the unit files: keys, commands, users.
    const verify = run('systemd-analyze', ['verify', ...units]);
    assert.equal(verify.status, 0, verify.out);
    assert.doesNotMatch(verify.out, /chat-/, verify.out);

    // The database, created as README.md says, by the units' user.
    const settings = readEnvFile(path.join(dirs.SYSCONFDIR, 'chat', 'chat.env'));
    const user = readUnit(units[0]).User;
    const chatctl = (args, stdin) => runProgram(path.join(dirs.PREFIX, 'bin', 'chatctl'), args, stdin,
      { env: { PATH: process.env.PATH, ...settings }, ...account(user) });
    // A setting an administrator adds reaches every program, chat-ws too.
    fs.appendFileSync(path.join(dirs.SYSCONFDIR, 'chat', 'chat.env'), 'CHAT_DB_SYNC=full\n');
    settings.CHAT_DB_SYNC = 'full';
    const migrated = await chatctl(['migrate']);
    assert.equal(migrated.code, 0, migrated.stderr);

    procs.push(await startUnit(units[0], dirs.RUNSTATEDIR, (s) => fs.existsSync(s.CHAT_API_SOCKET)));
    procs.push(await startUnit(units[1], dirs.RUNSTATEDIR, (s) => listening(Number(s.CHAT_AUTHORIZER_PORT))));
    procs.push(await startUnit(units[2], dirs.RUNSTATEDIR, (s) => listening(Number(s.CHAT_WS_PORT))));
    // The mail sender as its unit runs it: with mail not configured it
    // starts, says so in the log and keeps running.
    const mailer = await startUnit(units[3], dirs.RUNSTATEDIR,
      (s) => fs.existsSync(s.CHAT_LOG_FILE) && fs.readFileSync(s.CHAT_LOG_FILE, 'utf8').includes('chat-mail info - started; mail is off'));
    procs.push(mailer);
    await sleep(300);
    assert.equal(mailer.exited, null, `chat-mail ended: ${mailer.output}`);
    const socketMode = fs.statSync(settings.CHAT_API_SOCKET).mode & 0o777;
    assert.equal(socketMode & 0o007, 0, `the API socket is not open to every user (mode ${socketMode.toString(8)})`);

    const site = (port) => ({ port, db: settings.CHAT_DB, request: (m, p, o) => request(port, m, p, o), chatctl });
    const www = path.join(share, 'www');

    await t.test('behind Debian\'s lighttpd (lighty-enable-mod chat)', async () => {
      const lighttpd = await startDebianLighttpd(top, lighttpdPort, path.join(share, 'server-config', 'lighttpd-chat.conf'));
      procs.push(lighttpd);
      // The dependencies named in the file's first line come with it.
      for (const mod of ['setenv', 'fastcgi', 'proxy', 'rewrite']) assert.match(lighttpd.enableOutput, new RegExp(`Met dependency: ${mod}`));
      await exercise(site(lighttpdPort), www, (pid) => {
        const env = fs.readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
        assert.ok(env.includes('CHAT_DB_SYNC=full'), 'chat-ws has the settings of chat.env');
      });
      // Another host name of the same server is not the chat.
      const other = await request(lighttpdPort, 'GET', '/login', { headers: { host: 'other.example' } });
      assert.notEqual(other.status, 200);
      await stop(lighttpd);
    });

    await t.test('behind Debian\'s Apache (a2enmod, a2ensite chat)', async () => {
      const apache = await startDebianApache(top, apachePort, path.join(share, 'server-config', 'apache-chat.conf'));
      procs.push(apache);
      await exercise(site(apachePort), www);
      await stop(apache);
    });
  });
});

// A new session of the customer (client c), whose first message the agent
// (client a) gets as acked; resolves with the session's id.
async function customerToAgent(site, customer, c, a, text) {
  const s = await api(site, 'POST', '/api/v1/sessions', { token: customer.token, body: {} });
  assert.equal(s.status, 201);
  c.send({ type: 'message', sessionId: s.json.id, text, clientMsgId: 'first' });
  const ack = await c.nextType('ack');
  const got = await a.nextType('message');
  assert.equal(got.message.id, ack.message.id);
  assert.equal(got.message.text, text);
  return s.json.id;
}

// What each web server must do with the installed chat: the pages with their
// headers and caching, the handshake refused before any upgrade, the API with
// the Authorization header, and messages both ways over the WebSocket.
async function exercise(site, www, checkHandler = () => {}) {
  const page = await site.request('GET', '/');
  assert.equal(page.status, 200);
  assert.equal(page.body, fs.readFileSync(path.join(www, 'index.html'), 'utf8'));
  assert.match(page.headers['content-security-policy'], /frame-ancestors \*/);
  assert.equal(page.headers['cache-control'], 'no-cache');
  assert.ok(page.headers.etag, 'an ETag to revalidate with');
  const unchanged = await site.request('GET', '/', { headers: { 'if-none-match': page.headers.etag } });
  assert.equal(unchanged.status, 304);
  const login = await site.request('GET', '/login');
  assert.equal(login.status, 200);
  assert.equal(login.body, fs.readFileSync(path.join(www, 'login.html'), 'utf8'));
  assert.match(login.headers['content-security-policy'], /frame-ancestors 'none'/);

  const refused = await handshake(site, '?token=not-a-token');
  assert.equal(refused.upgraded, false);
  assert.equal(refused.status, 401);
  assert.equal(refused.headers['x-websocket-error-code'], 'TOKEN_EXPIRED');
  assert.match(refused.headers['content-type'], /^application\/json/);
  assert.equal(JSON.parse(refused.body).error.code, 'TOKEN_EXPIRED');

  const customer = await newCustomer(site);
  const me = await api(site, 'GET', '/api/v1/me', { token: customer.token });
  assert.equal(me.status, 200, 'the Authorization header reaches the API');
  const agent = await newAgent(site, 'deployed');
  const a = (await connectReady(site, agent.token)).client;
  const c = (await connectReady(site, customer.token)).client;
  const handlers = handlerPids(site.db);
  assert.equal(handlers.length, 2, 'a chat-ws for each connection');
  for (const pid of handlers) checkHandler(pid);
  const sessionId = await customerToAgent(site, customer, c, a, 'hello from production');
  a.send({ type: 'message', sessionId, text: 'and back', clientMsgId: 'p-2' });
  assert.equal((await c.nextType('message')).message.text, 'and back');
  await a.close();
  await c.close();
}
