// The whole chain for the end-to-end tests: the local stack of `scripts/stack --json` (moto_server
// with an empty bucket, the real handler under `cargo lambda watch`, on free loopback ports: the
// same servers and settings as a developer's `scripts/stack` and the handler's own end-to-end test),
// and the site built by the generator from a copy of content/ whose form_endpoint points at that
// handler, served on loopback (and opened from file:// by the tests).
//
// The script runs in a process group of its own, with everything it starts; stopping signals the
// whole group, and the script also stops by itself when its stdin (a pipe from this process)
// closes, so nothing outlives a test process that crashes. Tool versions are pinned in
// scripts/tools.env (cargo-lambda, moto) and, for the npm packages, in tests/package-lock.json.

import { spawn } from 'node:child_process';
import { closeSync, cpSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { after, before } from 'node:test';
import { pathToFileURL } from 'node:url';

import { chromium } from 'playwright-core';

import { CHROMIUM, CHROMIUM_ARGS } from '../lib/browser.mjs';
import { serveUnderPrefix } from '../lib/server.mjs';
import { repoRoot } from '../lib/site.mjs';
import { Bucket } from './s3.mjs';

/**
 * How long the stack may take to be ready: it bounds each server to 60 s, but first builds the
 * function's binary, a cold debug build of the AWS SDK on two cores when `cargo test` has not
 * already built it.
 */
const STACK_TIMEOUT_MS = 20 * 60_000;

/** The end of a log file, for a failure message. */
function tail(file, lines = 40) {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return `(no ${file})`;
  }
}

/**
 * Whether `promise` settles within `ms`. The timer is cleared either way: a pending one would keep
 * the test process alive until it fires (a 20-minute wait after the last test, before this).
 */
async function within(promise, ms) {
  let timer;
  const expired = new Promise((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([promise.then(() => true), expired]);
  } finally {
    clearTimeout(timer);
  }
}

/** Runs a command to completion and resolves to its stdout; fails with stdout and stderr. */
function run(command, args, options) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let output = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
      output += chunk;
    });
    child.stderr.on('data', (chunk) => (output += chunk));
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0 ? resolve(stdout) : reject(new Error(`\`${command} ${args.join(' ')}\` exited with ${code}:\n${output}`)),
    );
  });
}

/**
 * Resolves to the path of the workspace's binary `name`, built as scripts/stack builds the
 * function: `workspace_binary` of scripts/common.sh, which says why (fresh after `cargo test`).
 */
export async function workspaceBinary(name) {
  const stdout = await run('bash', ['-c', 'set -euo pipefail; source scripts/common.sh; workspace_binary "$1"', 'bash', name], { cwd: repoRoot });
  return stdout.trim();
}

/**
 * `scripts/stack --json` allowing `origin`, with its logs in `logDir`. Resolves to
 * { ready (the parsed ready line), stop } once the function answers; fails with the script's
 * output (which names the server that did not come up, with its log) if it exits or times out.
 */
async function startScript(origin, logDir) {
  mkdirSync(logDir, { recursive: true });
  const scriptLog = path.join(logDir, 'stack.log');
  const fd = openSync(scriptLog, 'w');
  const child = spawn(path.join(repoRoot, 'scripts', 'stack'), ['--json', '--origin', origin, '--log-dir', logDir], {
    cwd: repoRoot,
    detached: true,
    stdio: ['pipe', 'pipe', fd],
  });
  closeSync(fd);
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve(signal ?? code)));
  const signalGroup = (name) => {
    try {
      process.kill(-child.pid, name);
    } catch {
      // The group is already gone.
    }
  };
  const stop = async () => {
    child.stdin.end();
    signalGroup('SIGTERM');
    const stopped = await within(exited, 10_000);
    // Whatever a script that did not get to stop its servers left in the group.
    signalGroup('SIGKILL');
    if (!stopped) await exited;
  };

  const firstLine = new Promise((resolve) => {
    const lines = readline.createInterface({ input: child.stdout });
    lines.once('line', (line) => {
      lines.close();
      resolve(line);
    });
  });
  const started = Promise.race([firstLine, exited.then((status) => ({ status }))]);
  const outcome = (await within(started, STACK_TIMEOUT_MS)) ? await started : 'timeout';
  if (typeof outcome === 'string' && outcome !== 'timeout') {
    try {
      return { ready: JSON.parse(outcome), stop };
    } catch (error) {
      await stop();
      throw new Error(`\`scripts/stack --json\` printed ${JSON.stringify(outcome)}: ${error.message}`);
    }
  }
  await stop();
  const why = outcome === 'timeout' ? `was not ready within ${STACK_TIMEOUT_MS / 1000} s` : `exited (${outcome.status}) before it was ready`;
  throw new Error(`scripts/stack ${why}:\n${tail(scriptLog)}`);
}

