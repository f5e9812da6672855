// The request form end to end, the way a student uses it: headless Chromium opens the built
// site (served on loopback, and from file://), fills the form, adds a real phone photo, drags
// the crop, sends; the dossier number read on the page must name a record and a 413×531 JPEG
// in the S3-compatible server, written by the real handler under `cargo lambda watch`. Also:
// JavaScript off (the handler's HTML receipt), a wrong field (its French message beside it,
// nothing typed lost), a double click (one dossier), axe-core on every state of the form and on
// the photo tool, and screenshots at 390 and 1280 px in tests/artifacts/screenshots/e2e-*.png.
//
// Slow: starts moto_server and `cargo lambda watch` (building the handler if `cargo test` has
// not). Run alone with `node --test tests/e2e/`.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { chromium } from 'playwright-core';

import { repoRoot, testsRoot } from '../lib/site.mjs';
import { jpegInfo } from './s3.mjs';
import { startStack } from './stack.mjs';
import { AXE_TAGS, CHROMIUM, CHROMIUM_ARGS } from '../lib/browser.mjs';

const PHONE = { width: 390, height: 844 };
const DESKTOP = { width: 1280, height: 800 };
/** A send takes well under a second here; the margin is for a debug build on a loaded machine. */
const SEND_TIMEOUT_MS = 120_000;
const PHOTO = path.resolve(repoRoot, '..', 'shared', 'photos', 'phone-iphone-8mp-gps.jpg');
const SCHOOL = 'Sidoine Apollinaire'; // content/site.toml, which the form shows read-only

/** What a student types; `filiere` is an option's text. */
const STUDENT = {
  nom: 'Dupré-Lefèvre',
  prenom: 'Léa Marie',
  date_naissance: '2009-03-14',
  email: 'lea.dupre@example.org',
  adresse: '12 rue des Écoles',
  code_postal: '63000',
  commune: 'Clermont-Ferrand',
  telephone: '06 12 34 56 78',
  filiere: 'Première STMG',
};
const TEXT_FIELDS = ['nom', 'prenom', 'date_naissance', 'email', 'adresse', 'code_postal', 'commune', 'telephone'];

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const screenshotDir = path.join(testsRoot, 'artifacts', 'screenshots');

let stack;
let browser;

before(
  async () => {
    if (!existsSync(PHOTO)) throw new Error(`missing test photo \`${PHOTO}\` (the shared photos folder beside the project)`);
    if (!existsSync(CHROMIUM)) throw new Error(`missing tool: chromium (\`${CHROMIUM}\`); \`scripts/test\` installs it`);
    mkdirSync(screenshotDir, { recursive: true });
    stack = await startStack();
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  },
  { timeout: 25 * 60_000 },
);

after(async () => {
  await browser?.close();
  await stack?.stop();
});

/**
 * A fresh page on `demande.html` (or `page`) from the served site or from file://, recording
 * uncaught errors, console errors and any request that leaves the site and the handler.
 */
