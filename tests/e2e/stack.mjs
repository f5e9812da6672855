// The whole chain for the end-to-end tests, on free loopback ports: an S3-compatible server
// (moto_server) with an empty bucket, the real handler under `cargo lambda watch`, and the site
// built by the generator from a copy of content/ whose form_endpoint points at that handler,
// served on loopback (and opened from file:// by the tests). The same flags as the handler's
// own end-to-end test (handler/tests/e2e_cargo_lambda.rs) and as scripts/stack.
//
// Each server runs in its own process group, stopped as a whole (cargo lambda runs cargo, which
// runs the function). A missing tool fails with its name and how to get it.

import { spawn, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, closeSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';

import { serveUnderPrefix } from '../lib/server.mjs';
import { repoRoot } from '../lib/site.mjs';
import { Bucket } from './s3.mjs';

const HOST = '127.0.0.1';
const BUCKET = 'demandes-e2e';
const REGION = 'us-east-1';
// moto takes any credentials; the handler and the tests both sign with these.
const ACCESS_KEY = 'testing';
const SECRET_KEY = 'testing';
/** How long moto_server may take to answer (Python start-up). */
const MOTO_TIMEOUT_MS = 60_000;
/** How long the function may take to build and start (a cold debug build on two cores). */
const HANDLER_TIMEOUT_MS = 20 * 60_000;
/** The handler's route under `cargo lambda watch` (a Function URL for the binary `handler`). */
const HANDLER_PATH = '/lambda-url/handler/demande';

/** Fails with the tool's name and where it comes from when `command args` cannot run. */
function requireTool(command, args, name) {
  const run = spawnSync(command, args, { stdio: 'ignore' });
  if (run.error || run.status !== 0) {
    throw new Error(
      `missing tool: ${name} (\`${[command, ...args].join(' ')}\` ${run.error ? `failed: ${run.error.code}` : `exited with ${run.status}`}); ` +
        '`scripts/test` installs it (`pip install cargo-lambda \'moto[server]\'`)',
    );
  }
}

/** A loopback port free right now. */
function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, HOST, () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** A server process in its own process group, its output in `log`. */
class Server {
  constructor(name, command, args, { env, log, cwd }) {
    this.name = name;
    this.log = log;
    const fd = openSync(log, 'w');
    this.child = spawn(command, args, { cwd, env, detached: true, stdio: ['ignore', fd, fd] });
    closeSync(fd);
    this.exited = new Promise((resolve) => this.child.once('exit', (code, signal) => resolve(signal ?? code)));
    this.exitStatus = null;
    this.exited.then((status) => {
      this.exitStatus = status;
    });
  }

  /** The end of the log, for a failure message. */
  tail(lines = 40) {
    let text = '';
    try {
      text = readFileSync(this.log, 'utf8');
    } catch {
      return '(no log)';
    }
    return text.split('\n').slice(-lines).join('\n');
  }

  /** Waits until `probe()` resolves true; fails if the process exits or time runs out. */
  async waitUntil(probe, timeoutMs, failWhen = () => false) {
    const started = Date.now();
    for (;;) {
      if (await probe().catch(() => false)) return;
      if (this.exitStatus !== null) {
        throw new Error(`${this.name} exited (${this.exitStatus}) before answering:\n${this.tail()}`);
      }
      const log = this.tail();
      if (failWhen(log)) throw new Error(`${this.name} failed to start:\n${log}`);
      if (Date.now() - started > timeoutMs) {
        throw new Error(`${this.name} did not answer within ${timeoutMs / 1000} s:\n${log}`);
      }
      await sleep(300);
    }
  }

  /** Stops the whole process group: TERM, then KILL if it lingers. */
  async stop() {
    if (this.exitStatus !== null) return;
    const signal = (name) => {
      try {
        process.kill(-this.child.pid, name);
      } catch {
        // The group is already gone.
      }
    };
    signal('SIGTERM');
    const stopped = await Promise.race([this.exited.then(() => true), sleep(10_000).then(() => false)]);
    if (!stopped) signal('SIGKILL');
  }

  /**
   * Last resort when the test process exits without `stop()` (a crash, a signal): TERM, which
   * cargo lambda passes on to the function it runs in a process group of its own.
   */
  killNow() {
    if (this.exitStatus !== null) return;
    try {
      process.kill(-this.child.pid, 'SIGTERM');
    } catch {
      // Already gone.
    }
  }
}

/** Runs a command to completion, failing with its output. */
function run(command, args, options) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0 ? resolve(output) : reject(new Error(`\`${command} ${args.join(' ')}\` exited with ${code}:\n${output}`)),
    );
  });
}

