'use strict';
// A real SMTP server for the mail tests: the smtp-server package on a free
// loopback port, keeping every message it accepts, raw and parsed with
// mailparser; optionally with STARTTLS (a certificate made here with
// openssl) and a login, refusing chosen recipients, or holding its answer
// to a message. Every server started here is stopped on every exit path.

const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { SMTPServer } = require('smtp-server');
const { simpleParser } = require('mailparser');
const { freePort, sleep } = require('./stack');

const WAIT_MS = 20000;

const running = new Set();
process.on('exit', () => { for (const s of running) s.close(); });

/**
 * A self-signed certificate for localhost and 127.0.0.1 in a new temporary
 * directory: {dir, key, cert, certFile} (key and cert as PEM text).
 */
function makeCertificate() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'chat-smtp-tls-'));
  const keyFile = path.join(dir, 'key.pem');
  const certFile = path.join(dir, 'cert.pem');
  const r = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2',
    '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
    '-keyout', keyFile, '-out', certFile], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`openssl req: ${r.stderr}`);
  return { dir, key: fs.readFileSync(keyFile, 'utf8'), cert: fs.readFileSync(certFile, 'utf8'), certFile };
}

function smtpError(code, message) {
  const err = new Error(message);
  err.responseCode = code;
  return err;
}

/**
 * Start an SMTP server. opts:
 *   tls      {key, cert}: offer STARTTLS with them (else STARTTLS is not offered)
 *   login    {user, password}: require AUTH PLAIN or LOGIN, after STARTTLS
 *            only unless insecureAuth
 *   refuse   (address, attempt) => null | [code, text]: the answer to RCPT TO,
 *            attempt counting the tries of that address from 1
 *   hold     (n, item) => boolean: keep the answer to the nth message (from 1)
 *            until smtp.release(); the message counts as received
 * Resolves to the server: {port, received, logins, waitFor, count, stop,
 * restart, release, held}. Each received item is {raw, mail (parsed),
 * from, to, secure, user}.
 */
async function startSmtp(opts = {}) {
  const smtp = {
    port: opts.port || await freePort(),
    received: [],
    logins: [],
    held: null,
    server: null,
  };
  const tries = new Map();

  function options() {
    const disabled = [];
    if (!opts.tls) disabled.push('STARTTLS');
    if (!opts.login) disabled.push('AUTH');
    return {
      logger: false,
      secure: false,
      closeTimeout: 200,
      ...(opts.tls ? { key: opts.tls.key, cert: opts.tls.cert } : {}),
      disabledCommands: disabled,
      authOptional: !opts.login,
      allowInsecureAuth: Boolean(opts.insecureAuth),
      authMethods: ['PLAIN', 'LOGIN'],
      onAuth(auth, session, cb) {
        smtp.logins.push({ method: auth.method, user: auth.username, secure: Boolean(session.secure) });
        if (auth.username === opts.login.user && auth.password === opts.login.password) cb(null, { user: auth.username });
        else cb(smtpError(535, '5.7.8 Authentication credentials invalid'));
      },
      onRcptTo(address, session, cb) {
        const n = (tries.get(address.address) || 0) + 1;
        tries.set(address.address, n);
        const answer = opts.refuse ? opts.refuse(address.address, n) : null;
        if (answer) cb(smtpError(answer[0], answer[1]));
        else cb();
      },
      onData(stream, session, cb) {
        const chunks = [];
        stream.on('data', (c) => chunks.push(c));
        stream.on('end', () => {
          const raw = Buffer.concat(chunks);
          simpleParser(raw).then((mail) => {
            const item = {
              raw: raw.toString('utf8'),
              mail,
              from: session.envelope.mailFrom.address,
              to: session.envelope.rcptTo.map((r) => r.address),
              secure: Boolean(session.secure),
              user: session.user,
            };
            smtp.received.push(item);
            if (opts.hold && opts.hold(smtp.received.length, item)) {
              smtp.held = { item, answer: () => cb() };
            } else {
              cb();
            }
          }, (err) => cb(err));
        });
      },
    };
  }

  async function listen() {
    const server = new SMTPServer(options());
    // A client that went away (killed mid-send) is no failure of the test.
    server.on('error', () => {});
    await new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(smtp.port, '127.0.0.1', () => { server.removeListener('error', reject); resolve(); });
    });
    smtp.server = server;
    running.add(smtp);
  }

  smtp.close = () => { if (smtp.server) smtp.server.close(); };

  /** Stop listening; resolves once the server is closed. */
  smtp.stop = async () => {
    const server = smtp.server;
    smtp.server = null;
    running.delete(smtp);
    if (server) await new Promise((resolve) => server.close(resolve));
  };

  /** Listen again on the same port, keeping what was received. */
  smtp.restart = listen;

  /** Answer the held message now (its client may be gone). */
  smtp.release = () => {
    if (smtp.held) smtp.held.answer();
  };

  /** The received items whose envelope recipient is to. */
  smtp.to = (to) => smtp.received.filter((r) => r.to.includes(to));

  /**
   * Wait until pred(received) is true; throws after ms saying what was
   * awaited and what came.
   */
  smtp.waitFor = async (pred, what, ms = WAIT_MS) => {
    const deadline = Date.now() + ms;
    while (!pred(smtp.received)) {
      if (Date.now() > deadline) {
        const got = smtp.received.map((r) => `${r.to.join(',')}: ${r.mail.subject}`);
        throw new Error(`no ${what} within ${ms} ms; received: ${JSON.stringify(got)}`);
      }
      await sleep(50);
    }
    return smtp.received;
  };

  await listen();
  return smtp;
}

module.exports = { startSmtp, makeCertificate };