async function open({ from = 'served', page: relPath = 'demande.html', javaScript = true, viewport = PHONE } = {}) {
  const base = from === 'file' ? stack.siteFileUrl : `${stack.siteOrigin}/`;
  const context = await browser.newContext({ viewport, javaScriptEnabled: javaScript, locale: 'fr-FR' });
  const record = { errors: [], offSite: [] };
  await context.route(
    (url) => !['file:', 'data:', 'blob:'].includes(url.protocol) && url.origin !== stack.siteOrigin && !url.href.startsWith(stack.handlerUrl),
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
  await page.goto(new URL(relPath, base).href, { waitUntil: 'load' });
  return { context, page, record };
}

/** Nothing went wrong in the page: no uncaught error, no console error, nothing off the site. */
function assertClean(record) {
  assert.deepEqual(record.errors, [], 'errors in the page');
  assert.deepEqual(record.offSite, [], 'requests outside the site and the handler');
}

async function axeViolations(page) {
  await page.addScriptTag({ content: axeSource });
  const results = await page.evaluate(
    (tags) => window.axe.run(document, { runOnly: { type: 'tag', values: tags }, resultTypes: ['violations'], preload: false }),
    AXE_TAGS,
  );
  return results.violations.flatMap((v) => v.nodes.map((node) => `${v.id} (${v.impact}) at ${node.target.join(' ')}: ${v.help}`));
}

/** axe-core finds nothing in the page as it stands. */
async function assertAccessible(page, what) {
  assert.deepEqual(await axeViolations(page), [], `axe-core violations on ${what}`);
}

/**
 * axe-core finds nothing in a page shown with JavaScript off: axe is a script, so the page's
 * HTML is checked in a page of its own with JavaScript on.
 */
async function assertAccessibleWithoutScripts(page, what) {
  const html = await page.content();
  const context = await browser.newContext({ viewport: PHONE, locale: 'fr-FR' });
  try {
    const copy = await context.newPage();
    await copy.setContent(html, { waitUntil: 'load' });
    await assertAccessible(copy, what);
  } finally {
    await context.close();
  }
}

/** Full-page screenshots of the page as it stands at 390 and 1280 px: e2e-<name>-<width>.png. */
async function screenshots(page, name) {
  const original = page.viewportSize();
  for (const viewport of [PHONE, DESKTOP]) {
    await page.setViewportSize(viewport);
    await page.screenshot({ path: path.join(screenshotDir, `e2e-${name}-${viewport.width}.png`), fullPage: true });
  }
  await page.setViewportSize(original);
}

/** Types every answer of `student`, ticks the charter and chooses the filière. */
async function fillFields(page, student) {
  for (const name of TEXT_FIELDS) await page.fill(`#${name}`, student[name]);
  await page.check('#charte');
  await page.selectOption('#filiere', { label: student.filiere });
}

/** Adds the photo and waits until the page has reduced it and shows the crop frame. */
async function addPhoto(page) {
  await page.setInputFiles('#photo', PHOTO);
  await page.waitForFunction(() => document.getElementById('recadrage').value !== '' && !document.getElementById('cadrage').hidden, null, {
    timeout: 30_000,
  });
}

/** Drags the photo inside the frame with the mouse; returns the crop before and after. */
async function dragCrop(page) {
  const before = await page.inputValue('#recadrage');
  await page.locator('#cadre').scrollIntoViewIfNeeded();
  const box = await page.locator('#cadre').boundingBox();
  const x = box.x + box.width / 2;
  const y = box.y + box.height / 2;
  await page.mouse.move(x, y);
  await page.mouse.down();
  await page.mouse.move(x - box.width * 0.3, y - box.height * 0.1, { steps: 8 });
  await page.mouse.up();
  const after = await page.inputValue('#recadrage');
  return { before, after };
}

/** The value of text field `name` in a multipart body. */
function multipartField(body, name) {
  const text = body.toString('latin1');
  const marker = `name="${name}"\r\n\r\n`;
  const start = text.indexOf(marker);
  if (start < 0) return null;
  const end = text.indexOf('\r\n--', start + marker.length);
  return Buffer.from(text.slice(start + marker.length, end), 'latin1').toString('utf8');
}

/** The dossier shown in the page's receipt, once it is there; fails as soon as `formUrl` is left. */
async function receiptNumber(page, formUrl) {
  const deadline = Date.now() + SEND_TIMEOUT_MS;
  for (;;) {
    assert.equal(page.url(), formUrl, 'the page was left instead of showing the receipt');
    if ((await page.getAttribute('#form-demande', 'data-state')) === 'receipt') break;
    assert.ok(Date.now() < deadline, `no receipt within ${SEND_TIMEOUT_MS / 1000} s`);
    await page.waitForTimeout(200);
  }
  assert.equal(await page.locator('#recu').isVisible(), true, 'the receipt is shown');
  assert.equal(await page.locator('#form-demande').isVisible(), false, 'the form is hidden');
  return (await page.textContent('#recu-numero')).trim();
}

/** `K7M-4QX-9TC` → `K7M4QX9TC`, after checking its shape. */
function compactOf(dossier) {
  assert.match(dossier, /^[0-9ACDEFGHJKMNPQRTVWXY]{3}-[0-9ACDEFGHJKMNPQRTVWXY]{3}-[0-9ACDEFGHJKMNPQRTVWXY]{3}$/, 'dossier format');
  return dossier.replaceAll('-', '');
}

/**
 * The record and the photo stored under `dossier` hold what the student typed and a compliant
 * ID photo; `original` is the size of what was uploaded. Returns the record.
 */
async function assertStored(dossier, student, original) {
  const compact = compactOf(dossier);
  const prefix = `demandes/${compact}/`;
  assert.deepEqual(await stack.s3.listKeys(prefix), [`${prefix}demande.json`, `${prefix}photo.jpg`]);

  const photo = await stack.s3.getObject(`${prefix}photo.jpg`);
  assert.equal(photo.contentType, 'image/jpeg');
  const info = jpegInfo(photo.bytes);
  assert.deepEqual(
    { frame: info.frame, width: info.width, height: info.height, components: info.components },
    { frame: 'SOF0', width: 413, height: 531, components: 3 },
    'a baseline 413×531 colour JPEG',
  );
  assert.ok(!info.app.includes('APP1'), `no EXIF or XMP left (segments: ${info.app.join(', ')})`);
  assert.ok(photo.bytes.length <= 200 * 1024, `${photo.bytes.length} bytes`);
  const sha256 = createHash('sha256').update(photo.bytes).digest('hex');
  assert.equal(photo.metadata.sha256, sha256);

  const stored = await stack.s3.getObject(`${prefix}demande.json`);
  assert.equal(stored.contentType, 'application/json');
  const record = JSON.parse(stored.bytes.toString('utf8'));
  assert.equal(record.schema_version, 1);
  assert.equal(record.dossier, dossier);
  assert.ok(!Number.isNaN(Date.parse(record.received_at)), `received_at ${record.received_at}`);
  assert.deepEqual(record.demande, {
    charte: true,
    nom: student.nom,
    prenom: student.prenom,
    date_naissance: student.date_naissance,
    email: student.email,
    adresse: student.adresse,
    code_postal: student.code_postal,
    commune: student.commune,
    telephone: `+33${student.telephone.replaceAll(' ', '').slice(1)}`,
    etablissement: SCHOOL,
    filiere: student.filiere,
    envoi_etablissement: true,
  });
  assert.deepEqual(record.photo, { key: `${prefix}photo.jpg`, sha256, bytes: photo.bytes.length, width: 413, height: 531 });
  assert.deepEqual(record.original, { format: 'jpeg', ...original });
  assert.match(record.submission, /^[0-9a-f]{64}$/);
  return record;
}

/** Fills the form, adds the photo and drags the crop; returns the crop dragged to. */
async function prepare(page, student) {
  await fillFields(page, student);
  await addPhoto(page);
  const crop = await dragCrop(page);
  assert.notEqual(crop.after, crop.before, 'dragging moved the crop');
  return crop.after;
}

/** Sends with a click, checks what was posted, and returns the dossier shown in the receipt. */
async function send(page, crop) {
  const request = page.waitForRequest((r) => r.url() === stack.handlerUrl && r.method() === 'POST', { timeout: SEND_TIMEOUT_MS });
  const formUrl = page.url();
  await page.click('#envoyer');
  const body = (await request).postDataBuffer();
  assert.equal(multipartField(body, 'recadrage'), crop, 'the crop sent is the one dragged to');
  assert.match(multipartField(body, 'submission_id') ?? '', /^[0-9a-f-]{32,36}$/, 'a submission id is sent');
  return receiptNumber(page, formUrl);
}

/** The size of the photo the page uploads: the original reduced to 1600 px on its longest side. */
const REDUCED = { width: 1600, height: 1200 };

describe('the request form, end to end', () => {
  // The empty form: nothing wrong in the page, nothing for axe-core to report.
  test('empty form: axe-core finds nothing; screenshots', async () => {
    const { context, page, record } = await open();
    try {
      assert.equal(await page.getAttribute('#form-demande', 'data-state'), 'empty');
      assert.equal(await page.getAttribute('#form-demande', 'action'), stack.handlerUrl);
      await screenshots(page, 'form-empty');
      assertClean(record);
      await assertAccessible(page, 'the empty form');
    } finally {
      await context.close();
    }
  });

  // Served on loopback: the whole path, from typing to the record and the photo in S3.
  test('served on loopback, with JavaScript: the dossier on the page names the record and a 413×531 photo in S3', async () => {
    const { context, page, record } = await open();
    try {
      const crop = await prepare(page, STUDENT);
      await screenshots(page, 'form-photo');
      await assertAccessible(page, 'the filled form with its photo in the frame');
      const dossier = await send(page, crop);
      await assertStored(dossier, STUDENT, REDUCED);
      assert.equal((await page.textContent('#slip-numero')).trim(), dossier, 'the slip carries the number');
      assert.equal((await page.textContent('#slip-nom')).trim(), STUDENT.nom);
      await screenshots(page, 'form-receipt');
      assertClean(record);
      await assertAccessible(page, 'the receipt');
    } finally {
      await context.close();
    }
  });

  // Opened from a USB key (file://, `Origin: null`): the same, through fetch.
  test('opened from file://, with JavaScript: the dossier on the page names the record and a 413×531 photo in S3', async () => {
    const { context, page, record } = await open({ from: 'file' });
    try {
      const student = { ...STUDENT, prenom: 'Inès', email: 'ines.dupre@example.org' };
      const dossier = await send(page, await prepare(page, student));
      assert.ok(page.url().startsWith('file:'), `the receipt is shown in the page itself, not at ${page.url()}`);
      await assertStored(dossier, student, REDUCED);
      await screenshots(page, 'file-receipt');
      assertClean(record);
    } finally {
      await context.close();
    }
  });

  // A double click on « Envoyer » gives one dossier: two objects in S3, no more.
  test('a double click sends one request: one dossier in S3', async () => {
    const { context, page, record } = await open();
    try {
      const student = { ...STUDENT, prenom: 'Noé', email: 'noe.dupre@example.org' };
      await fillFields(page, student);
      await addPhoto(page);
      const before = await stack.s3.listKeys('demandes/');
      const posts = [];
      page.on('request', (r) => r.url() === stack.handlerUrl && r.method() === 'POST' && posts.push(r));
      const formUrl = page.url();
      await page.dblclick('#envoyer');
      const dossier = await receiptNumber(page, formUrl);
      const added = (await stack.s3.listKeys('demandes/')).filter((key) => !before.includes(key));
      const prefix = `demandes/${compactOf(dossier)}/`;
      assert.deepEqual(added, [`${prefix}demande.json`, `${prefix}photo.jpg`]);
      assert.equal(posts.length, 1, 'the second click sent nothing');
      assertClean(record);
    } finally {
      await context.close();
    }
  });

  // A wrong code postal: the server's own French message beside the field, every answer and the
  // photo kept; once corrected, the same page sends.
  test('a wrong field: its French message beside it, everything typed kept; axe-core on the error state', async () => {
    const { context, page, record } = await open();
    try {
      const student = { ...STUDENT, prenom: 'Zoé', email: 'zoe.dupre@example.org', code_postal: '123' };
      await fillFields(page, student);
      await addPhoto(page);
      const crop = await page.inputValue('#recadrage');
      await page.click('#envoyer');
      await page.waitForSelector('#form-demande[data-state="error"]', { state: 'attached' });

      // The message the handler gives for the same value.
      const data = new FormData();
      data.append('code_postal', student.code_postal);
      const answer = await fetch(stack.handlerUrl, { method: 'POST', body: data, headers: { Accept: 'application/json' } });
      assert.equal(answer.status, 422);
      const serverMessage = (await answer.json()).errors.code_postal;
      assert.match(serverMessage, /code postal/);

      const error = page.locator('#field-code_postal #code_postal-error');
      assert.equal(await error.isVisible(), true, 'the message is inside the field’s box');
      assert.equal((await error.textContent()).trim(), serverMessage);
      assert.equal(await page.getAttribute('#code_postal', 'aria-invalid'), 'true');
      assert.match(await page.getAttribute('#code_postal', 'aria-describedby'), /\bcode_postal-error\b/);
      const otherErrors = await page.$$eval('.field-error', (boxes) => boxes.filter((b) => b.textContent.trim() && b.id !== 'code_postal-error').map((b) => b.id));
      assert.deepEqual(otherErrors, [], 'only the wrong field is flagged');

      for (const name of TEXT_FIELDS) assert.equal(await page.inputValue(`#${name}`), student[name], `${name} kept`);
      assert.equal(await page.isChecked('#charte'), true, 'charte kept');
      assert.equal(await page.isChecked('#envoi_etablissement'), true, 'envoi_etablissement kept');
      assert.equal(await page.inputValue('#filiere'), student.filiere, 'filière kept');
      assert.equal(await page.inputValue('#recadrage'), crop, 'photo and crop kept');
      assert.equal(await page.locator('#cadrage').isVisible(), true, 'the photo is still in its frame');

      await screenshots(page, 'form-error');
      await assertAccessible(page, 'the form in its error state');

      await page.fill('#code_postal', '63100');
      const formUrl = page.url();
      await page.click('#envoyer');
      const dossier = await receiptNumber(page, formUrl);
      await assertStored(dossier, { ...student, code_postal: '63100' }, REDUCED);
      assertClean(record);
    } finally {
      await context.close();
    }
  });

  // Without JavaScript the form posts as a page: the handler's HTML receipt gives the number.
  test('with JavaScript off: the handler’s receipt page gives the dossier; the record and photo are in S3', async () => {
    const { context, page, record } = await open({ javaScript: false });
    try {
      const student = { ...STUDENT, prenom: 'Éloïse', email: 'eloise.dupre@example.org' };
      await fillFields(page, student);
      await page.setInputFiles('#photo', PHOTO);
      const [response] = await Promise.all([
        page.waitForNavigation({ url: stack.handlerUrl, timeout: SEND_TIMEOUT_MS }),
        page.click('#envoyer'),
      ]);
      assert.equal(response.status(), 201, stack.handlerLog());
      const dossier = (await page.textContent('p.dossier')).trim();
      await assertStored(dossier, student, { width: 3264, height: 2448 });
      await screenshots(page, 'nojs-receipt');
      assertClean(record);
      await assertAccessibleWithoutScripts(page, 'the handler’s receipt page');
    } finally {
      await context.close();
    }
  });

  // The photo tool: accessible before and after reducing a photo, which stays on the device.
  test('photo tool: axe-core finds nothing, empty and with a reduced photo; screenshots', async () => {
    const { context, page, record } = await open({ page: 'reduire-photo.html' });
    try {
      await screenshots(page, 'photo-tool-empty');
      await assertAccessible(page, 'the empty photo tool');
      await page.setInputFiles('#outil-photo', PHOTO);
      await page.waitForSelector('#outil-resultat:not([hidden])', { timeout: 30_000 });
      assert.match(await page.textContent('#outil-avant'), /\d/);
      assert.match(await page.textContent('#outil-apres'), /\d/);
      await screenshots(page, 'photo-tool-result');
      assertClean(record);
      await assertAccessible(page, 'the photo tool with its result');
    } finally {
      await context.close();
    }
  });
});
