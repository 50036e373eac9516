'use strict';
// Mail, end to end: stacks whose chat-mail sends through a real SMTP
// server of the test's own (smtp-server on a free loopback port, see
// smtp.js), which reads each mail's headers and bodies. A test mail from
// chatctl; the team's "visitor waiting" mail; a reply mailed to a visitor
// who left; STARTTLS and a login; the server down for a while; the sender
// killed mid-queue; a permanent refusal. The mails that REST calls queue
// (transcript, left message, the way back from a follow-up) are at the end.

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const { startStack, runChatctl, sleep } = require('./stack');
const { startSmtp, makeCertificate } = require('./smtp');
const { connectReady, api, newAgent } = require('./ws-client');

const FROM = 'chat@example.com';
const TEAM = 'team@example.com';
const WAIT_MS = 20000;

/** The settings of a stack that mails through smtp. */
function mailEnv(smtp, more = {}) {
  return {
    CHAT_SMTP_URL: `smtp://127.0.0.1:${smtp.port}`,
    CHAT_MAIL_FROM: FROM,
    CHAT_MAIL_TEAM: TEAM,
    CHAT_MAIL_RETRY: '1',
    ...more,
  };
}

/** chatctl mail list --all as rows of {id, kind, to, attempts, next, state, error}. */
async function mailList(stack) {
  const r = await stack.chatctl(['mail', 'list', '--all']);
  assert.equal(r.code, 0, `mail list: ${r.stderr}`);
  return r.stdout.split('\n').filter((l) => l !== '').map((line) => {
    const f = line.split('\t');
    assert.equal(f.length, 7, `mail list line is not 7 tab-separated fields: ${JSON.stringify(line)}`);
    return { id: Number(f[0]), kind: f[1], to: f[2], attempts: Number(f[3]), next: f[4], state: f[5], error: f[6] };
  });
}

/** Wait until pred(rows of mail list) holds. */
async function waitList(stack, pred, what) {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    const rows = await mailList(stack);
    if (pred(rows)) return rows;
    if (Date.now() > deadline) throw new Error(`mail list: no ${what} within ${WAIT_MS} ms: ${JSON.stringify(rows)}`);
    await sleep(100);
  }
}

/** Queue a test mail to `to` with chatctl; returns its queue id. */
async function testMail(stack, to) {
  const r = await stack.chatctl(['mail', 'test', to]);
  assert.equal(r.code, 0, `mail test ${to}: ${r.stderr}`);
  const m = /^mail test: queued mail (\d+) to (\S+);/.exec(r.stdout);
  assert.ok(m, `mail test says what it queued: ${r.stdout}`);
  assert.equal(m[2], to);
  return Number(m[1]);
}

/** The raw header block of a message, unfolded, as [name, value] pairs. */
function rawHeaders(raw) {
  const head = raw.slice(0, raw.indexOf('\r\n\r\n'));
  return head.replace(/\r\n[ \t]/g, ' ').split('\r\n').map((l) => {
    const i = l.indexOf(':');
    return [l.slice(0, i).toLowerCase(), l.slice(i + 1).trim()];
  });
}

/** What RFC 5322 and our MIME promise of every message, raw. */
function assertWellFormed(raw) {
  assert.doesNotMatch(raw.replace(/\r\n/g, ''), /[\r\n]/, 'every line ends in CRLF');
  for (const line of raw.split('\r\n')) {
    assert.ok(line.length <= 78, `a line of ${line.length} characters: ${JSON.stringify(line)}`);
  }
  assert.match(raw, /^[\x20-\x7e\r\n\t]*$/, 'the message is 7-bit ASCII');
  const names = rawHeaders(raw).map(([n]) => n);
  for (const h of ['from', 'to', 'subject', 'date', 'message-id', 'mime-version']) {
    assert.equal(names.filter((n) => n === h).length, 1, `one ${h} header in ${names.join(', ')}`);
  }
}

