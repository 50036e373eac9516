'use strict';
// An installed tree run as in production, on this machine and on free
// loopback ports: the systemd units' commands run as their unit files say
// (user, umask, settings file, runtime directory), behind Debian's own
// lighttpd and Apache configurations (copies of /etc/lighttpd and
// /etc/apache2) with the installed chat configuration enabled by Debian's
// own tools, as README.md tells an administrator to.
//
// Node built-ins only, and only APIs present in Node 18.19.

const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');

const { sleep, killGroup } = require('./stack');

const START_TIMEOUT_MS = 15000;
const STOP_TIMEOUT_MS = 5000;

// Every process started here, stopped on every exit path (see stack.js).
const running = new Set();
process.on('exit', () => { for (const p of running) killGroup(p.child.pid, 'SIGKILL'); });

/** Run a command to its end: {status, out}; throws when it cannot start. */
function run(cmd, args, options = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', ...options });
  if (r.error) throw r.error;
  return { status: r.status, out: `${r.stdout || ''}${r.stderr || ''}` };
}

function mustRun(cmd, args, options) {
  const r = run(cmd, args, options);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: status ${r.status}\n${r.out}`);
  return r.out;
}

/** The ids a process started by root runs as, for user `name`; {} when
 * this process is not root and cannot switch (then all runs as itself). */
function account(name) {
  if (process.getuid() !== 0) return {};
  return { uid: Number(mustRun('id', ['-u', name])), gid: Number(mustRun('id', ['-g', name])) };
}

/** Whether user `name` can read the system's files (see tests/run-all). */
function canServeAs(name) {
  if (process.getuid() !== 0) return true;
  return run('runuser', ['-u', name, '--', 'test', '-r', '/usr/lib/apache2/modules/mod_mime.so']).status === 0;
}

/** The KEY=VALUE lines of a systemd EnvironmentFile (ours has no quoting). */
function readEnvFile(file) {
  const env = {};
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (m) env[m[1]] = m[2];
  }
  return env;
}

/** The [Service] settings of a unit file. */
function readUnit(file) {
  const service = {};
  let section = '';
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    const s = /^\[(.+)\]$/.exec(line);
    if (s) section = s[1];
    const m = /^([A-Za-z]+)=(.*)$/.exec(line);
    if (m && section === 'Service') service[m[1]] = m[2];
  }
  return service;
}

/** Wait until check() is true while proc lives; throws with its output. */
async function waitUntil(check, proc, what) {
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    if (await check()) return;
    if (proc.exited) throw new Error(`${what} ended (${proc.exited}) before it was ready:\n${proc.output}`);
    if (Date.now() > deadline) throw new Error(`${what} not ready within ${START_TIMEOUT_MS} ms:\n${proc.output}`);
    await sleep(25);
  }
}

function listening(port) {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    s.once('connect', () => { s.destroy(); resolve(true); });
    s.once('error', () => resolve(false));
  });
}

/** Start a long-running process in its own process group. */
function start(what, cmd, args, options = {}) {
  const child = spawn(cmd, args, { detached: true, stdio: ['ignore', 'pipe', 'pipe'], ...options });
  const proc = { what, child, output: '', exited: null };
  child.stdout.on('data', (d) => { proc.output += d; });
  child.stderr.on('data', (d) => { proc.output += d; });
  child.on('exit', (code, signal) => { proc.exited = signal || `status ${code}`; running.delete(proc); });
  child.on('error', (err) => { proc.exited = err.message; running.delete(proc); });
  running.add(proc);
  return proc;
}

async function stop(proc) {
  if (proc.exited) return;
  const ended = new Promise((resolve) => proc.child.once('exit', resolve));
  killGroup(proc.child.pid, 'SIGTERM');
  const timer = setTimeout(() => killGroup(proc.child.pid, 'SIGKILL'), STOP_TIMEOUT_MS);
  await ended;
  clearTimeout(timer);
}

/**
 * Start the process a systemd unit file describes, as systemd would: as its
 * User, with its UMask, the settings of its EnvironmentFile expanded into
 * ExecStart, and its RuntimeDirectory made (under runDir, which stands for
 * /run). Resolves once ready() is true.
 */
async function startUnit(file, runDir, ready) {
  const unit = readUnit(file);
  const settings = readEnvFile(unit.EnvironmentFile);
  const ids = account(unit.User);
  if (unit.RuntimeDirectory) {
    const dir = path.join(runDir, unit.RuntimeDirectory);
    fs.mkdirSync(dir, { recursive: true });
    if (ids.uid !== undefined) fs.chownSync(dir, ids.uid, ids.gid);
  }
  const argv = unit.ExecStart.replace(/\$\{(\w+)\}/g, (_, k) => {
    if (!(k in settings)) throw new Error(`${path.basename(file)}: \${${k}} is not in ${unit.EnvironmentFile}`);
    return settings[k];
  }).split(/\s+/);
  const env = { PATH: process.env.PATH, ...settings };
  const proc = start(path.basename(file), '/bin/sh', ['-c', `umask ${unit.UMask || '0022'} && exec "$@"`, 'sh', ...argv],
    { env, ...ids });
  await waitUntil(() => ready(settings), proc, path.basename(file));
  return proc;
}

/**
 * Debian's lighttpd with the installed chat configuration: a copy of
 * /etc/lighttpd in dir, made to listen on 127.0.0.1:port only and to keep
 * its log and pid there, the chat's file put in conf-available and enabled
 * with Debian's lighty-enable-mod (pointed at the copy).
 */
async function startDebianLighttpd(dir, port, chatConf) {
  const conf = path.join(dir, 'lighttpd');
  mustRun('cp', ['-a', '/etc/lighttpd', conf]);
  // Like Debian's /var/log/lighttpd and /var/cache/lighttpd/uploads: the
  // server's user's, since lighttpd opens them once it runs as that user.
  const logs = path.join(conf, 'log');
  const uploads = path.join(conf, 'uploads');
  const ids = account('www-data');
  for (const d of [logs, uploads]) {
    fs.mkdirSync(d);
    if (ids.uid !== undefined) fs.chownSync(d, ids.uid, ids.gid);
  }
  const main = path.join(conf, 'lighttpd.conf');
  let text = fs.readFileSync(main, 'utf8');
  const edits = [
    [/^server\.port\s*=.*$/m, `server.port = ${port}\nserver.bind = "127.0.0.1"`],
    [/^server\.errorlog\s*=.*$/m, `server.errorlog = "${logs}/error.log"`],
    [/^server\.pid-file\s*=.*$/m, `server.pid-file = "${conf}/lighttpd.pid"`],
    [/^server\.upload-dirs\s*=.*$/m, `server.upload-dirs = ( "${uploads}" )`],
    // It would also listen on [::]:port.
    [/^include_shell "\/usr\/share\/lighttpd\/use-ipv6\.pl.*$/m, ''],
    [/"\/etc\/lighttpd\/conf-enabled\/\*\.conf"/, `"${conf}/conf-enabled/*.conf"`],
  ];
  for (const [re, to] of edits) {
    if (!re.test(text)) throw new Error(`Debian's lighttpd.conf has no line matching ${re}`);
    text = text.replace(re, to);
  }
  fs.writeFileSync(main, text);
  fs.copyFileSync(chatConf, path.join(conf, 'conf-available', '50-chat.conf'));
  const tool = fs.readFileSync('/usr/sbin/lighty-enable-mod', 'utf8');
  const confdirLine = 'my $confdir = "/etc/lighttpd/";';
  if (!tool.includes(confdirLine)) throw new Error(`lighty-enable-mod has no line ${confdirLine}`);
  const enableMod = path.join(conf, 'lighty-enable-mod');
  fs.writeFileSync(enableMod, tool.replace(confdirLine, `my $confdir = "${conf}/";`));
  const enabled = mustRun('perl', [enableMod, 'chat']);
  mustRun('lighttpd', ['-tt', '-f', main]);
  const proc = start('lighttpd', 'lighttpd', ['-D', '-f', main]);
  await waitUntil(() => listening(port), proc, 'lighttpd');
  proc.errorLog = path.join(logs, 'error.log');
  proc.enableOutput = enabled;
  return proc;
}

