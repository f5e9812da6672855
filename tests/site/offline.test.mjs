// The built site works with no network and from any place: every link and asset URL
// in the HTML (and in the CSS) is relative and points at a file that exists, and the
// site served under a sub-path of a web server loads its pages, styles and pictures.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';

import { cssUrls, readPage } from '../lib/html.mjs';
import { serveUnderPrefix } from '../lib/server.mjs';
import { assertNoProblems, htmlPages, isFile, listFiles, siteDir } from '../lib/site.mjs';

const root = siteDir();
const pages = htmlPages(root);
const parsed = new Map(pages.map((p) => [p, readPage(path.join(root, p))]));

// Schemes that load nothing over the network and so are fine where they are allowed.
const NAVIGATION_ONLY_SCHEMES = ['mailto:', 'tel:'];

/**
 * Checks one reference found in `fromFile` (absolute path) and returns a problem
 * as a sentence, or null when the reference is fine. `ref` comes from readPage.
 */
function problemWith(ref, fromFile) {
  const { tag, attribute, url, rel } = ref;
  const isLink = (tag === 'a' || tag === 'area') && attribute === 'href';
  if (url === '') return 'empty URL';
  if (/^https?:\/\//i.test(url)) {
    if (isLink) return null; // an outbound link: followed only when the student clicks it
    if (tag === 'link' && rel.includes('canonical')) return null; // metadata, never fetched
    if (tag === 'form' || tag === 'button') return null; // the form endpoint from site.toml
    return 'absolute URL: the page would load it from the network';
  }
  if (url.startsWith('//')) return 'protocol-relative URL: it points at another host';
  if (url.startsWith('/')) return 'root-absolute URL: it breaks from file:// and under a sub-path';
  if (/^[a-z][a-z0-9+.-]*:/i.test(url)) {
    const scheme = url.slice(0, url.indexOf(':') + 1).toLowerCase();
    if (isLink && NAVIGATION_ONLY_SCHEMES.includes(scheme)) return null;
    if (scheme === 'data:' && !isLink) return null;
    return `URL with scheme \`${scheme}\` is not allowed here`;
  }
  if (url.startsWith('#')) {
    return fragmentProblem(fromFile, decodeURIComponent(url.slice(1)));
  }
  const target = new URL(url, pathToFileURL(fromFile));
  const targetFile = fileURLToPath(target);
  if (targetFile !== root && !targetFile.startsWith(root + path.sep)) {
    return `points outside the site folder (\`${targetFile}\`)`;
  }
  if (!isFile(targetFile)) {
    return isFile(path.join(targetFile, 'index.html'))
      ? 'points at a folder: from file:// it must name the index.html inside it'
      : `no such file \`${path.relative(root, targetFile)}\``;
  }
  if (target.hash.length > 1) {
    return fragmentProblem(targetFile, decodeURIComponent(target.hash.slice(1)));
  }
  return null;
}

/** Checks that `#fragment` exists in the HTML or SVG file `file`. */
function fragmentProblem(file, fragment) {
  let ids;
  if (file.endsWith('.html')) {
    const rel = path.relative(root, file).split(path.sep).join('/');
    ids = (parsed.get(rel) ?? readPage(file)).ids;
  } else if (file.endsWith('.svg')) {
    const svg = readFileSync(file, 'utf8');
    ids = new Set([...svg.matchAll(/\bid\s*=\s*["']([^"']+)["']/g)].map((m) => m[1]));
  } else {
    return null; // fragments of other files (PDF pages...) are not checked
  }
  if (fragment === '' || fragment === 'top' || ids.has(fragment)) return null;
  return `no element with id "${fragment}" in \`${path.relative(root, file)}\``;
}

describe('every URL in the HTML is relative and resolves to a file of the site', () => {
  for (const page of pages) {
    test(page, () => {
      const file = path.join(root, page);
      const problems = [];
      for (const ref of parsed.get(page).refs) {
        const problem = problemWith(ref, file);
        if (problem) {
          problems.push(`${page}:${ref.line} <${ref.tag} ${ref.attribute}="${ref.url}">: ${problem}`);
        }
      }
      assertNoProblems(problems, 'URLs that break offline');
    });
  }
});

describe('every url() in the CSS is relative and resolves to a file of the site', () => {
  const stylesheets = listFiles(root, ['.css']);
  for (const sheet of stylesheets) {
    test(sheet, () => {
      const file = path.join(root, sheet);
      const problems = [];
      for (const url of cssUrls(readFileSync(file, 'utf8'))) {
        if (url.startsWith('data:')) continue;
        const problem = problemWith({ tag: 'style', attribute: 'url()', url, rel: [] }, file);
        if (problem) problems.push(`${sheet}: url(${url}): ${problem}`);
      }
      assertNoProblems(problems, 'CSS URLs that break offline');
    });
  }
});

describe('the site served under the sub-path /ecole/pass/ of a web server', () => {
  const prefix = '/ecole/pass/';
  let server;
  const fetched = new Map(); // URL -> response, so that a shared file is fetched once
  const checkedSheets = new Set(); // stylesheets whose url()s were checked (reported once)

  before(async () => {
    server = await serveUnderPrefix(root, prefix);
  });
  after(() => server?.close());

  async function status(url) {
    if (!fetched.has(url)) {
      const response = await fetch(url);
      const body = await response.arrayBuffer();
      fetched.set(url, { status: response.status, type: response.headers.get('content-type'), body });
    }
    return fetched.get(url);
  }

  test('the folder URL serves the home page', async () => {
    const { status: code, type } = await status(server.baseUrl);
    assert.equal(code, 200);
    assert.match(type, /^text\/html/);
  });

  for (const page of pages) {
    test(`${page} loads with its styles, scripts, pictures and internal links`, async () => {
      const pageUrl = new URL(page, server.baseUrl).href;
      assert.equal((await status(pageUrl)).status, 200, `GET ${pageUrl}`);
      const failures = [];
      const check = async (url, what) => {
        // Only the local server is ever asked: a URL that leaves it is a failure in itself.
        if (new URL(url).origin !== server.origin) {
          failures.push(`${what} -> ${url}: not on this server`);
          return;
        }
        const { status: code } = await status(url);
        if (code !== 200) failures.push(`${what} -> ${url}: HTTP ${code}`);
      };
      for (const ref of parsed.get(page).refs) {
        const { url } = ref;
        if (url === '' || url.startsWith('#') || /^[a-z][a-z0-9+.-]*:/i.test(url)) continue;
        if (ref.tag === 'form' || ref.tag === 'button') continue;
        const absolute = new URL(url, pageUrl);
        absolute.hash = '';
        await check(absolute.href, `${page}:${ref.line} <${ref.tag} ${ref.attribute}="${url}">`);
        const sheetChecked = checkedSheets.has(absolute.href);
        checkedSheets.add(absolute.href);
        if (ref.tag === 'link' && ref.rel.includes('stylesheet') && !sheetChecked && fetched.get(absolute.href)?.status === 200) {
          const css = Buffer.from(fetched.get(absolute.href).body).toString('utf8');
          for (const inner of cssUrls(css)) {
            if (/^[a-z][a-z0-9+.-]*:/i.test(inner) || inner.startsWith('#')) continue;
            await check(new URL(inner, absolute).href, `${url}: url(${inner})`);
          }
        }
      }
      assertNoProblems(failures, 'requests that failed under the sub-path');
    });
  }
});
