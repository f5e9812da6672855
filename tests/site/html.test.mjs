// Every generated page, stylesheet and SVG picture passes the Nu HTML checker (vnu.jar
// from the npm package vnu-jar, run with the machine's Java) with zero errors.

import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { assertNoProblems, htmlPages, listFiles, siteDir, testsRoot } from '../lib/site.mjs';

const VNU_JAR = path.join(testsRoot, 'node_modules', 'vnu-jar', 'build', 'dist', 'vnu.jar');

const root = siteDir();
const files = [...htmlPages(root), ...listFiles(root, ['.css', '.svg'])];

describe('Nu HTML checker (vnu.jar, errors only)', () => {
  const messagesByFile = new Map(files.map((f) => [f, []]));
  const outsideFiles = [];

  // One checker run for all files: the JVM start-up is most of the time.
  before(async () => {
    if (!existsSync(VNU_JAR)) {
      throw new Error(`\`${VNU_JAR}\` is missing: run \`npm ci --prefix tests\` (scripts/test does)`);
    }
    const args = [
      '-jar', VNU_JAR,
      '--errors-only', '--format', 'json', '--stdout', '--exit-zero-always',
      '--also-check-css', '--also-check-svg',
      ...files.map((f) => path.join(root, f)),
    ];
    const { stdout } = await promisify(execFile)('java', args, { maxBuffer: 64 * 1024 * 1024 });
    const report = JSON.parse(stdout);
    for (const message of report.messages) {
      // vnu names files as "file:/abs/path"; a message with no file (a "non-document-error")
      // means the checker itself could not check something, which is a failure too.
      const file = message.url ? path.relative(root, fileURLToPath(message.url.replace(/^file:\/*/, 'file:///'))) : null;
      const rel = file?.split(path.sep).join('/');
      const line = `${rel ?? '(checker)'}:${message.lastLine ?? '?'}:${message.firstColumn ?? message.lastColumn ?? '?'}: ${message.type}: ${message.message}`;
      if (rel && messagesByFile.has(rel)) messagesByFile.get(rel).push(line);
      else outsideFiles.push(line);
    }
  });

  test('the checker reports nothing outside the checked files', () => {
    assertNoProblems(outsideFiles, 'checker messages');
  });

  for (const file of files) {
    test(file, () => {
      assertNoProblems(messagesByFile.get(file), 'Nu HTML checker errors');
    });
  }
});