describe('mail: chatctl mail test', () => {
  let smtp;
  let stack;

  before(async () => {
    smtp = await startSmtp();
    stack = await startStack(mailEnv(smtp, { CHAT_NAME: 'Support 客服 "Ü"' }));
  });
  after(async () => {
    if (stack) await stack.stop();
    if (smtp) await smtp.stop();
  });

  it('sends a test mail from the chat\'s name with Date, Message-ID, a UTF-8 subject, text and HTML', async () => {
    const before = Date.now();
    const id = await testMail(stack, 'admin@example.com');
    await smtp.waitFor((r) => smtp.to('admin@example.com').length === 1, 'test mail');
    const [got] = smtp.to('admin@example.com');
    const { mail, raw } = got;

    assert.equal(got.from, FROM, 'the envelope sender is CHAT_MAIL_FROM');
    assert.deepEqual(got.to, ['admin@example.com']);
    assertWellFormed(raw);
    assert.deepEqual(mail.from.value, [{ name: 'Support 客服 "Ü"', address: FROM }]);
    assert.match(raw, /^From: =\?UTF-8\?B\?/m, 'a name outside ASCII is an encoded-word');
    assert.deepEqual(mail.to.value.map((v) => v.address), ['admin@example.com']);
    assert.equal(mail.subject, 'Test mail from Support 客服 "Ü"');
    assert.match(raw, /^Subject: =\?UTF-8\?B\?/m);
    const date = rawHeaders(raw).find(([n]) => n === 'date')[1];
    assert.match(date, /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} \+0000$/);
    assert.ok(Math.abs(mail.date.getTime() - before) < 60000, `Date ${date} is now`);
    assert.match(mail.messageId, /^<[A-Za-z0-9_-]{43}@example\.com>$/, 'a random Message-ID at the sender\'s domain');
    assert.equal(mail.headers.get('mime-version'), '1.0');
    assert.equal(mail.headers.get('auto-submitted'), 'auto-generated');
    assert.equal(mail.headers.get('content-type').value, 'multipart/alternative');
    assert.match(mail.text, /This is a test mail from Support 客服 "Ü"/);
    assert.match(mail.text, /Grüße, 你好, ✓/);
    assert.match(mail.html, /<p>Text outside ASCII reads as: Grüße, 你好, ✓<\/p>/);
    assert.match(mail.html, /Support 客服 &quot;Ü&quot;/, 'the HTML part escapes what it quotes');

    const rows = await waitList(stack, (r) => r.some((m) => m.id === id && m.state === 'sent'), 'sent test mail');
    const row = rows.find((m) => m.id === id);
    assert.deepEqual({ kind: row.kind, to: row.to, attempts: row.attempts, next: row.next, error: row.error },
      { kind: 'test', to: 'admin@example.com', attempts: 1, next: '-', error: '-' });
  });

  it('refuses an address that is not one, with one line naming it', async () => {
    for (const bad of ['not an address', 'a@b', 'x@example.com\r\nBcc: y@example.com', '']) {
      const r = await stack.chatctl(['mail', 'test', bad]);
      assert.equal(r.code, 1, `mail test ${JSON.stringify(bad)}: ${r.stdout}`);
      assert.match(r.stderr, /^chatctl: mail test: [^\n]*not an email address[^\n]*\n$/);
    }
  });

  it('says clearly when mail is not configured', async () => {
    const off = await stack.chatctl(['mail', 'list']);
    assert.equal(off.code, 0);
    const r = await runOff(stack, ['mail', 'test', 'admin@example.com']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^chatctl: mail test: mail is not configured: set CHAT_SMTP_URL and CHAT_MAIL_FROM[^\n]*\n$/);
    const list = await runOff(stack, ['mail', 'list']);
    assert.equal(list.code, 0);
    assert.match(list.stderr, /mail is not configured/);
  });
});

/** chatctl on the stack's database without the mail settings. */
function runOff(stack, args) {
  return runChatctl(stack.db, args, undefined, {});
}