/**
 * Debian's Apache with the installed chat site: a copy of /etc/apache2 in
 * dir listening on 127.0.0.1:port only, the default site disabled, the
 * chat's modules and site enabled with Debian's a2enmod and a2ensite
 * (APACHE_CONFDIR pointing at the copy), run with the variables Debian's
 * envvars gives it, pointing into dir.
 */
async function startDebianApache(dir, port, siteConf) {
  const conf = path.join(dir, 'apache2');
  mustRun('cp', ['-a', '/etc/apache2', conf]);
  fs.writeFileSync(path.join(conf, 'ports.conf'), `Listen 127.0.0.1:${port}\n`);
  fs.rmSync(path.join(conf, 'sites-enabled', '000-default.conf'), { force: true });
  fs.copyFileSync(siteConf, path.join(conf, 'sites-available', 'chat.conf'));
  const state = path.join(dir, 'apache2-state');
  const tools = { env: { PATH: process.env.PATH, APACHE_CONFDIR: conf, APACHE_STATE_DIRECTORY: state } };
  const enabled = mustRun('a2enmod', ['authnz_fcgi', 'proxy', 'proxy_http', 'proxy_fcgi', 'headers', 'setenvif',
    'rewrite'], tools) + mustRun('a2ensite', ['chat'], tools);
  const user = process.getuid() === 0 ? 'www-data' : os.userInfo().username;
  const group = process.getuid() === 0 ? 'www-data' : mustRun('id', ['-gn']).trim();
  const vars = {
    APACHE_RUN_USER: user,
    APACHE_RUN_GROUP: group,
    APACHE_PID_FILE: path.join(conf, 'apache2.pid'),
    APACHE_RUN_DIR: path.join(conf, 'run'),
    APACHE_LOCK_DIR: path.join(conf, 'lock'),
    APACHE_LOG_DIR: path.join(conf, 'log'),
  };
  for (const d of ['APACHE_RUN_DIR', 'APACHE_LOCK_DIR', 'APACHE_LOG_DIR']) fs.mkdirSync(vars[d]);
  const env = { PATH: process.env.PATH, LANG: 'C', ...vars };
  mustRun('apache2', ['-t', '-d', conf, '-f', path.join(conf, 'apache2.conf')], { env });
  const proc = start('apache2', 'apache2', ['-DFOREGROUND', '-d', conf, '-f', path.join(conf, 'apache2.conf')], { env });
  await waitUntil(() => listening(port), proc, 'apache2');
  proc.errorLog = path.join(vars.APACHE_LOG_DIR, 'error.log');
  proc.enableOutput = enabled;
  return proc;
}

module.exports = {
  account, canServeAs, readEnvFile, readUnit, listening, run, mustRun, start, stop, startUnit,
  startDebianLighttpd, startDebianApache,
};