/**
 * Starts everything and resolves to
 * { s3 (a Bucket), handlerUrl, motoUrl, functionUrl, siteOrigin, siteFileUrl, handlerLog, stop }.
 * `stop()` stops the servers and removes the temporary folder.
 */
export async function startStack() {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'passregion-e2e-'));
  let script = null;
  let site = null;
  // A test process stopped by a signal (Ctrl+C, a timeout) emits no 'exit' and runs no `stop()`:
  // the script, whose stdin then closes, stops by itself; signal its group too, now.
  const killAndExit = (signal) => {
    script?.stop();
    process.exit(signal === 'SIGINT' ? 130 : 143);
  };
  process.once('SIGINT', killAndExit);
  process.once('SIGTERM', killAndExit);
  const stop = async () => {
    await script?.stop();
    process.removeListener('SIGINT', killAndExit);
    process.removeListener('SIGTERM', killAndExit);
    await site?.close();
    rmSync(tmp, { recursive: true, force: true });
  };

  try {
    const siteDir = path.join(tmp, 'site');
    site = await serveUnderPrefix(siteDir, '/');
    const siteOrigin = site.origin;

    const logDir = path.join(tmp, 'logs');
    script = await startScript(siteOrigin, logDir);
    const { ready } = script;

    const content = path.join(tmp, 'content');
    cpSync(path.join(repoRoot, 'content'), content, { recursive: true });
    const siteToml = path.join(content, 'site.toml');
    const settings = readFileSync(siteToml, 'utf8');
    const pointed = settings.replace(/^form_endpoint\s*=.*$/m, `form_endpoint = "${ready.handler}"`);
    if (pointed === settings) throw new Error('no `form_endpoint = ...` line in content/site.toml');
    writeFileSync(siteToml, pointed);
    await run(await workspaceBinary('generator'), ['build', '--content', content, '--out', siteDir], { cwd: repoRoot });

    return {
      s3: new Bucket({
        endpoint: ready.moto,
        bucket: ready.bucket,
        region: ready.region,
        accessKeyId: ready.access_key_id,
        secretAccessKey: ready.secret_access_key,
      }),
      handlerUrl: ready.handler,
      // moto_server: S3, and the SES that keeps what the function sent (`/moto-api/data.json`).
      motoUrl: ready.moto,
      // The function's routes (the form's `demande`, `renvoi`, `activation`) are under this.
      functionUrl: `${ready.function}/`,
      siteOrigin,
      siteFileUrl: pathToFileURL(siteDir + path.sep).href,
      handlerLog: () => tail(path.join(ready.logs, 'handler.log')),
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/**
 * A browser suite's lifecycle, registered in the calling test file: a `before` that fails,
 * naming it, when Chromium is missing, runs `prepare` (the file's own checks and builds), starts
 * the stack and launches Chromium; an `after` that closes both. Returns { stack, browser }, set
 * once the `before` has run. One owner, so the suites cannot drift (a missing tool named
 * in one and not the others).
 */
export function useStack({ prepare } = {}) {
  const live = { stack: null, browser: null };
  before(
    async () => {
      if (!existsSync(CHROMIUM)) throw new Error(`missing tool: chromium (\`${CHROMIUM}\`); \`scripts/test\` installs it`);
      await prepare?.();
      live.stack = await startStack();
      live.browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    },
    // The first start may build the handler's function (see `startStack`).
    { timeout: 25 * 60_000 },
  );
  after(async () => {
    await live.browser?.close();
    await live.stack?.stop();
  });
  return live;
}