describe('mail: the team is told of a visitor waiting', () => {
  let smtp;
  let stack;

  before(async () => {
    smtp = await startSmtp();
    stack = await startStack(mailEnv(smtp, {
      CHAT_UNCLAIMED_TIMEOUT: '5',
      CHAT_MAIL_TEAM: `${TEAM}, second@example.com`,
      CHAT_PUBLIC_URL: 'https://chat.example.com/',
    }));
  });
  after(async () => {
    if (stack) await stack.stop();
    if (smtp) await smtp.stop();
  });

  it('mails each team address once when a queued chat is not claimed in CHAT_UNCLAIMED_TIMEOUT', async () => {
    const customer = await stack.createCustomer({ name: 'Zhang <San>', email: 'zhang@example.com' });
    const created = Date.now();
    const s = await api(stack, 'POST', '/api/v1/sessions', {
      token: customer.token,
      body: { subject: 'Where is my order?', context: { url: 'https://shop.example.com/cart', title: 'Cart' } },
    });
    assert.equal(s.status, 201, JSON.stringify(s.json));
    assert.equal(s.json.status, 'queued', 'no agent is online');

    await smtp.waitFor(() => smtp.to(TEAM).length >= 1 && smtp.to('second@example.com').length >= 1, 'team_waiting mails');
    const waited = Date.now() - created;
    assert.ok(waited >= 4500, `mailed after ${waited} ms, before CHAT_UNCLAIMED_TIMEOUT (5 s)`);
    const [mail] = smtp.to(TEAM).map((r) => r.mail);
    assertWellFormed(smtp.to(TEAM)[0].raw);
    assert.equal(mail.subject, `Visitor waiting: Zhang <San> (chat ${s.json.id})`);
    assert.deepEqual(mail.replyTo.value.map((v) => v.address), ['zhang@example.com'], 'a reply goes to the visitor');
    assert.match(mail.text, new RegExp(`Zhang <San> has waited [^\\n]* to take chat ${s.json.id}`));
    assert.match(mail.text, /Email: zhang@example\.com/);
    assert.match(mail.text, /Question: Where is my order\?/);
    assert.match(mail.text, /Page: https:\/\/shop\.example\.com\/cart/);
    assert.match(mail.text, /Page title: Cart/);
    assert.match(mail.text, /https:\/\/chat\.example\.com\/agent/, 'a link to the workbench');
    assert.match(mail.html, /Zhang &lt;San&gt;/, 'the HTML part escapes the name');
    assert.doesNotMatch(mail.html, /<San>/);
    assert.notEqual(smtp.to('second@example.com')[0].mail.messageId, mail.messageId, 'each address its own mail');

    // Once: the session stays queued, and no second mail comes.
    await sleep(2500);
    assert.equal(smtp.to(TEAM).length, 1);
    assert.equal(smtp.to('second@example.com').length, 1);
    const [row] = await stack.query(`SELECT alerted_at FROM sessions WHERE id = ${s.json.id}`);
    assert.ok(row.alerted_at > 0, 'alerted_at is set');
  });

  it('does not mail for a chat an agent took', async () => {
    const agent = await newAgent(stack, 'taker');
    const a = (await connectReady(stack, agent.token)).client;
    const customer = await stack.createCustomer({ name: 'Taken Visitor' });
    const s = await api(stack, 'POST', '/api/v1/sessions', { token: customer.token, body: {} });
    assert.equal(s.status, 201);
    assert.equal(s.json.status, 'active', 'routed to the agent online');
    await sleep(7000);
    assert.equal(smtp.received.filter((r) => r.mail.subject.includes('Taken Visitor')).length, 0);
    await a.close();
  });
});

