'use strict';
// build/chatctl against temporary databases: migrate, agent add / list /
// disable / enable / passwd, exit codes and one-line error messages.
// What chatctl does to a running server's logins is in auth.test.js.

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { runChatctl } = require('./stack');

let dir;
let db;

before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'chat-test-'));
  db = path.join(dir, 'chat.db');
  const r = await runChatctl(db, ['migrate']);
  assert.equal(r.code, 0, `migrate: ${r.stderr}`);
});

after(() => {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

const ctl = (args, stdin) => runChatctl(db, args, stdin);

/** Exit 0, no error message. */
function assertSuccess(r, what) {
  assert.equal(r.signal, null, `${what}: killed by ${r.signal}`);
  assert.equal(r.code, 0, `${what}: exit ${r.code}, stderr ${JSON.stringify(r.stderr)}`);
}

/** Exit 1 with exactly one non-empty line on standard error, naming `mentions` if given. */
function assertFailure(r, what, mentions) {
  assert.equal(r.signal, null, `${what}: killed by ${r.signal}`);
  assert.equal(r.code, 1, `${what}: exit ${r.code}, stdout ${JSON.stringify(r.stdout)}, stderr ${JSON.stringify(r.stderr)}`);
  assert.match(r.stderr, /^[^\n]+\n$/, `${what}: stderr is not one line: ${JSON.stringify(r.stderr)}`);
  if (mentions !== undefined) {
    assert.ok(r.stderr.includes(mentions), `${what}: stderr does not name ${mentions}: ${JSON.stringify(r.stderr)}`);
  }
}

/** agent list as rows of {id, username, displayName, state, created}. */
async function list() {
  const r = await ctl(['agent', 'list']);
  assertSuccess(r, 'agent list');
  if (r.stdout === '') return [];
  assert.ok(r.stdout.endsWith('\n'), `agent list output does not end a line: ${JSON.stringify(r.stdout)}`);
  return r.stdout.slice(0, -1).split('\n').map((line) => {
    const f = line.split('\t');
    assert.equal(f.length, 5, `agent list line is not 5 tab-separated fields: ${JSON.stringify(line)}`);
    return { id: f[0], username: f[1], displayName: f[2], state: f[3], created: f[4] };
  });
}

async function row(username) {
  return (await list()).find((r) => r.username === username);
}

describe('chatctl migrate', () => {
  it('can be run again on a migrated database', async () => {
    assertSuccess(await ctl(['migrate']), 'second migrate');
    assertSuccess(await ctl(['migrate']), 'third migrate');
  });

  it('creates a new database and leaves it with no agents', async () => {
    const fresh = path.join(dir, 'fresh.db');
    assertSuccess(await runChatctl(fresh, ['migrate']), 'migrate');
    assert.ok(fs.existsSync(fresh));
    const r = await runChatctl(fresh, ['agent', 'list']);
    assertSuccess(r, 'agent list');
    assert.equal(r.stdout, '');
  });

  it('fails with one line when --db is in a directory that does not exist', async () => {
    const missing = path.join(dir, 'no-such-dir', 'chat.db');
    assertFailure(await runChatctl(missing, ['migrate']), 'migrate');
    assertFailure(await runChatctl(missing, ['agent', 'list']), 'agent list');
    assert.ok(!fs.existsSync(path.dirname(missing)));
  });
});

describe('chatctl agent add', () => {
  it('adds an agent that agent list shows as active with its display name', async () => {
    const r = await ctl(['agent', 'add', 'alice', '--display-name', 'Alice Wong'], 'alice password\n');
    assertSuccess(r, 'agent add');
    const a = await row('alice');
    assert.ok(a, 'alice is not listed');
    assert.match(a.id, /^[1-9][0-9]*$/);
    assert.equal(a.displayName, 'Alice Wong');
    assert.equal(a.state, 'active');
    assert.ok(a.created.length > 0, 'no created time');
  });

  it('lists one line per agent with distinct ids', async () => {
    assertSuccess(await ctl(['agent', 'add', 'bob'], 'bob password\n'), 'agent add bob');
    assertSuccess(await ctl(['agent', 'add', 'x.y_z-9'], 'xyz password\n'), 'agent add x.y_z-9');
    const rows = await list();
    const names = rows.map((r) => r.username);
    for (const n of ['alice', 'bob', 'x.y_z-9']) assert.ok(names.includes(n), `${n} is not listed`);
    assert.equal(new Set(rows.map((r) => r.id)).size, rows.length);
    assert.equal(new Set(names).size, rows.length);
  });

  it('accepts a 64-character username and passwords of 8 and 1024 bytes', async () => {
    assertSuccess(await ctl(['agent', 'add', 'u'.repeat(64)], `${'p'.repeat(8)}\n`), '64-character username');
    assertSuccess(await ctl(['agent', 'add', 'longpass'], `${'p'.repeat(1024)}\n`), '1024-byte password');
    assert.ok(await row('u'.repeat(64)));
    assert.ok(await row('longpass'));
  });

  it('refuses a username that is taken', async () => {
    assertFailure(await ctl(['agent', 'add', 'alice'], 'another password\n'), 'duplicate add', 'alice');
    assert.equal((await list()).filter((r) => r.username === 'alice').length, 1);
  });

  it('refuses a username that is taken in another case', async () => {
    assertFailure(await ctl(['agent', 'add', 'ALICE'], 'another password\n'), 'duplicate add in upper case');
    assert.equal(await row('ALICE'), undefined);
  });

  describe('refuses a bad password and adds nothing', () => {
    const cases = [
      ['7 bytes', 'shorty7\n'],
      ['an empty line', '\n'],
      ['no input at all', ''],
      ['1025 bytes', `${'p'.repeat(1025)}\n`],
    ];
    for (const [what, stdin] of cases) {
      it(`of ${what}`, async () => {
        const name = `pw${what.replace(/[^a-z0-9]/g, '')}`;
        assertFailure(await ctl(['agent', 'add', name], stdin), `password of ${what}`);
        assert.equal(await row(name), undefined, `${name} was added`);
      });
    }
  });

  describe('refuses a bad username', () => {
    const cases = [
      ['with a space', 'bad name'],
      ['with a slash', 'a/b'],
      ['with an @', 'a@b'],
      ['of 65 characters', 'u'.repeat(65)],
      ['that is empty', ''],
      ['with a non-ASCII letter', 'zoë'],
    ];
    for (const [what, name] of cases) {
      it(what, async () => {
        assertFailure(await ctl(['agent', 'add', name], 'good password\n'), `username ${what}`);
        assert.equal(await row(name), undefined);
      });
    }
  });
});

describe('chatctl agent disable, enable and passwd', () => {
  before(async () => {
    assertSuccess(await ctl(['agent', 'add', 'carol', '--display-name', 'Carol'], 'carol password\n'), 'agent add carol');
  });

  it('disable and enable switch the state agent list shows', async () => {
    assertSuccess(await ctl(['agent', 'disable', 'carol']), 'disable');
    assert.equal((await row('carol')).state, 'disabled');
    assert.equal((await row('alice')).state, 'active');
    assertSuccess(await ctl(['agent', 'enable', 'carol']), 'enable');
    assert.equal((await row('carol')).state, 'active');
  });

  it('passwd takes a new password from standard input', async () => {
    assertSuccess(await ctl(['agent', 'passwd', 'carol'], 'a new password\n'), 'passwd');
  });

  it('passwd refuses a short password', async () => {
    assertFailure(await ctl(['agent', 'passwd', 'carol'], 'short\n'), 'passwd with a short password');
  });

  describe('fail with one line naming the agent when it does not exist', () => {
    for (const cmd of ['disable', 'enable', 'passwd']) {
      it(`agent ${cmd}`, async () => {
        assertFailure(await ctl(['agent', cmd, 'nosuchagent'], 'some password\n'), `agent ${cmd}`, 'nosuchagent');
      });
    }
  });
});

describe('chatctl usage errors', () => {
  const cases = [
    ['no command', []],
    ['an unknown command', ['frobnicate']],
    ['agent without a subcommand', ['agent']],
    ['an unknown agent subcommand', ['agent', 'frobnicate']],
    ['agent add without a username', ['agent', 'add']],
    ['agent add with two usernames', ['agent', 'add', 'one', 'two']],
    ['agent add with --display-name and no name', ['agent', 'add', 'dora', '--display-name']],
    ['agent add with an unknown option', ['agent', 'add', 'dora', '--color', 'red']],
    ['a display name with a right-to-left override', ['agent', 'add', 'dora', '--display-name', 'Dora\u202eevil']],
    ['a display name of white space only', ['agent', 'add', 'dora', '--display-name', '\u3000 ']],
    ['a display name with a tab', ['agent', 'add', 'dora', '--display-name', 'Do\tra']],
    ['agent disable without a username', ['agent', 'disable']],
    ['agent enable without a username', ['agent', 'enable']],
    ['agent passwd without a username', ['agent', 'passwd']],
  ];
  for (const [what, args] of cases) {
    it(`exit 1 with one line given ${what}`, async () => {
      assertFailure(await ctl(args, 'good password\n'), what);
    });
  }

  it('exit 1 with one line given --db without a path', async () => {
    assertFailure(await runChatctl(null, ['--db']), '--db without a path');
  });

  it('leave the database as it was', async () => {
    for (const n of ['one', 'two', 'dora']) assert.equal(await row(n), undefined, `${n} was added`);
  });
});
