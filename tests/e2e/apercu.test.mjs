// The photo's preview end to end (issue 12): headless Chromium chooses a portrait whose face is far
// from the middle, the page sends its copy to the real function's `apercu` route under
// `cargo lambda watch`, and the crop frame moves onto the face that tests/faces marks by hand; the
// advice appears under its title, follows the frame the student drags, and « Recentrer » comes
// back to the face. Then the request is sent and the receipt lists the function's advice on the
// stored photo. From file://, with the function out of reach or the device offline, the page keeps
// its centred frame and shows neither advice nor error. Screenshots at 390 and 1280 px in
// tests/artifacts/screenshots/e2e-apercu-*.png.
//
// Slow: starts its own scripts/stack (see stack.mjs). Run alone with
// `node --test tests/e2e/apercu.test.mjs`.

import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { describe, test } from 'node:test';

import { parse as parseToml } from 'smol-toml';

import { AXE_TAGS } from '../lib/browser.mjs';
import { repoRoot, testsRoot } from '../lib/site.mjs';
import { useStack } from './stack.mjs';

const PHONE = { width: 390, height: 844 };
const DESKTOP = { width: 1280, height: 800 };
const ANSWER_TIMEOUT_MS = 60_000;
const FACES = path.join(repoRoot, 'handler', 'tests', 'faces');
// 683×800, the face high in the top-right corner: the default frame (the photo's full height,
// centred across) is far from it. Smaller than the upload's and the copy's longest side, so the
// page sends it, and its copy, at its own size: the copy's pixels are the frame's.
const PORTRAIT = 'variants/hopper-full-offcentre.jpg';
const SCHOOL_FIELDS = {
  nom: 'Martin',
  date_naissance: '2008-11-02',
  adresse: '3 place de Jaude',
  code_postal: '63000',
  commune: 'Clermont-Ferrand',
  telephone: '06 98 76 54 32',
};
const FILIERE = 'Terminale STMG';

/** The portrait's entry in tests/faces/faces.toml: { size, face: { box, crown_y, chin_y } }. */
function portrait(file) {
  const manifest = parseToml(readFileSync(path.join(FACES, 'faces.toml'), 'utf8'));
  const entry = manifest.image.find((image) => image.file === file);
  assert.ok(entry && entry.faces.length === 1, `${file}: one face in faces.toml`);
  return { size: entry.size, face: entry.faces[0] };
}

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const screenshotDir = path.join(testsRoot, 'artifacts', 'screenshots');

/** The function's preview endpoint, once the stack runs. */
const previewUrl = () => new URL('apercu', live.stack.handlerUrl).href;

const live = useStack({ prepare: () => mkdirSync(screenshotDir, { recursive: true }) });

/**
 * A fresh page on demande.html, served or from file://, recording errors, requests off the site
 * and the preview's answers (`record.previews`, see previewWith).
 */