describe('mail: a reply to a visitor who left', () => {
  let smtp;
  let stack;
  let agent;
  let agentWs;

  before(async () => {
    smtp = await startSmtp();
    stack = await startStack(mailEnv(smtp, {
      CHAT_FOLLOWUP_AFTER: '2',
      CHAT_PUBLIC_URL: 'https://chat.example.com',
      CHAT_NAME: 'Example Support',
    }));
    agent = await newAgent(stack, 'replier');
    agentWs = (await connectReady(stack, agent.token)).client;
  });
  after(async () => {
    if (agentWs) await agentWs.close();
    if (stack) await stack.stop();
    if (smtp) await smtp.stop();
  });

  /** A customer with an address and a session routed to the agent; not connected. */
  async function leftVisitor(name, email) {
    const customer = await stack.createCustomer({ name, email });
    const s = await api(stack, 'POST', '/api/v1/sessions', { token: customer.token, body: { subject: 'A question' } });
    assert.equal(s.status, 201);
    assert.equal(s.json.status, 'active');
    return { customer, sessionId: s.json.id };
  }

  function reply(sessionId, text, clientMsgId) {
    agentWs.send({ type: 'message', sessionId, text, clientMsgId });
    return agentWs.nextType('ack');
  }

  it('mails the replies it did not receive, with a link back, after CHAT_FOLLOWUP_AFTER', async () => {
    const { sessionId } = await leftVisitor('Li Lei', 'lilei@example.com');
    const sent = Date.now();
    await reply(sessionId, 'Your order ships <tomorrow> & arrives Friday.', 'r1');
    await reply(sessionId, '第二条回复', 'r2');
    await smtp.waitFor(() => smtp.to('lilei@example.com').length === 1, 'follow-up');
    assert.ok(Date.now() - sent >= 1800, 'not before CHAT_FOLLOWUP_AFTER');
    const { mail, raw } = smtp.to('lilei@example.com')[0];
    assertWellFormed(raw);
    assert.match(mail.subject, /replied to your message$/);
    assert.deepEqual(mail.from.value, [{ name: 'Example Support', address: FROM }]);
    assert.match(mail.text, /Hello Li Lei, you had left the chat with Example Support when these answers came:/);
    assert.match(mail.text, /Your order ships <tomorrow> & arrives Friday\./);
    assert.match(mail.text, /第二条回复/);
    assert.match(mail.html, /Your order ships &lt;tomorrow&gt; &amp; arrives Friday\./);
    const link = /https:\/\/chat\.example\.com\/#resume=([A-Za-z0-9_-]{43})/.exec(mail.text);
    assert.ok(link, `a link back in ${mail.text}`);
    assert.ok(mail.html.includes(`href="https://chat.example.com/#resume=${link[1]}"`));
    const codes = await stack.query('SELECT hex(hash) AS h FROM resume_codes');
    assert.equal(codes.length, 1, 'one resume code stored');
    assert.ok(!codes[0].h.includes(Buffer.from(link[1]).toString('hex').toUpperCase()), 'only its hash');

    // The next reply comes in a mail of its own; the first two not again.
    await reply(sessionId, 'One more thing.', 'r3');
    await smtp.waitFor(() => smtp.to('lilei@example.com').length === 2, 'second follow-up');
    const second = smtp.to('lilei@example.com')[1].mail;
    assert.match(second.text, /this answer came:/);
    assert.match(second.text, /One more thing\./);
    assert.doesNotMatch(second.text, /Your order ships/);
  });

  it('mails nothing to a visitor who is connected and received the reply', async () => {
    const { customer, sessionId } = await leftVisitor('Han Meimei', 'han@example.com');
    const c = (await connectReady(stack, customer.token)).client;
    await reply(sessionId, 'You are still here.', 'h1');
    assert.equal((await c.nextType('message')).message.text, 'You are still here.');
    await sleep(4500);
    assert.equal(smtp.to('han@example.com').length, 0);
    // Gone now, but the reply had reached them: still nothing.
    await c.close();
    await sleep(3500);
    assert.equal(smtp.to('han@example.com').length, 0);
  });

  it('mails nothing to a visitor without an address', async () => {
    const customer = await stack.createCustomer({ name: 'No Address' });
    const s = await api(stack, 'POST', '/api/v1/sessions', { token: customer.token, body: {} });
    await reply(s.json.id, 'Anyone there?', 'n1');
    await sleep(4500);
    assert.equal(smtp.received.filter((r) => r.mail.text.includes('Anyone there?')).length, 0);
  });
});