/**
 * Starts everything and resolves to
 * { s3 (a Bucket), handlerUrl, siteOrigin, siteDir, siteFileUrl, handlerLog, stop }.
 * `stop()` stops the servers and removes the temporary folder.
 */
export async function startStack() {
  requireTool('moto_server', ['--help'], 'moto_server');
  requireTool('cargo', ['lambda', '--version'], 'cargo-lambda (cargo lambda)');

  const tmp = mkdtempSync(path.join(os.tmpdir(), 'passregion-e2e-'));
  const servers = [];
  const killAll = () => servers.forEach((server) => server.killNow());
  // A test process stopped by a signal (Ctrl+C, a timeout) emits no 'exit': stop the servers then too.
  const killAndExit = (signal) => {
    killAll();
    process.exit(signal === 'SIGINT' ? 130 : 143);
  };
  process.once('exit', killAll);
  process.once('SIGINT', killAndExit);
  process.once('SIGTERM', killAndExit);
  let site = null;
  const stop = async () => {
    await Promise.all(servers.map((server) => server.stop()));
    process.removeListener('exit', killAll);
    process.removeListener('SIGINT', killAndExit);
    process.removeListener('SIGTERM', killAndExit);
    await site?.close();
    rmSync(tmp, { recursive: true, force: true });
  };

  try {
    const siteDir = path.join(tmp, 'site');
    site = await serveUnderPrefix(siteDir, '/');
    const siteOrigin = site.origin;

    const s3Port = await freePort();
    const s3 = `http://${HOST}:${s3Port}`;
    const moto = new Server('moto_server', 'moto_server', ['-H', HOST, '-p', String(s3Port)], {
      env: process.env,
      log: path.join(tmp, 'moto.log'),
    });
    servers.push(moto);
    await moto.waitUntil(async () => (await fetch(`${s3}/`)).ok, MOTO_TIMEOUT_MS);
    const created = await fetch(`${s3}/${BUCKET}`, { method: 'PUT' });
    if (!created.ok) throw new Error(`cannot create the bucket ${BUCKET}: ${created.status} ${await created.text()}`);

    const handlerPort = await freePort();
    const handlerUrl = `http://${HOST}:${handlerPort}${HANDLER_PATH}`;
    const env = { ...process.env };
    for (const name of ['AWS_PROFILE', 'AWS_SESSION_TOKEN', 'AWS_ENDPOINT_URL']) delete env[name];
    Object.assign(env, {
      BUCKET_NAME: BUCKET,
      // The served site, and pages opened from a file (`Origin: null`).
      ALLOWED_ORIGIN: `${siteOrigin},null`,
      DOSSIER_SECRET: 'end-to-end-browser-secret-0123456789',
      // content/site.toml's school_name, which the form shows read-only.
      ETABLISSEMENT: 'Sidoine Apollinaire',
      AWS_REGION: REGION,
      AWS_ACCESS_KEY_ID: ACCESS_KEY,
      AWS_SECRET_ACCESS_KEY: SECRET_KEY,
      AWS_ENDPOINT_URL_S3: s3,
      RUST_LOG: 'info',
    });
    const handler = new Server(
      'cargo lambda watch',
      'cargo',
      ['lambda', 'watch', '--ignore-changes', '--disable-cors', '--invoke-address', HOST, '--invoke-port', String(handlerPort),
        '--package', 'handler', '--bin', 'handler'],
      { env, cwd: repoRoot, log: path.join(tmp, 'handler.log') },
    );
    servers.push(handler);

    // The site is built while the function builds and starts.
    const content = path.join(tmp, 'content');
    cpSync(path.join(repoRoot, 'content'), content, { recursive: true });
    const siteToml = path.join(content, 'site.toml');
    const settings = readFileSync(siteToml, 'utf8');
    const pointed = settings.replace(/^form_endpoint\s*=.*$/m, `form_endpoint = "${handlerUrl}"`);
    if (pointed === settings) throw new Error('no `form_endpoint = ...` line in content/site.toml');
    writeFileSync(siteToml, pointed);
    const build = run('cargo', ['run', '--quiet', '--release', '-p', 'generator', '--', 'build', '--content', content, '--out', siteDir], {
      cwd: repoRoot,
    });

    // The function itself answers a preflight once it is built and started.
    const ready = handler.waitUntil(
      async () => (await fetch(handlerUrl, { method: 'OPTIONS' })).status === 204,
      HANDLER_TIMEOUT_MS,
      (log) => log.includes('start-up failed'),
    );
    await Promise.all([build, ready]);

    return {
      s3: new Bucket({ endpoint: s3, bucket: BUCKET, region: REGION, accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY }),
      handlerUrl,
      siteOrigin,
      siteDir,
      siteFileUrl: pathToFileURL(siteDir + path.sep).href,
      handlerLog: () => handler.tail(),
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