async function open({ from = 'served', viewport = PHONE } = {}) {
  const base = from === 'file' ? live.stack.siteFileUrl : `${live.stack.siteOrigin}/`;
  const context = await live.browser.newContext({ viewport, locale: 'fr-FR' });
  const record = { errors: [], offSite: [], previews: [] };
  await context.route(
    (url) => !['file:', 'data:', 'blob:'].includes(url.protocol) && url.origin !== live.stack.siteOrigin && !url.href.startsWith(live.stack.functionUrl),
    (route) => {
      record.offSite.push(route.request().url());
      return route.abort('blockedbyclient');
    },
  );
  const page = await context.newPage();
  page.on('pageerror', (error) => record.errors.push(`uncaught: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error') record.errors.push(`console: ${message.text()}`);
  });
  page.on('response', (response) => {
    if (response.url() !== previewUrl() || response.request().method() !== 'POST') return;
    const sent = response.request().postDataBuffer();
    record.previews.push({
      recadrage: multipartField(sent, 'recadrage'),
      echelle: multipartField(sent, 'echelle'),
      status: response.status(),
      // The page may drop a request whose answer is still coming: its body is then gone.
      body: response.json().catch(() => null),
    });
  });
  await page.goto(new URL('demande.html', base).href, { waitUntil: 'load' });
  const contract = await page.evaluate(() => JSON.parse(document.getElementById('form-schema').textContent));
  return { context, page, record, contract };
}

/** No uncaught error, no console error but those `allow` matches, nothing off the site. */
function assertClean(record, allow = null) {
  assert.deepEqual(record.errors.filter((error) => !(allow && allow.test(error))), [], 'errors in the page');
  assert.deepEqual(record.offSite, [], 'requests outside the site and the function');
}

async function assertAccessible(page, what) {
  await page.addScriptTag({ content: axeSource });
  const results = await page.evaluate(
    (tags) => window.axe.run(document, { runOnly: { type: 'tag', values: tags }, resultTypes: ['violations'], preload: false }),
    AXE_TAGS,
  );
  const violations = results.violations.flatMap((v) => v.nodes.map((node) => `${v.id} (${v.impact}) at ${node.target.join(' ')}: ${v.help}`));
  assert.deepEqual(violations, [], `axe-core violations on ${what}`);
}

/** Full-page screenshots at 390 and 1280 px: e2e-apercu-<name>-<width>.png. */
async function screenshots(page, name) {
  const original = page.viewportSize();
  for (const viewport of [PHONE, DESKTOP]) {
    await page.setViewportSize(viewport);
    await page.screenshot({ path: path.join(screenshotDir, `e2e-apercu-${name}-${viewport.width}.png`), fullPage: true });
  }
  await page.setViewportSize(original);
}

async function fillFields(page, prenom) {
  const values = { ...SCHOOL_FIELDS, prenom, email: `${prenom.toLowerCase()}.martin@example.org` };
  for (const [name, value] of Object.entries(values)) await page.fill(`#${name}`, value);
  await page.check('#charte');
  await page.selectOption('#filiere', { label: FILIERE });
}

/** The value of text field `name` in a multipart body, or null. */
function multipartField(body, name) {
  const text = body.toString('latin1');
  const marker = `name="${name}"\r\n\r\n`;
  const start = text.indexOf(marker);
  if (start < 0) return null;
  const end = text.indexOf('\r\n--', start + marker.length);
  return Buffer.from(text.slice(start + marker.length, end), 'latin1').toString('utf8');
}

/**
 * The preview's answer to the request that sent `recadrage` (null: none), once it came:
 * { recadrage, echelle (as sent), status, body }. A drag may have sent others on the way.
 */
async function previewWith(record, recadrage) {
  const deadline = Date.now() + ANSWER_TIMEOUT_MS;
  for (;;) {
    const found = record.previews.findLast((answer) => answer.recadrage === recadrage);
    if (found) return { ...found, body: await found.body };
    assert.ok(Date.now() < deadline, `no preview answer for the frame ${recadrage} within ${ANSWER_TIMEOUT_MS / 1000} s: ${live.stack.handlerLog()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The crop as `#recadrage` holds it. */
const cropText = (page) => page.inputValue('#recadrage');

/** The crop sent with the form: { x, y, width, height } from `#recadrage`. */
async function cropShown(page) {
  const [x, y, width, height] = (await page.inputValue('#recadrage')).split(',').map(Number);
  return { x, y, width, height };
}

/** What the advice box shows: null when empty, else { title, framed, hints }. */
function adviceShown(page) {
  return page.evaluate(() => {
    const panel = document.querySelector('#conseils .hints');
    if (!panel) return null;
    const text = (selector) => panel.querySelector(selector)?.textContent ?? null;
    return { title: text('.hints-title'), framed: text('.hints-framed'), hints: [...panel.querySelectorAll('li')].map((li) => li.textContent) };
  });
}

/** Waits until the advice box shows `expected` (null: nothing), as adviceShown gives it. */
async function adviceBecomes(page, expected) {
  try {
    await page.waitForFunction(
      (want) => {
        const panel = document.querySelector('#conseils .hints');
        if (!panel) return want === null;
        const text = (selector) => panel.querySelector(selector)?.textContent ?? null;
        const got = { title: text('.hints-title'), framed: text('.hints-framed'), hints: [...panel.querySelectorAll('li')].map((li) => li.textContent) };
        return JSON.stringify(got) === JSON.stringify(want);
      },
      expected,
      { timeout: 10_000 },
    );
  } catch {
    assert.deepEqual(await adviceShown(page), expected, 'the advice shown');
  }
}

/** The frame the page opens on before any answer (rules.js defaultFrame), as `#recadrage` writes it. */
function defaultCrop(contract, [width, height]) {
  const ratio = contract.limits.output_width / contract.limits.output_height;
  let frame;
  if (width > height * ratio) frame = { width: height * ratio, height, x: (width - height * ratio) / 2, y: 0 };
  else frame = { width, height: width / ratio, x: 0, y: (height - width / ratio) * contract.framing.whole_photo_bias };
  const w = Math.round(frame.width);
  const h = Math.round(frame.height);
  return `${Math.min(Math.max(Math.round(frame.x), 0), width - w)},${Math.min(Math.max(Math.round(frame.y), 0), height - h)},${w},${h}`;
}

/** Drags the photo in the frame by (fx, fy) of the frame's size, with the mouse. */
async function dragPhoto(page, fx, fy) {
  await page.locator('#cadre').scrollIntoViewIfNeeded();
  const box = await page.locator('#cadre').boundingBox();
  const x = box.x + box.width / 2;
  const y = box.y + box.height / 2;
  await page.mouse.move(x, y);
  await page.mouse.down();
  await page.mouse.move(x + box.width * fx, y + box.height * fy, { steps: 8 });
  await page.mouse.up();
}

/** The messages of an answer's `conseils`, checked to be the contract's texts of their codes. */
function messagesOf(conseils, contract) {
  assert.ok(Array.isArray(conseils), `conseils is a list: ${JSON.stringify(conseils)}`);
  for (const { code, message } of conseils) assert.equal(message, contract.messages.hint[code], `the text of ${code}`);
  return conseils.map(({ message }) => message);
}

/** Adds the portrait and returns the first preview's answer: the one sent without a frame. */
async function addPortrait(page, record) {
  await page.setInputFiles('#photo', path.join(FACES, PORTRAIT));
  return previewWith(record, null);
}

describe('the preview: the frame on the face, and the advice', () => {
  test('over loopback: the frame moves onto the face, the advice follows the frame, « Recentrer » comes back to the face; the receipt', async () => {
    const { context, page, record, contract } = await open();
    const { size, face } = portrait(PORTRAIT);
    const hint = contract.messages.hint;
    try {
      await fillFields(page, 'Céleste');
      const first = await addPortrait(page, record);
      assert.equal(first.status, 200, live.stack.handlerLog());
      assert.equal(first.echelle, '1', 'the photo and its copy are the same size');
      assert.ok(first.body.visage, `the function finds the face: ${JSON.stringify(first.body)}`);

      // The frame, on the face: the answer's frame, and around the face marked by hand.
      await adviceBecomes(page, { title: hint.title, framed: hint.framed, hints: messagesOf(first.body.conseils, contract) });
      const framed = await cropShown(page);
      const { cadre } = first.body;
      for (const key of ['x', 'y', 'width', 'height']) {
        assert.ok(Math.abs(framed[key] - cadre[key]) <= 2, `the frame is the function’s: ${JSON.stringify(framed)} for ${JSON.stringify(cadre)}`);
      }
      const [bx, by, bw, bh] = face.box;
      const centre = { x: framed.x + framed.width / 2, y: framed.y + framed.height / 2 };
      const faceCentre = { x: bx + bw / 2, y: by + bh / 2 };
      assert.ok(Math.abs(centre.x - faceCentre.x) <= 0.1 * framed.width, `centred across on the face: ${JSON.stringify({ framed, face: face.box })}`);
      assert.ok(Math.abs(centre.y - faceCentre.y) <= 0.2 * framed.height, `near the face down: ${JSON.stringify({ framed, face: face.box })}`);
      assert.ok(framed.x <= bx && framed.x + framed.width >= bx + bw && framed.y <= by && framed.y + framed.height >= face.chin_y, 'the face is in the frame');
      const before = defaultCrop(contract, size).split(',').map(Number);
      assert.ok(Math.abs(before[0] + before[2] / 2 - faceCentre.x) > 0.1 * before[2], 'the default frame was not on the face (the test means something)');
      assert.equal(await page.textContent('#photo-error'), '', 'no error');
      await screenshots(page, 'framed');
      await assertAccessible(page, 'the photo framed on the face, with its advice');

      // Dragged away from the face: the same copy goes again with the frame, and the advice changes.
      await dragPhoto(page, 0.45, -0.45);
      await dragPhoto(page, 0.45, -0.45);
      // The frame sent is the one shown, in the copy's pixels (here the photo's).
      const away = await previewWith(record, await cropText(page));
      assert.equal(away.status, 200);
      assert.equal(away.echelle, '1');
      const awayCrop = await cropShown(page);
      assert.ok(awayCrop.x + awayCrop.width < bx + bw / 2 || awayCrop.y > by, `the frame left the face: ${JSON.stringify(awayCrop)}`);
      const awayHints = messagesOf(away.body.conseils, contract);
      assert.ok(awayHints.length > 0, `a frame that leaves the face out gets advice: ${JSON.stringify(away.body)}`);
      await adviceBecomes(page, { title: hint.title, framed: null, hints: awayHints });
      await screenshots(page, 'moved-away');
      await assertAccessible(page, 'the advice on a frame away from the face');

      // « Recentrer »: back to the face.
      await page.click('#recentrer');
      assert.deepEqual(await cropShown(page), framed, '« Recentrer » comes back to the function’s frame');
      const recentred = await previewWith(record, await cropText(page));
      const recentredHints = messagesOf(recentred.body.conseils, contract);
      await adviceBecomes(page, recentredHints.length > 0 ? { title: hint.title, framed: null, hints: recentredHints } : null);

      // Sent: the receipt lists the function's advice on the stored photo, if it has any.
      const answer = page.waitForResponse((r) => r.url() === live.stack.handlerUrl && r.request().method() === 'POST', { timeout: ANSWER_TIMEOUT_MS });
      await page.click('#envoyer');
      const sent = await answer;
      assert.equal(sent.status(), 201, live.stack.handlerLog());
      const stored = await sent.json();
      const storedHints = messagesOf(stored.conseils, contract);
      await page.waitForSelector('#form-demande[data-state="receipt"]', { state: 'attached', timeout: ANSWER_TIMEOUT_MS });
      assert.equal(await page.locator('#recu-conseils').isVisible(), storedHints.length > 0, `the receipt's advice: ${JSON.stringify(stored.conseils)}`);
      assert.deepEqual(await page.$$eval('#recu-conseils-liste li', (items) => items.map((li) => li.textContent)), storedHints);
      assertClean(record);
    } finally {
      await context.close();
    }
  });

  test('a request sent with the frame off the face: the receipt lists the advice, also after a reload', async () => {
    const { context, page, record, contract } = await open();
    const hint = contract.messages.hint;
    try {
      await fillFields(page, 'Anouk');
      const first = await addPortrait(page, record);
      assert.equal(first.status, 200, live.stack.handlerLog());
      await adviceBecomes(page, { title: hint.title, framed: hint.framed, hints: messagesOf(first.body.conseils, contract) });
      await dragPhoto(page, 0.45, -0.45);
      await dragPhoto(page, 0.45, -0.45);
      await previewWith(record, await cropText(page));

      const answer = page.waitForResponse((r) => r.url() === live.stack.handlerUrl && r.request().method() === 'POST', { timeout: ANSWER_TIMEOUT_MS });
      await page.click('#envoyer');
      const sent = await answer;
      assert.equal(sent.status(), 201, live.stack.handlerLog());
      const storedHints = messagesOf((await sent.json()).conseils, contract);
      assert.ok(storedHints.length > 0, 'a photo framed off the face gets advice');
      await page.waitForSelector('#form-demande[data-state="receipt"]', { state: 'attached', timeout: ANSWER_TIMEOUT_MS });
      const receiptAdvice = async () => ({
        shown: await page.locator('#recu-conseils').isVisible(),
        title: (await page.textContent('#recu-conseils .hints-title')).trim(),
        hints: await page.$$eval('#recu-conseils-liste li', (items) => items.map((li) => li.textContent)),
        note: (await page.textContent('#recu-conseils .hints-note')).trim(),
      });
      const expected = { shown: true, title: hint.title, hints: storedHints, note: hint.receipt_note };
      assert.deepEqual(await receiptAdvice(), expected);
      await screenshots(page, 'receipt');
      await assertAccessible(page, 'the receipt with the advice on the photo');

      await page.reload();
      assert.equal(await page.getAttribute('#form-demande', 'data-state'), 'receipt');
      assert.deepEqual(await receiptAdvice(), expected, 'kept with the receipt for a reload');
      assertClean(record);
    } finally {
      await context.close();
    }
  });

  // The page's own behaviour stays when the function cannot be asked: the centred frame, no
  // advice, no error; the photo is ready to be sent.
  const unreachable = [
    {
      what: 'the function out of reach (connection refused)',
      cut: (page) => page.route(previewUrl(), (route) => route.abort('connectionrefused')),
      sent: true,
    },
    { what: 'the device offline', cut: (page) => page.context().setOffline(true), sent: false },
  ];
  for (const { what, cut, sent } of unreachable) {
    test(`from file://, ${what}: the centred frame, no advice, no error`, async () => {
      const { context, page, record, contract } = await open({ from: 'file' });
      try {
        await cut(page);
        const requests = [];
        const failed = [];
        page.on('request', (r) => r.url() === previewUrl() && requests.push(r));
        page.on('requestfailed', (r) => r.url() === previewUrl() && failed.push(r));
        await fillFields(page, 'Yanis');
        await page.setInputFiles('#photo', path.join(FACES, PORTRAIT));
        await page.waitForFunction(() => document.getElementById('recadrage').value !== '' && !document.getElementById('cadrage').hidden, null, {
          timeout: 30_000,
        });
        if (sent) await page.waitForEvent('requestfailed', { predicate: (r) => r.url() === previewUrl(), timeout: ANSWER_TIMEOUT_MS });
        else await page.waitForTimeout(1500); // time for a request the page must not send
        await page.waitForTimeout(300);
        assert.equal(requests.length, sent ? 1 : 0, sent ? 'one try' : 'no request while offline');
        assert.equal(failed.length, requests.length);
        assert.equal(await page.inputValue('#recadrage'), defaultCrop(contract, portrait(PORTRAIT).size), 'the centred frame');
        assert.equal(await page.evaluate(() => document.getElementById('conseils').children.length), 0, 'no advice');
        assert.equal(await page.textContent('#photo-error'), '', 'no error under the photo');
        assert.equal(await page.locator('#form-summary').isVisible(), false, 'no error at the top');
        assert.match(await page.textContent('#photo-etat'), /\d+\s*×\s*\d+/, 'the photo is ready');
        if (sent) await screenshots(page, 'unreachable');
        assertClean(record, /ERR_CONNECTION_REFUSED|ERR_INTERNET_DISCONNECTED/);
      } finally {
        await context.close();
      }
    });
  }
});