describe('mail: STARTTLS and a login', () => {
  let tls;
  let smtp;
  const stacks = [];

  before(async () => {
    tls = makeCertificate();
    smtp = await startSmtp({ tls, login: { user: 'chat-login', password: 'pass word é' } });
  });
  after(async () => {
    for (const s of stacks) await s.stop();
    if (smtp) await smtp.stop();
    if (tls) fs.rmSync(tls.dir, { recursive: true, force: true });
  });

  async function stackWith(more) {
    const s = await startStack(mailEnv(smtp, {
      CHAT_SMTP_URL: `smtp://localhost:${smtp.port}`,
      CHAT_SMTP_CA_FILE: tls.certFile,
      ...more,
    }));
    stacks.push(s);
    return s;
  }

  it('logs in over STARTTLS, checking the server\'s certificate against CHAT_SMTP_CA_FILE', async () => {
    const stack = await stackWith({ CHAT_SMTP_USER: 'chat-login', CHAT_SMTP_PASSWORD: 'pass word é' });
    await testMail(stack, 'tls@example.com');
    await smtp.waitFor(() => smtp.to('tls@example.com').length === 1, 'mail over STARTTLS');
    const got = smtp.to('tls@example.com')[0];
    assert.equal(got.secure, true, 'sent over TLS');
    assert.equal(got.user, 'chat-login');
    assert.ok(smtp.logins.length >= 1);
    assert.ok(smtp.logins.every((l) => l.secure), 'the login went over TLS');
    assert.ok(['PLAIN', 'LOGIN'].includes(smtp.logins[0].method));
  });

  it('keeps a mail waiting, not failed, when the login is refused', async () => {
    const stack = await stackWith({ CHAT_SMTP_USER: 'chat-login', CHAT_SMTP_PASSWORD: 'wrong' });
    const id = await testMail(stack, 'refused-login@example.com');
    const rows = await waitList(stack, (r) => r.some((m) => m.id === id && m.attempts >= 2), 'retried mail');
    const row = rows.find((m) => m.id === id);
    assert.equal(row.state, 'waiting');
    assert.match(row.error, /535/);
    assert.equal(smtp.to('refused-login@example.com').length, 0);
  });

  it('keeps a mail waiting when the certificate is not trusted', async () => {
    const stack = await stackWith({ CHAT_SMTP_CA_FILE: null, CHAT_SMTP_TLS: 'require' });
    const id = await testMail(stack, 'untrusted@example.com');
    const rows = await waitList(stack, (r) => r.some((m) => m.id === id && m.attempts >= 1 && m.error !== '-'), 'tried mail');
    assert.equal(rows.find((m) => m.id === id).state, 'waiting');
    assert.match(rows.find((m) => m.id === id).error, /certificate|SSL/i);
    assert.equal(smtp.to('untrusted@example.com').length, 0);
  });

  it('never sends a login without TLS: CHAT_SMTP_TLS=auto with a login needs STARTTLS', async () => {
    // This server would take a login in the clear: the sender must not offer one.
    const plain = await startSmtp({ login: { user: 'chat-login', password: 'pw' }, insecureAuth: true });
    try {
      const stack = await stackWith({
        CHAT_SMTP_URL: `smtp://127.0.0.1:${plain.port}`, CHAT_SMTP_USER: 'chat-login', CHAT_SMTP_PASSWORD: 'pw',
      });
      const id = await testMail(stack, 'cleartext@example.com');
      await waitList(stack, (r) => r.some((m) => m.id === id && m.attempts >= 1 && m.error !== '-'), 'tried mail');
      assert.equal(plain.logins.length, 0, 'no AUTH reached the server');
      assert.equal(plain.received.length, 0);
    } finally {
      await plain.stop();
    }
  });
});

