// Every page, opened from file:// in headless Chromium at a phone width and a desktop
// width (and in the dark theme on the phone), has zero axe-core violations, loads
// nothing but local files, shows every picture, has no console error, does not scroll
// sideways on the phone, and still shows its content with JavaScript turned off.
// A full-page screenshot of each page at each width goes to tests/artifacts/screenshots/.

import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';

import { chromium } from 'playwright-core';

import { assertNoProblems, htmlPages, pageSlug, siteDir, testsRoot } from '../lib/site.mjs';
import { AXE_TAGS, CHROMIUM, CHROMIUM_ARGS } from '../lib/browser.mjs';

const PASSES = [
  { name: '390', width: 390, height: 844, colorScheme: 'light', checkOverflow: true },
  { name: '1280', width: 1280, height: 800, colorScheme: 'light', checkOverflow: false },
  { name: '390-dark', width: 390, height: 844, colorScheme: 'dark', checkOverflow: true },
];

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const screenshotDir = path.join(testsRoot, 'artifacts', 'screenshots');
const root = siteDir();
const pages = htmlPages(root);
const rootUrl = pathToFileURL(root + path.sep).href;

let browser;

before(async () => {
  mkdirSync(screenshotDir, { recursive: true });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
});

after(async () => {
  await browser?.close();
});

/**
 * Opens `page` (relative path) in a fresh context and returns the page, with every
 * request, console error, page error and failed load recorded. Requests that do
 * not go to file:// are recorded and aborted, so that nothing leaves the machine.
 */
async function open(relPath, contextOptions) {
  const context = await browser.newContext(contextOptions);
  const record = { offSite: [], consoleErrors: [], failedLoads: [] };
  await context.route(
    (url) => !['file:', 'data:', 'blob:'].includes(url.protocol),
    (route) => {
      record.offSite.push(route.request().url());
      return route.abort('blockedbyclient');
    },
  );
  const page = await context.newPage();
  page.on('request', (request) => {
    const url = request.url();
    if (url.startsWith('file:') && !url.startsWith(rootUrl)) record.offSite.push(url);
  });
  page.on('requestfailed', (request) => {
    if (request.url().startsWith('file:')) {
      record.failedLoads.push(`${request.url()}: ${request.failure()?.errorText}`);
    }
  });
  page.on('console', (message) => {
    if (message.type() === 'error') {
      const where = message.location();
      record.consoleErrors.push(`${message.text()} (${where.url}:${where.lineNumber})`);
    }
  });
  page.on('pageerror', (error) => record.consoleErrors.push(`uncaught: ${error.message}`));
  await page.goto(new URL(relPath, rootUrl).href, { waitUntil: 'load' });
  return { context, page, record };
}

/**
 * Loads every picture, lazy ones included, and lists those that did not show.
 * Pictures that take no room on the page (inside a hidden element, such as a photo
 * preview that scripts fill in later) are not shown and so not checked here; the
 * offline test checks that every src of every <img> exists.
 */
async function brokenImages(page) {
  return page.evaluate(async () => {
    const images = Array.from(document.images).filter((img) => img.getClientRects().length > 0);
    for (const img of images) img.loading = 'eager';
    await Promise.all(images.map((img) => img.decode().catch(() => {})));
    return images
      .filter((img) => !img.complete || img.naturalWidth === 0)
      .map((img) => `<img src="${img.getAttribute('src') ?? '(none)'}" alt="${img.alt}">: not shown (currentSrc ${img.currentSrc || 'none'})`);
  });
}

