// Locating the built site and listing its files, shared by every test in tests/site/.
//
// The site under test is the folder named by the SITE_DIR environment variable
// (scripts/test builds one into a temporary folder and sets it); without it, the
// default output folder `site/` at the repository root is used, so a developer who
// has just run the build command can run `node --test tests/site/` directly.

import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Absolute path of the repository root (tests/lib/ is two levels below it). */
export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Absolute path of the tests/ folder, where node_modules and artifacts live. */
export const testsRoot = path.join(repoRoot, 'tests');

/**
 * The built site's folder. Throws with what to do when it is missing, because a
 * test run on no site would otherwise pass on zero pages.
 */
export function siteDir() {
  const dir = path.resolve(process.env.SITE_DIR || path.join(repoRoot, 'site'));
  if (!existsSync(path.join(dir, 'index.html'))) {
    throw new Error(
      `no built site at \`${dir}\` (no index.html): build it first with ` +
        '`cargo run -p generator -- build --out DIR` and set SITE_DIR=DIR, ' +
        'or run `scripts/test`, which does both',
    );
  }
  return dir;
}

/**
 * Every file under `root` whose name ends with one of `extensions` (".html", ".css"...),
 * as sorted POSIX-style paths relative to `root`. Sorted so that test output and
 * screenshot order are the same on every run.
 */
export function listFiles(root, extensions) {
  const found = [];
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) {
        walk(full);
      } else if (extensions.some((ext) => entry.name.toLowerCase().endsWith(ext))) {
        found.push(path.relative(root, full).split(path.sep).join('/'));
      }
    }
  };
  walk(root);
  return found.sort();
}

/** The site's HTML pages, relative to the site folder. Throws if there are none. */
export function htmlPages(root) {
  const pages = listFiles(root, ['.html']);
  if (pages.length === 0) {
    throw new Error(`no .html file under \`${root}\``);
  }
  return pages;
}

/**
 * A file-name-safe name for a page, used for screenshots:
 * "premiere-demande/01-connexion.html" -> "premiere-demande--01-connexion".
 */
export function pageSlug(relPath) {
  return relPath.replace(/\.html$/, '').split('/').join('--');
}

/** True when `p` exists and is a regular file (not a folder). */
export function isFile(p) {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

/**
 * Fails the current test with `heading` and one line per problem when `problems`
 * is not empty. The stack trace is left out: it points into the test file, while
 * the list already names the file, line and reason of each problem.
 */
export function assertNoProblems(problems, heading) {
  if (problems.length === 0) return;
  const error = new Error(`${heading} (${problems.length}):\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  error.stack = `${error.name}: ${error.message}`;
  throw error;
}