describe('mail: the server down, the sender killed, a refusal', () => {
  let smtp;
  let stack;

  before(async () => {
    smtp = await startSmtp({
      refuse: (address, attempt) => {
        if (address === 'nobody@example.com') return [550, '5.1.1 <nobody@example.com>: no such user'];
        if (address === 'greylisted@example.com' && attempt === 1) return [451, '4.7.1 greylisted, try again later'];
        return null;
      },
    });
    stack = await startStack(mailEnv(smtp));
  });
  after(async () => {
    smtp.release();
    if (stack) await stack.stop();
    if (smtp) await smtp.stop();
  });

  it('fails a mail the server refuses for good (550) and sends the ones after it', async () => {
    const refused = await testMail(stack, 'nobody@example.com');
    await testMail(stack, 'after-refusal@example.com');
    await smtp.waitFor(() => smtp.to('after-refusal@example.com').length === 1, 'the mail after the refused one');
    const rows = await waitList(stack, (r) => r.some((m) => m.id === refused && m.state === 'failed'), 'failed mail');
    const row = rows.find((m) => m.id === refused);
    assert.equal(row.attempts, 1, 'a permanent refusal is not retried');
    assert.match(row.error, /RCPT refused: 550 5\.1\.1/);
    assert.equal(row.next, '-');
    await sleep(2000);
    assert.equal((await mailList(stack)).find((m) => m.id === refused).attempts, 1);
  });

  it('retries a mail the server refuses for now (451)', async () => {
    const id = await testMail(stack, 'greylisted@example.com');
    await smtp.waitFor(() => smtp.to('greylisted@example.com').length === 1, 'greylisted mail');
    const row = (await waitList(stack, (r) => r.some((m) => m.id === id && m.state === 'sent'), 'sent')).find((m) => m.id === id);
    assert.equal(row.attempts, 2);
    assert.match(row.error, /451/, 'the last error is kept');
  });

  it('gives up a mail older than CHAT_MAIL_GIVE_UP instead of sending it', async () => {
    const old = Date.now() - 3 * 86400000;
    await stack.query('INSERT INTO mail_queue (kind, recipient, message, message_id, created_at, next_at, attempts,'
      + ` last_error) VALUES ('test', 'old@example.com', 'Subject: old', 'old-1@example.com', ${old}, ${old}, 7,`
      + " 'RCPT refused: 452 mailbox full')");
    const rows = await waitList(stack, (r) => r.some((m) => m.to === 'old@example.com' && m.state === 'failed'), 'given up');
    const row = rows.find((m) => m.to === 'old@example.com');
    assert.equal(row.attempts, 7);
    assert.match(row.error, /^given up after 7 attempts over 172800 s \(CHAT_MAIL_GIVE_UP\); the last: RCPT refused: 452 mailbox full$/);
    assert.equal(smtp.to('old@example.com').length, 0);
  });

  it('keeps mail while the server is down, counting attempts, and sends it when it is back', async () => {
    await smtp.stop();
    const ids = [];
    for (const to of ['down1@example.com', 'down2@example.com', 'down3@example.com']) ids.push(await testMail(stack, to));
    const rows = await waitList(stack, (r) => ids.every((id) => r.find((m) => m.id === id).attempts >= 2), 'retries');
    for (const id of ids) {
      const row = rows.find((m) => m.id === id);
      assert.equal(row.state, 'waiting');
      assert.match(row.error, /connect|refused/i);
    }
    await smtp.restart();
    await smtp.waitFor(() => ['down1', 'down2', 'down3'].every((n) => smtp.to(`${n}@example.com`).length === 1), 'mail after the outage', 30000);
    const after = await waitList(stack, (r) => ids.every((id) => r.find((m) => m.id === id).state === 'sent'), 'all sent');
    for (const id of ids) assert.ok(after.find((m) => m.id === id).attempts >= 3);
  });

  it('finishes the send under way on SIGTERM, then ends, and is started again', async () => {
    await smtp.stop();
    let holding = true;
    smtp = await startSmtp({
      port: smtp.port,
      hold: (n, item) => {
        const now = holding && item.to[0] === 'term2@example.com';
        if (now) holding = false;
        return now;
      },
    });
    const ids = [];
    for (const to of ['term1@example.com', 'term2@example.com', 'term3@example.com']) ids.push(await testMail(stack, to));
    await smtp.waitFor(() => smtp.held !== null, 'the held mail');
    const pid = stack.mailPid();
    process.kill(pid, 'SIGTERM');
    await sleep(500);
    assert.ok(fs.existsSync(`/proc/${pid}`), 'it waits for the answer');
    smtp.release();
    await smtp.waitFor(() => smtp.to('term3@example.com').length === 1, 'the mail after it, from the next sender');
    const rows = await waitList(stack, (r) => ids.every((id) => r.find((m) => m.id === id).state === 'sent'), 'all sent');
    assert.equal(rows.find((m) => m.id === ids[1]).attempts, 1, 'recorded as sent: not sent again');
    assert.equal(smtp.to('term2@example.com').length, 1);
    assert.match(stack.output(), /chat-mail ended \(status 0\); starting it again/);
  });

  it('loses nothing when the sender is killed mid-queue, and sends again only the mail the server had not confirmed', async () => {
    const N = 30;
    // The server keeps its answer to the 10th of these: it has the mail,
    // the sender does not know. Then the sender is killed.
    await smtp.stop();
    let holding = true;
    const hold = (n, item) => {
      const now = holding && item.to[0] === 'bulk10@example.com';
      if (now) holding = false;
      return now;
    };
    smtp = await startSmtp({ port: smtp.port, hold });
    const ids = [];
    for (let i = 1; i <= N; i++) ids.push(await testMail(stack, `bulk${i}@example.com`));
    await smtp.waitFor(() => smtp.held !== null, 'the held mail');
    const heldTo = smtp.held.item.to[0];
    const [sending] = await stack.query('SELECT id, recipient FROM mail_queue WHERE sending_at IS NOT NULL');
    assert.equal(sending.recipient, heldTo, 'the held mail is the one marked as being sent');
    const pid = stack.mailPid();
    assert.ok(pid, 'chat-mail runs');
    process.kill(pid, 'SIGKILL');
    smtp.release();

    // server-config/run starts it again; it finds the interrupted mail.
    const bulk = () => smtp.received.filter((r) => /^bulk\d+@/.test(r.to[0]));
    await smtp.waitFor(() => {
      const tos = new Set(bulk().map((r) => r.to[0]));
      return ids.every((_, i) => tos.has(`bulk${i + 1}@example.com`));
    }, 'every queued mail', 40000);
    await waitList(stack, (r) => ids.every((id) => r.find((m) => m.id === id).state === 'sent'), 'all sent');
    const counts = new Map();
    for (const r of bulk()) counts.set(r.mail.messageId, (counts.get(r.mail.messageId) || 0) + 1);
    const twice = [...counts].filter(([, n]) => n > 1);
    assert.ok(twice.length <= 1, `at most the interrupted mail twice: ${JSON.stringify(twice)}`);
    for (const [messageId, n] of twice) {
      assert.equal(n, 2);
      const copies = bulk().filter((r) => r.mail.messageId === messageId);
      assert.equal(copies[0].to[0], heldTo, 'the one sent twice is the one the server had not confirmed');
      assert.equal(copies[0].raw, copies[1].raw, 'sent again byte for byte, with the same Message-ID');
    }
    assert.equal(counts.size, N, 'each mail arrived');
    const rows = await mailList(stack);
    assert.equal(rows.find((m) => m.to === heldTo).attempts, 2, 'the interrupted try counts');
    assert.match(stack.output(), /interrupted mid-send/);
  });
});