/** Lists the elements sticking out to the right of the viewport, if the page scrolls sideways. */
async function sidewaysOverflow(page) {
  return page.evaluate(() => {
    const width = window.innerWidth;
    const scrollWidth = document.documentElement.scrollWidth;
    if (scrollWidth <= width) return [];
    const describe = (el) =>
      el.tagName.toLowerCase() + (el.id ? `#${el.id}` : '') +
      (el.classList.length ? `.${[...el.classList].join('.')}` : '');
    const culprits = [...document.body.querySelectorAll('*')]
      .filter((el) => el.getBoundingClientRect().right > width + 0.5)
      .filter((el) => !el.parentElement || el.parentElement.getBoundingClientRect().right <= width + 0.5)
      .slice(0, 10)
      .map((el) => `${describe(el)} reaches ${Math.round(el.getBoundingClientRect().right)} px`);
    return [`page is ${scrollWidth} px wide in a ${width} px viewport`, ...culprits];
  });
}

async function axeViolations(page) {
  await page.addScriptTag({ content: axeSource });
  const results = await page.evaluate(
    // No preload: axe would fetch the stylesheets again with XMLHttpRequest, which
    // Chromium refuses for file:// pages (and the CSSOM of file:// sheets is closed anyway).
    (tags) =>
      window.axe.run(document, {
        runOnly: { type: 'tag', values: tags },
        resultTypes: ['violations'],
        preload: false,
      }),
    AXE_TAGS,
  );
  return results.violations.flatMap((v) =>
    v.nodes.map((node) => `${v.id} (${v.impact}) at ${node.target.join(' ')}: ${v.help}\n      ${node.failureSummary?.split('\n').join('\n      ') ?? ''}\n      ${v.helpUrl}`),
  );
}

for (const relPath of pages) {
  describe(relPath, () => {
    for (const pass of PASSES) {
      test(`${pass.name}: axe-core, requests, pictures, console${pass.checkOverflow ? ', no sideways scroll' : ''}`, async () => {
        const { context, page, record } = await open(relPath, {
          viewport: { width: pass.width, height: pass.height },
          colorScheme: pass.colorScheme,
        });
        try {
          const problems = [];
          problems.push(...(await brokenImages(page)).map((p) => `picture: ${p}`));
          if (pass.checkOverflow) problems.push(...(await sidewaysOverflow(page)).map((p) => `sideways scroll: ${p}`));
          await page.screenshot({ path: path.join(screenshotDir, `${pageSlug(relPath)}-${pass.name}.png`), fullPage: true });
          // What the page itself did, taken before axe runs in it.
          problems.push(...record.offSite.map((url) => `request outside the site: ${url}`));
          problems.push(...record.failedLoads.map((p) => `failed load: ${p}`));
          problems.push(...record.consoleErrors.map((p) => `console error: ${p}`));
          problems.push(...(await axeViolations(page)).map((p) => `axe: ${p}`));
          assertNoProblems(problems, `${relPath} at ${pass.name}`);
        } finally {
          await context.close();
        }
      });
    }

    test('JavaScript off: the main content is there', async () => {
      const { context, page, record } = await open(relPath, {
        viewport: { width: 390, height: 844 },
        javaScriptEnabled: false,
      });
      try {
        const problems = [];
        const main = await page.evaluate(() => {
          const el = document.querySelector('main');
          if (!el) return null;
          const style = getComputedStyle(el);
          return {
            visible: style.display !== 'none' && style.visibility !== 'hidden' && el.getBoundingClientRect().height > 0,
            text: el.innerText.trim().length,
            h1: document.querySelectorAll('h1').length,
          };
        });
        if (!main) problems.push('no <main> element');
        else {
          if (!main.visible) problems.push('<main> is hidden');
          if (main.text === 0) problems.push('<main> has no text');
          if (main.h1 !== 1) problems.push(`${main.h1} <h1> elements (one expected)`);
        }
        problems.push(...(await brokenImages(page)).map((p) => `picture: ${p}`));
        problems.push(...record.offSite.map((url) => `request outside the site: ${url}`));
        problems.push(...record.failedLoads.map((p) => `failed load: ${p}`));
        assertNoProblems(problems, `${relPath} with JavaScript off`);
      } finally {
        await context.close();
      }
    });
  });
}