// The mails that REST calls queue: POST /sessions/{id}/transcript and
// /close, POST /leave-message, and POST /customers/resume with a follow-up's link.
describe('mail: what REST calls queue (transcript, left message, the way back)', () => {
  let smtp;
  let stack;

  before(async () => {
    smtp = await startSmtp();
    stack = await startStack(mailEnv(smtp, {
      CHAT_FOLLOWUP_AFTER: '1', CHAT_PUBLIC_URL: 'https://chat.example.com', CHAT_UNCLAIMED_TIMEOUT: '5',
    }));
  });
  after(async () => {
    if (stack) await stack.stop();
    if (smtp) await smtp.stop();
  });

  it('mails the visitor the whole conversation on request, with names, times and system lines', async () => {
    const agent = await newAgent(stack, 'transcriber');
    const a = (await connectReady(stack, agent.token)).client;
    const customer = await stack.createCustomer({ name: 'Wang Wu' });
    const s = await api(stack, 'POST', '/api/v1/sessions', { token: customer.token, body: { subject: 'Sizes' } });
    assert.equal(s.status, 201);
    const c = (await connectReady(stack, customer.token)).client;
    c.send({ type: 'message', sessionId: s.json.id, text: 'Do you have it in <XL>?', clientMsgId: 'c1' });
    await c.nextType('ack');
    a.send({ type: 'message', sessionId: s.json.id, text: 'Yes, in blue & red.', clientMsgId: 'a1' });
    await a.nextType('ack');
    const r = await api(stack, 'POST', `/api/v1/sessions/${s.json.id}/transcript`,
      { token: customer.token, body: { email: 'wang@example.com' } });
    assert.equal(r.status, 202, JSON.stringify(r.json));
    await smtp.waitFor(() => smtp.to('wang@example.com').length === 1, 'transcript');
    const { mail, raw } = smtp.to('wang@example.com')[0];
    assertWellFormed(raw);
    assert.match(mail.subject, /^Your conversation with /);
    assert.match(mail.text, /Hello Wang Wu, here is your conversation/);
    assert.match(mail.text, /\[\d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC\] Wang Wu:\nDo you have it in <XL>\?/);
    assert.match(mail.text, new RegExp(`\\] ${agent.username}:\\nYes, in blue & red\\.`));
    assert.match(mail.text, /-- [^\n]*joined the chat --/, 'the system line of who joined');
    assert.ok(mail.text.indexOf('<XL>') < mail.text.indexOf('blue & red'), 'in order');
    assert.match(mail.html, /Do you have it in &lt;XL&gt;\?/);
    assert.match(mail.html, /Yes, in blue &amp; red\./);
    await a.close();
    await c.close();
  });

  it('mails the team a left message with Reply-To the visitor, and no "waiting" mail after it', async () => {
    const customer = await stack.createCustomer({ name: 'Night Owl' });
    const r = await api(stack, 'POST', '/api/v1/leave-message', {
      token: customer.token, body: { email: 'owl@example.com', text: 'Call me back\nafter 9, please.' },
    });
    assert.equal(r.status, 201, JSON.stringify(r.json));
    await smtp.waitFor(() => smtp.to(TEAM).some((m) => m.mail.subject.startsWith('Message from Night Owl')), 'team_message');
    const { mail, raw } = smtp.to(TEAM).find((m) => m.mail.subject.startsWith('Message from Night Owl'));
    assertWellFormed(raw);
    assert.equal(mail.subject, 'Message from Night Owl: Call me back…');
    assert.deepEqual(mail.replyTo.value.map((v) => v.address), ['owl@example.com']);
    assert.match(mail.text, /> Call me back\n> after 9, please\./);
    assert.match(mail.text, /Email: owl@example\.com/);
    // The team knows: CHAT_UNCLAIMED_TIMEOUT passes without a "waiting" mail.
    await sleep(6500);
    assert.equal(smtp.to(TEAM).filter((m) => m.mail.subject.includes('Night Owl')).length, 1);
  });

  it('mails the transcript when a chat of a visitor with an address is closed', async () => {
    const customer = await stack.createCustomer({ name: 'Closer', email: 'closer@example.com' });
    const s = await api(stack, 'POST', '/api/v1/sessions', { token: customer.token, body: { subject: 'Bye' } });
    const c = (await connectReady(stack, customer.token)).client;
    c.send({ type: 'message', sessionId: s.json.id, text: 'Thanks, that is all.', clientMsgId: 'x1' });
    await c.nextType('ack');
    const r = await api(stack, 'POST', `/api/v1/sessions/${s.json.id}/close`, { token: customer.token });
    assert.equal(r.status, 200, JSON.stringify(r.json));
    await smtp.waitFor(() => smtp.to('closer@example.com').length === 1, 'transcript on close');
    assert.match(smtp.to('closer@example.com')[0].mail.text, /Thanks, that is all\./);
    await c.close();
  });

  it('signs the visitor back in with the link of a follow-up', async () => {
    const agent = await newAgent(stack, 'linker');
    const a = (await connectReady(stack, agent.token)).client;
    const customer = await stack.createCustomer({ name: 'Come Back', email: 'back@example.com' });
    const s = await api(stack, 'POST', '/api/v1/sessions', { token: customer.token, body: {} });
    a.send({ type: 'message', sessionId: s.json.id, text: 'Here is your answer.', clientMsgId: 'l1' });
    await a.nextType('ack');
    await smtp.waitFor(() => smtp.to('back@example.com').length === 1, 'follow-up');
    const code = /#resume=([A-Za-z0-9_-]{43})/.exec(smtp.to('back@example.com')[0].mail.text)[1];
    for (let i = 0; i < 2; i++) {
      const r = await api(stack, 'POST', '/api/v1/customers/resume', { body: { code } });
      assert.equal(r.status, 200, `use ${i + 1} of the code: ${JSON.stringify(r.json)}`);
      assert.equal(r.json.id, customer.id);
      assert.equal(r.json.sessionId, s.json.id);
    }
    const bad = await api(stack, 'POST', '/api/v1/customers/resume', { body: { code: `${code.slice(0, -1)}A` } });
    assert.equal(bad.status, 401);
    await a.close();
  });
});
