// The request form end to end, the way a student uses it: headless Chromium opens the built
// site (served on loopback, and from file://), fills the form, adds a real phone photo, drags
// the crop, sends; the dossier number read on the page must name a record and a 413×531 JPEG
// in the S3-compatible server, written by the real handler under `cargo lambda watch`. Also:
// JavaScript off (the handler's HTML receipt), a wrong field (its French message beside it,
// nothing typed lost), a double click (one dossier), axe-core on every state of the form and on
// the photo tool, and screenshots at 390 and 1280 px in tests/artifacts/screenshots/e2e-*.png.
// Then the receipt: it shows the values the handler stored (normalised, and after a replay the
// stored ones rather than what was edited since), the same submission id with other answers
// (409), a body above the handler's limit (refused in the page), and on a shared computer the
// receipt's end: kept on a reload, gone once printed, once the page is left, or after 30 minutes.
//
// Slow: starts moto_server and `cargo lambda watch` (building the handler if `cargo test` has
// not). Run alone with `node --test tests/e2e/`.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { promisify } from 'node:util';

import { chromium } from 'playwright-core';

import { repoRoot, testsRoot } from '../lib/site.mjs';
import { jpegInfo } from './s3.mjs';
import { useStack } from './stack.mjs';
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

const live = useStack({
  prepare: () => {
    if (!existsSync(PHOTO)) throw new Error(`missing test photo \`${PHOTO}\` (the shared photos folder beside the project)`);
    mkdirSync(screenshotDir, { recursive: true });
  },
});

/**
 * A fresh page on `demande.html` (or `page`) from the served site or from file://, recording
 * uncaught errors, console errors and any request that leaves the site and the handler.
 * `setup(page)` runs before the page is opened (a fake clock, a route); `inBrowser` is another
 * browser than the shared one.
 */
async function open({ from = 'served', page: relPath = 'demande.html', javaScript = true, viewport = PHONE, setup, inBrowser = live.browser } = {}) {
  const base = from === 'file' ? live.stack.siteFileUrl : `${live.stack.siteOrigin}/`;
  const context = await inBrowser.newContext({ viewport, javaScriptEnabled: javaScript, locale: 'fr-FR' });
  const record = { errors: [], offSite: [] };
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
  if (setup) await setup(page);
  await page.goto(new URL(relPath, base).href, { waitUntil: 'load' });
  return { context, page, record };
}

/**
 * Nothing went wrong in the page: no uncaught error, no console error, nothing off the site.
 * `allow` matches the console errors a test causes on purpose (a connection it cuts).
 */
function assertClean(record, allow = null) {
  assert.deepEqual(
    record.errors.filter((error) => !(allow && allow.test(error))),
    [],
    'errors in the page',
  );
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
  const context = await live.browser.newContext({ viewport: PHONE, locale: 'fr-FR' });
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

/** `H4R-7N2-KPQ` → `H4R7N2KPQ`, after checking its shape. */
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
  assert.deepEqual(await live.stack.s3.listKeys(prefix), [`${prefix}courriel-1.json`, `${prefix}demande.json`, `${prefix}photo.jpg`]);
  // The e-mail with the activation link left through the stack's SES, and was noted.
  const mail = JSON.parse((await live.stack.s3.getObject(`${prefix}courriel-1.json`)).bytes.toString('utf8'));
  assert.deepEqual({ reason: mail.reason, sent: mail.sent }, { reason: 'demande', sent: true });

  const photo = await live.stack.s3.getObject(`${prefix}photo.jpg`);
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

  const stored = await live.stack.s3.getObject(`${prefix}demande.json`);
  assert.equal(stored.contentType, 'application/json');
  const record = JSON.parse(stored.bytes.toString('utf8'));
  assert.equal(record.schema_version, 2); // 2 added `content` (handler/src/storage/commit.rs)
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
  assert.match(record.content, /^[0-9a-f]{64}$/);
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
  const request = page.waitForRequest((r) => r.url() === live.stack.handlerUrl && r.method() === 'POST', { timeout: SEND_TIMEOUT_MS });
  const formUrl = page.url();
  await page.click('#envoyer');
  const body = (await request).postDataBuffer();
  // The frame dragged to goes cut from the original (photo.js), its crop naming the whole of it.
  assert.match(multipartField(body, 'recadrage') ?? '', /^0,0,\d+,\d+$/, 'the crop sent is the whole upload');
  assert.equal(await page.inputValue('#recadrage'), crop, 'the frame is the one dragged to');
  assert.match(multipartField(body, 'submission_id') ?? '', /^[0-9a-f-]{32,36}$/, 'a submission id is sent');
  return receiptNumber(page, formUrl);
}

/**
 * The size of the photo the page uploads: the frame the photo opens on (its full height) cut from
 * the 3264×2448 original, 1903×2448, reduced to the frame upload's 1,061 rows (limits.frame_upload).
 */
const UPLOADED = { width: 825, height: 1061 };

describe('the request form, end to end', () => {
  // The empty form: nothing wrong in the page, nothing for axe-core to report.
  test('empty form: axe-core finds nothing; screenshots', async () => {
    const { context, page, record } = await open();
    try {
      assert.equal(await page.getAttribute('#form-demande', 'data-state'), 'empty');
      assert.equal(await page.getAttribute('#form-demande', 'action'), live.stack.handlerUrl);
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
      await assertStored(dossier, STUDENT, UPLOADED);
      assert.equal((await page.textContent('#slip-numero')).trim(), dossier, 'the slip carries the number');
      assert.equal((await page.textContent('#slip-nom')).trim(), STUDENT.nom);
      const mailText = () => page.textContent('#recu-courriel-texte');
      assert.ok((await mailText()).startsWith(`Un e-mail vient de partir vers ${STUDENT.email}\u202f:`), await mailText());
      await screenshots(page, 'form-receipt');
      assertClean(record);
      await assertAccessible(page, 'the receipt');

      // « Renvoyer l’e-mail »: the next e-mail, noted beside the record, and said.
      await page.click('#recu-renvoyer');
      await page.waitForFunction(() => document.getElementById('recu-courriel-texte').textContent.includes('renvoyé'));
      assert.equal(await mailText(), `L’e-mail vient d’être renvoyé vers ${STUDENT.email}.`);
      const compact = compactOf(dossier);
      assert.ok((await live.stack.s3.listKeys(`demandes/${compact}/`)).includes(`demandes/${compact}/courriel-2.json`));
      assertClean(record);
      await assertAccessible(page, 'the receipt after « Renvoyer l’e-mail »');
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
      await assertStored(dossier, student, UPLOADED);
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
      const before = await live.stack.s3.listKeys('demandes/');
      const posts = [];
      page.on('request', (r) => r.url() === live.stack.handlerUrl && r.method() === 'POST' && posts.push(r));
      const formUrl = page.url();
      await page.dblclick('#envoyer');
      const dossier = await receiptNumber(page, formUrl);
      const added = (await live.stack.s3.listKeys('demandes/')).filter((key) => !before.includes(key));
      const prefix = `demandes/${compactOf(dossier)}/`;
      assert.deepEqual(added, [`${prefix}courriel-1.json`, `${prefix}demande.json`, `${prefix}photo.jpg`]);
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
      const answer = await fetch(live.stack.handlerUrl, { method: 'POST', body: data, headers: { Accept: 'application/json' } });
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
      await assertStored(dossier, { ...student, code_postal: '63100' }, UPLOADED);
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
      const dossier = await sendWithoutScripts(page, student);
      await assertStored(dossier, student, { width: 3264, height: 2448 });
      assert.ok((await page.textContent('#courriel')).includes(`vers ${student.email}`), 'the receipt says where the e-mail went');
      await screenshots(page, 'nojs-receipt');
      assertClean(record);
      await assertAccessibleWithoutScripts(page, 'the handler’s receipt page');

      // « Renvoyer l’e-mail » without JavaScript: a form post, and the function's page says so.
      const [resent] = await Promise.all([page.waitForNavigation(), page.click('button:has-text("Renvoyer l’e-mail")')]);
      assert.equal(resent.status(), 200, live.stack.handlerLog());
      assert.equal((await page.textContent('#courriel')).trim(), `L’e-mail vient d’être renvoyé vers ${student.email}.`);
      await screenshots(page, 'nojs-resent');
      assertClean(record);
      await assertAccessibleWithoutScripts(page, 'the handler’s resend page');
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
      // The photo (1.96 MB) is under the form's limit, which the page gives the tool.
      const limit = await page.getAttribute('#outil', 'data-max-photo');
      assert.ok((await page.textContent('#outil-etat')).startsWith(`Cette photo ne dépasse pas ${limit}\u202f: le formulaire de demande l’accepte`));
      await screenshots(page, 'photo-tool-result');
      assertClean(record);
      await assertAccessible(page, 'the photo tool with its result');
    } finally {
      await context.close();
    }
  });
});

// ---------------------------------------------------------------- the receipt

/** Where form.js keeps the receipt and the answers, in sessionStorage. */
const RECEIPT_KEY = 'passregion-recu';
const VALUES_KEY = 'passregion-demande';
/** The values the receipt shows (#recu-<name> in templates/form.html). */
const RECEIPT_FIELDS = ['nom', 'prenom', 'date_naissance', 'email', 'etablissement', 'filiere', 'envoi_etablissement'];
/** The console line Chromium writes for a request a test cuts on purpose. */
const CUT_CONNECTION = /Failed to load resource: net::ERR_CONNECTION_RESET/;

/** What the tab keeps in sessionStorage, parsed: { receipt, values }, null when absent. */
function storedInTab(page) {
  return page.evaluate(
    ([receipt, values]) => ({
      receipt: JSON.parse(sessionStorage.getItem(receipt)),
      values: JSON.parse(sessionStorage.getItem(values)),
    }),
    [RECEIPT_KEY, VALUES_KEY],
  );
}

/** The values the receipt shows, by field. */
function receiptValues(page) {
  return page.evaluate((names) => Object.fromEntries(names.map((n) => [n, document.getElementById(`recu-${n}`).textContent])), RECEIPT_FIELDS);
}

/** The slip's values (the « document à rendre »), by line. */
function slipValues(page) {
  return page.evaluate(() =>
    Object.fromEntries(['nom', 'prenom', 'naissance', 'filiere', 'numero'].map((n) => [n, document.getElementById(`slip-${n}`).textContent])),
  );
}

/** The record stored under `dossier`, parsed. */
async function storedRecord(dossier) {
  const object = await live.stack.s3.getObject(`demandes/${compactOf(dossier)}/demande.json`);
  return JSON.parse(object.bytes.toString('utf8'));
}

/** Fills the form, adds the photo, sends with a click; returns the dossier of the receipt. */
async function sendNew(page, student) {
  await fillFields(page, student);
  await addPhoto(page);
  const formUrl = page.url();
  await page.click('#envoyer');
  return receiptNumber(page, formUrl);
}

/** Fills the form, adds the photo, posts it as a page (no JavaScript); returns the dossier of the function's receipt. */
async function sendWithoutScripts(page, student) {
  await fillFields(page, student);
  await page.setInputFiles('#photo', PHOTO);
  const [response] = await Promise.all([
    page.waitForNavigation({ url: live.stack.handlerUrl, timeout: SEND_TIMEOUT_MS }),
    page.click('#envoyer'),
  ]);
  assert.equal(response.status(), 201, live.stack.handlerLog());
  return (await page.textContent('p.dossier')).trim();
}

/**
 * Lets the page's next POST reach the handler, then cuts the connection before the page reads
 * the answer, as a lost connection would: the handler has stored the request, the page does not
 * know it. `answer` resolves to what the page did not get: { status, body, submission }.
 */
async function loseNextAnswer(page) {
  let resolve;
  let reject;
  const answer = new Promise((yes, no) => {
    resolve = yes;
    reject = no;
  });
  await page.route(
    live.stack.handlerUrl,
    async (route) => {
      try {
        const request = route.request();
        const response = await route.fetch({ timeout: SEND_TIMEOUT_MS });
        resolve({
          status: response.status(),
          body: await response.json(),
          submission: multipartField(request.postDataBuffer(), 'submission_id'),
        });
        await route.abort('connectionreset');
      } catch (error) {
        reject(error);
      }
    },
    { times: 1 },
  );
  return { answer };
}

/** Waits until the summary at the top of the form says `message` and has the focus. */
async function summaryShows(page, message) {
  await page.waitForFunction(
    (text) => document.getElementById('form-summary-message').textContent === text && document.activeElement === document.getElementById('form-summary'),
    message,
    { timeout: SEND_TIMEOUT_MS },
  );
  assert.equal(await page.locator('#form-summary').isVisible(), true, 'the summary is shown');
}

/** Every answer typed, the photo and its crop are still in the form. */
async function assertKept(page, student, crop) {
  for (const name of TEXT_FIELDS) assert.equal(await page.inputValue(`#${name}`), student[name], `${name} kept`);
  assert.equal(await page.isChecked('#charte'), true, 'charte kept');
  assert.equal(await page.inputValue('#filiere'), student.filiere, 'filière kept');
  assert.equal(await page.inputValue('#recadrage'), crop, 'photo and crop kept');
  assert.equal(await page.locator('#cadrage').isVisible(), true, 'the photo is still in its frame');
}

/**
 * The receipt is gone: not on the screen, not in the page's DOM, not in the tab's storage, and
 * the form is back, empty; `student`'s name is nowhere left.
 */
async function assertReceiptGone(page, student, what) {
  assert.equal(await page.getAttribute('#form-demande', 'data-state'), 'empty', `${what}: the form is back`);
  assert.equal(await page.locator('#recu').isVisible(), false, `${what}: no receipt on the screen`);
  assert.equal(await page.locator('#form-demande').isVisible(), true, `${what}: the form is shown`);
  const text = await page.evaluate(() => document.getElementById('demande').textContent);
  assert.ok(!text.includes(student.prenom), `${what}: the name is not left in the page`);
  assert.equal((await page.textContent('#recu-numero')).trim(), '', `${what}: the number is not left in the page`);
  assert.equal(await page.inputValue('#prenom'), '', `${what}: the form is empty`);
  const inTab = await storedInTab(page);
  assert.equal(inTab.receipt, null, `${what}: no receipt in sessionStorage`);
  assert.ok(!JSON.stringify(inTab.values).includes(student.prenom), `${what}: no answer in sessionStorage`);
}

/** Puts a receipt kept earlier back into the tab and reloads: the page shows it again. */
async function putBack(page, receipt) {
  await page.evaluate(([key, value]) => sessionStorage.setItem(key, JSON.stringify(value)), [RECEIPT_KEY, receipt]);
  await page.reload();
  assert.equal(await page.getAttribute('#form-demande', 'data-state'), 'receipt', 'the receipt put back is shown');
}

describe('the receipt: the stored values, and its end on a shared computer', () => {
  // What the receipt and the slip show is what the handler stored: trimmed, NFC (a name typed
  // with combining accents), the e-mail's domain in punycode.
  test('the receipt and the slip show the values as stored, not as typed', async () => {
    const { context, page, record } = await open();
    try {
      const typed = { ...STUDENT, nom: '  Dupre\u0301-Lefe\u0300vre ', prenom: 'Léa    Marie ', email: 'lea.dupre@lycée-exemple.fr' };
      const dossier = await sendNew(page, typed);
      const stored = (await storedRecord(dossier)).demande;
      assert.deepEqual(
        { nom: stored.nom, prenom: stored.prenom, email: stored.email },
        { nom: 'Dupré-Lefèvre', prenom: 'Léa Marie', email: 'lea.dupre@xn--lyce-exemple-deb.fr' },
        'the handler normalised them',
      );
      assert.deepEqual(await receiptValues(page), {
        nom: 'Dupré-Lefèvre',
        prenom: 'Léa Marie',
        date_naissance: '14 mars 2009',
        email: 'lea.dupre@xn--lyce-exemple-deb.fr',
        etablissement: SCHOOL,
        filiere: typed.filiere,
        envoi_etablissement: 'Oui',
      });
      assert.deepEqual(await slipValues(page), { nom: 'Dupré-Lefèvre', prenom: 'Léa Marie', naissance: '14 mars 2009', filiere: typed.filiere, numero: dossier });
      assert.equal(await page.inputValue('#nom'), typed.nom, 'the (hidden) input still holds what was typed');
      await screenshots(page, 'receipt-values');
      assertClean(record);
      await assertAccessible(page, 'the receipt with the stored values');
    } finally {
      await context.close();
    }
  });

  // The answer of a stored request is lost; the student adds spaces and sends again: the handler
  // replays (same content once normalised) and the receipt gives what it stored.
  test('a lost answer, then the same request with spaces added: a replay, and the receipt gives the stored values', async () => {
    const { context, page, record } = await open();
    try {
      const student = { ...STUDENT, prenom: 'Maël', email: 'mael.dupre@example.org' };
      await fillFields(page, student);
      await addPhoto(page);
      const lost = await loseNextAnswer(page);
      await page.click('#envoyer');
      const first = await lost.answer;
      assert.equal(first.status, 201, JSON.stringify(first.body));
      await page.waitForSelector('#form-demande[data-state="error"]', { state: 'attached' });

      await page.fill('#prenom', '  Maël  ');
      await page.fill('#nom', `${student.nom}   `);
      const formUrl = page.url();
      await page.click('#envoyer');
      const dossier = await receiptNumber(page, formUrl);
      assert.equal(dossier, first.body.dossier, 'the same dossier');
      assert.equal(await page.locator('#recu-deja').isVisible(), true, 'said to be sent already');
      const shown = await receiptValues(page);
      assert.deepEqual({ nom: shown.nom, prenom: shown.prenom }, { nom: student.nom, prenom: 'Maël' });
      assert.deepEqual((await slipValues(page)).prenom, 'Maël');
      assert.equal(await page.inputValue('#prenom'), '  Maël  ', 'the input holds the edited value');
      assertClean(record, CUT_CONNECTION);
    } finally {
      await context.close();
    }
  });

  // The answer is lost, the student changes an answer and sends again with the same submission
  // id: 409, nothing stored; the page says so at the top, keeps everything, and the next send is
  // a new request with its own number.
  test('the same submission id with other answers (409): the message at the top, everything kept, a new request next', async () => {
    const { context, page, record } = await open();
    try {
      const student = { ...STUDENT, prenom: 'Timéo', email: 'timeo.dupre@example.org' };
      await fillFields(page, student);
      await addPhoto(page);
      const crop = await page.inputValue('#recadrage');
      const lost = await loseNextAnswer(page);
      await page.click('#envoyer');
      const first = await lost.answer;
      assert.equal(first.status, 201, JSON.stringify(first.body));
      await page.waitForSelector('#form-demande[data-state="error"]', { state: 'attached' });
      assert.equal(await page.inputValue('#submission_id'), first.submission, 'the id is kept for a retry');
      const keysBefore = await live.stack.s3.listKeys('demandes/');

      const changed = { ...student, filiere: 'Terminale STMG' };
      await page.selectOption('#filiere', { label: changed.filiere });
      const answer = page.waitForResponse((r) => r.url() === live.stack.handlerUrl && r.request().method() === 'POST', { timeout: SEND_TIMEOUT_MS });
      await page.click('#envoyer');
      const response = await answer;
      assert.equal(response.status(), 409);
      const message = (await response.json()).error;
      assert.match(message, /déjà été envoyé/);
      await summaryShows(page, message);
      assert.equal(await page.getAttribute('#form-demande', 'data-state'), 'error');
      await assertKept(page, changed, crop);
      assert.deepEqual(await live.stack.s3.listKeys('demandes/'), keysBefore, 'nothing stored');
      const fresh = await page.inputValue('#submission_id');
      assert.notEqual(fresh, first.submission, 'a new submission id');
      assert.equal((await storedInTab(page)).values.submission, fresh, 'kept for a reload too');
      await screenshots(page, 'form-conflict');
      await assertAccessible(page, 'the form after a 409');

      const formUrl = page.url();
      await page.click('#envoyer');
      const dossier = await receiptNumber(page, formUrl);
      assert.notEqual(dossier, first.body.dossier, 'a new request, with its own number');
      assert.equal(await page.locator('#recu-deja').isVisible(), false, 'not a replay');
      assert.equal((await receiptValues(page)).filiere, changed.filiere);
      assert.equal((await storedRecord(dossier)).demande.filiere, changed.filiere);
      assert.equal((await storedRecord(first.body.dossier)).demande.filiere, student.filiere, 'the first request is as it was');
      assertClean(record, /ERR_CONNECTION_RESET|status of 409/);
    } finally {
      await context.close();
    }
  });

  // A 403 (an origin the handler does not allow) is shown like any failure. A browser reads it
  // only when the handler sends CORS headers for the page's origin, which it does not for an
  // origin it refuses: the answer is made up here, to check the page's side.
  test('a 403 answer: its message at the top, everything kept', async () => {
    const message = 'Ce formulaire n’a pas été envoyé depuis le site de l’établissement.';
    const { context, page, record } = await open();
    try {
      await page.route(live.stack.handlerUrl, (route) =>
        route.fulfill({
          status: 403,
          contentType: 'application/json',
          headers: { 'Access-Control-Allow-Origin': live.stack.siteOrigin },
          body: JSON.stringify({ error: message }),
        }),
      );
      await fillFields(page, STUDENT);
      await addPhoto(page);
      const crop = await page.inputValue('#recadrage');
      await page.click('#envoyer');
      await summaryShows(page, message);
      await assertKept(page, STUDENT, crop);
      assertClean(record, /status of 403/);
    } finally {
      await context.close();
    }
  });

  // The page weighs the body before sending: above the handler's limit (here made small in the
  // page's contract) it says so in French under the photo, and sends nothing.
  test('a body above the handler’s limit: refused in the page, in French, nothing sent', async () => {
    const setup = (page) =>
      page.route(`${live.stack.siteOrigin}/demande.html`, async (route) => {
        const response = await route.fetch();
        const html = await response.text();
        const limited = html.replace(/"max_body_bytes":\d+/, '"max_body_bytes":20000');
        assert.notEqual(limited, html, 'the page’s contract carries max_body_bytes');
        await route.fulfill({ response, body: limited });
      });
    const { context, page, record } = await open({ setup });
    try {
      const posts = [];
      page.on('request', (r) => r.url() === live.stack.handlerUrl && r.method() === 'POST' && posts.push(r));
      await fillFields(page, STUDENT);
      await addPhoto(page);
      await page.click('#envoyer');
      await page.waitForSelector('#form-demande[data-state="error"]', { state: 'attached' });
      const message = (await page.textContent('#photo-error')).trim();
      assert.match(message, /^Avec cette photo, votre demande pèse [\d,]+\u00a0?\s?[KM]o\u202f: c’est plus que les 20\u202fKo acceptés à l’envoi/);
      assert.equal(await page.evaluate(() => document.activeElement.id), 'form-summary', 'focus on the summary');
      assert.equal((await page.textContent('#form-summary-list')).trim(), message, 'listed in the summary');
      assert.equal(posts.length, 0, 'nothing sent');
      await assertKept(page, STUDENT, await page.inputValue('#recadrage'));
      await screenshots(page, 'form-too-heavy');
      // The page comes from `route.fulfill`, which Chromium counts as a public address: it blocks
      // the photo's preview (a fetch to the loopback handler) and logs it. The page goes without the
      // preview, as from any network that cannot reach the function.
      assertClean(record, /handler\/apercu|net::ERR_FAILED/);
      await assertAccessible(page, 'the form with a body too heavy');
    } finally {
      await context.close();
    }
  });

  // Kept on a reload; gone once the page is left for another and opened again. Playwright starts
  // Chromium without the back-forward cache, so here Back loads the page anew.
  test('the receipt stays on a reload, and goes once the page is left and loaded again', async () => {
    const { context, page, record } = await open();
    try {
      const student = { ...STUDENT, prenom: 'Lina', email: 'lina.dupre@example.org' };
      const dossier = await sendNew(page, student);
      const shown = await receiptValues(page);
      const kept = (await storedInTab(page)).receipt;
      const left = kept.expiresAt - Date.now();
      assert.ok(left > 29 * 60_000 && left <= 30 * 60_000, `kept for 30 minutes (${left} ms)`);

      await page.reload();
      assert.equal(await page.getAttribute('#form-demande', 'data-state'), 'receipt', 'kept on a reload');
      assert.equal((await page.textContent('#recu-numero')).trim(), dossier);
      assert.deepEqual(await receiptValues(page), shown);
      const inTab = await storedInTab(page);
      assert.equal(inTab.receipt.expiresAt, kept.expiresAt, 'a reload does not extend it');
      assert.equal(inTab.values, null, 'no answers kept beside the receipt');

      // Another page of the site, then Back.
      await page.goto(`${live.stack.siteOrigin}/index.html`, { waitUntil: 'load' });
      await page.goBack({ waitUntil: 'commit' });
      await page.waitForFunction(() => document.readyState === 'complete' && document.getElementById('form-demande'));
      await assertReceiptGone(page, student, 'back');
      assert.equal(await page.locator('#recu-efface').isVisible(), true, 'the page says why');
      await screenshots(page, 'receipt-gone');
      await assertAccessible(page, 'the form once the receipt is gone');

      // Opened again by a link, with the receipt put back first.
      await putBack(page, kept);
      await page.goto(`${live.stack.siteOrigin}/index.html`, { waitUntil: 'load' });
      await page.goto(`${live.stack.siteOrigin}/demande.html`, { waitUntil: 'load' });
      await assertReceiptGone(page, student, 'opened again');
      assertClean(record);
    } finally {
      await context.close();
    }
  });

  // The same with the back-forward cache, in a Chromium of its own started with it: the page
  // comes back as it was left, and the receipt must not come back with it.
  test('the receipt goes once the page is left, coming back from the back-forward cache', async () => {
    const cached = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, ignoreDefaultArgs: ['--disable-back-forward-cache'] });
    try {
      const { context, page, record } = await open({ inBrowser: cached });
      const student = { ...STUDENT, prenom: 'Lou', email: 'lou.dupre@example.org' };
      await sendNew(page, student);
      const kept = (await storedInTab(page)).receipt;
      await page.evaluate(() => {
        window.leftFromHere = true;
      });
      await page.goto(`${live.stack.siteOrigin}/index.html`, { waitUntil: 'load' });
      await page.goBack({ waitUntil: 'commit' });
      await page.waitForFunction(() => document.readyState === 'complete' && document.getElementById('form-demande'));
      assert.equal(await page.evaluate(() => window.leftFromHere === true), true, 'back from the back-forward cache');
      await assertReceiptGone(page, student, 'back from the back-forward cache');
      assert.equal(await page.locator('#recu-efface').isVisible(), true, 'the page says why');

      // pageshow takes it away too, should pagehide have let it be (as it does for a reload).
      await putBack(page, kept);
      await page.evaluate(() => {
        window.dispatchEvent(new PageTransitionEvent('pagehide', { persisted: false }));
        window.dispatchEvent(new PageTransitionEvent('pageshow', { persisted: true }));
      });
      await assertReceiptGone(page, student, 'shown again by pageshow');
      assertClean(record);
      await context.close();
    } finally {
      await cached.close();
    }
  });

  // Printing the slip is the end of the receipt: what goes to paper is the slip, then the page
  // forgets it (window.print is replaced by its events, which headless Chromium has no dialog for).
  test('once printed, the receipt goes from the screen and from the tab', async () => {
    const { context, page, record } = await open();
    try {
      const student = { ...STUDENT, prenom: 'Ambre', email: 'ambre.dupre@example.org' };
      const dossier = await sendNew(page, student);
      await page.emulateMedia({ media: 'print' });
      assert.equal(await page.locator('#document-a-rendre').isVisible(), true, 'the slip is what is printed');
      assert.equal(await page.locator('#recu-numero').isVisible(), false, 'the rest of the receipt is not');
      assert.equal((await page.textContent('#slip-numero')).trim(), dossier);
      await page.emulateMedia({ media: 'screen' });

      await page.evaluate(() => {
        window.print = () => {
          window.dispatchEvent(new Event('beforeprint'));
          window.dispatchEvent(new Event('afterprint'));
        };
      });
      await page.click('#recu-imprimer');
      await assertReceiptGone(page, student, 'after printing');
      assert.equal(await page.locator('#recu-efface').isVisible(), true, 'the page says why');
      assert.equal(await page.evaluate(() => document.activeElement.id), 'recu-efface', 'focus on why');
      assert.match(await page.textContent('#recu-efface'), /Après l’impression, le reçu n’est plus affiché/);
      await assertAccessible(page, 'the form after printing');

      await page.reload();
      await assertReceiptGone(page, student, 'after printing, then a reload');
      assertClean(record);
    } finally {
      await context.close();
    }
  });

  // Left open on the screen, the receipt goes after 30 minutes (Playwright's fake clock).
  test('after 30 minutes the receipt goes, the page left open', async () => {
    const { context, page, record } = await open({ setup: (page) => page.clock.install() });
    try {
      const student = { ...STUDENT, prenom: 'Jade', email: 'jade.dupre@example.org' };
      const dossier = await sendNew(page, student);
      await page.clock.fastForward('29:00');
      assert.equal(await page.getAttribute('#form-demande', 'data-state'), 'receipt', 'still there after 29 minutes');
      assert.equal((await storedInTab(page)).receipt.dossier, dossier);
      await page.clock.fastForward('01:30');
      await assertReceiptGone(page, student, 'after 30 minutes');
      assert.match(await page.textContent('#recu-efface'), /au bout de 30\u202fminutes/);
      await page.reload();
      await assertReceiptGone(page, student, 'after 30 minutes, then a reload');
      assertClean(record);
    } finally {
      await context.close();
    }
  });

  // What is typed survives a reload, but not 30 minutes without a change.
  test('the answers kept for a retry survive a reload, not 30 minutes', async () => {
    const { context, page, record } = await open({ setup: (page) => page.clock.install() });
    try {
      await fillFields(page, STUDENT);
      const id = await page.inputValue('#submission_id');
      await page.clock.fastForward('29:00');
      await page.reload();
      for (const name of TEXT_FIELDS) assert.equal(await page.inputValue(`#${name}`), STUDENT[name], `${name} kept on a reload`);
      assert.equal(await page.inputValue('#submission_id'), id, 'the same request');

      await page.clock.fastForward('31:00');
      assert.equal((await storedInTab(page)).values, null, 'gone from sessionStorage once the time is up');
      await page.reload();
      for (const name of TEXT_FIELDS) assert.equal(await page.inputValue(`#${name}`), '', `${name} not restored`);
      assert.equal(await page.isChecked('#charte'), false, 'charte not restored');
      assert.notEqual(await page.inputValue('#submission_id'), id, 'a new request');
      assertClean(record);
    } finally {
      await context.close();
    }
  });
});

/**
 * The Nu HTML checker (vnu.jar, errors only) finds nothing in `documents` ({ name, html }): the
 * e-mail's HTML and the function's own pages, which the site's checks (tests/site/) never see.
 */
async function assertValidHtml(documents) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'passregion-vnu-'));
  try {
    const files = documents.map(({ name, html }) => {
      const file = path.join(dir, `${name}.html`);
      writeFileSync(file, html);
      return file;
    });
    const vnu = path.join(testsRoot, 'node_modules', 'vnu-jar', 'build', 'dist', 'vnu.jar');
    const args = ['-jar', vnu, '--errors-only', '--format', 'json', '--stdout', '--exit-zero-always', ...files];
    const { stdout } = await promisify(execFile)('java', args, { maxBuffer: 16 * 1024 * 1024 });
    const messages = JSON.parse(stdout).messages.map((m) => `${path.basename(m.url || '(checker)')}:${m.lastLine ?? '?'}: ${m.message}`);
    assert.deepEqual(messages, [], 'Nu HTML checker errors');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The e-mails moto's SES kept for `address`, oldest first: { subject, body } (the HTML body). */
async function mailsTo(address) {
  const data = await (await fetch(`${live.stack.motoUrl}/moto-api/data.json`)).json();
  const messages = (data.ses && data.ses.Message) || [];
  return messages
    .filter((message) => message.destinations && message.destinations.ToAddresses.includes(address))
    .map((message) => ({ subject: message.subject, body: message.body }));
}

describe('after the request: the e-mail, its activation link, the personal space', () => {
  // The handout's step 7, the personal space and the duplicate guide, as the student meets them:
  // the e-mail's link opens the activation page (which changes nothing), « Appliquer » activates
  // and confirms, the confirmation leads to « Mes Cartes »; then a sign-in with the number and the
  // date of birth, and « Demande de duplicata » with a new photo.
  const journeys = [
    { from: 'file', javaScript: false, prenom: 'Nour', label: 'from file://, JavaScript off throughout' },
    { from: 'served', javaScript: true, prenom: 'Maëlys', label: 'over loopback, JavaScript on' },
  ];
  for (const { from, javaScript, prenom, label } of journeys) test(`${label}: the request, the e-mail’s link, « Appliquer », the confirmation, « Mes Cartes » and « Demande de duplicata »; axe-core and the Nu checker on each, and on the e-mail`, async () => {
    const { context: sending, page: form } = await open({ from, javaScript });
    const student = { ...STUDENT, prenom, email: `${prenom.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase()}.dupre@example.org` };
    let dossier;
    try {
      dossier = javaScript ? await sendNew(form, student) : await sendWithoutScripts(form, student);
    } finally {
      await sending.close();
    }
    // Each journey has a first name of its own, and so an address no other test writes to.
    const [mail, ...others] = await mailsTo(student.email);
    assert.ok(mail, 'one e-mail for the student');
    assert.deepEqual(others, [], `one e-mail only to ${student.email}`);
    assert.ok(mail.subject.includes(dossier), mail.subject);
    const link = /href="([^"]+)"/.exec(mail.body)[1].replaceAll('&amp;', '&');
    assert.ok(link.startsWith(`${live.stack.functionUrl}activation?jeton=`), link);

    const { context, page, record } = await open({ from, javaScript });
    const documents = [{ name: 'courriel', html: mail.body }];
    const shot = (name) => screenshots(page, `${name}-${from}`);
    try {
      const compact = compactOf(dossier);
      const before = await live.stack.s3.listKeys(`demandes/${compact}/`);
      await page.goto(link);
      assert.equal((await page.textContent('h1')).trim(), 'Activer votre compte');
      assert.equal(await page.isChecked('#envoi_etablissement'), true, 'as chosen in the form');
      assert.deepEqual(await live.stack.s3.listKeys(`demandes/${compact}/`), before, 'opening the link changes nothing');
      await shot('activation');
      await assertAccessibleWithoutScripts(page, 'the activation page');
      documents.push({ name: 'activation', html: await page.content() });

      await Promise.all([page.waitForNavigation(), page.click('button:has-text("Appliquer")')]);
      assert.equal((await page.textContent('h1')).trim(), 'Compte activé');
      assert.ok((await page.textContent('main')).includes('Votre carte sera envoyée à votre établissement'));
      assert.ok((await live.stack.s3.listKeys(`demandes/${compact}/`)).includes(`demandes/${compact}/activation.json`));
      await shot('activated');
      await assertAccessibleWithoutScripts(page, 'the confirmation');
      documents.push({ name: 'activated', html: await page.content() });

      await Promise.all([page.waitForNavigation(), page.click('a:has-text("Ouvrir mon espace personnel")')]);
      assert.equal((await page.textContent('h1')).trim(), 'Mes Cartes');
      assert.equal((await page.textContent('.status')).trim(), 'Compte activé');
      await shot('space');
      await assertAccessibleWithoutScripts(page, '« Mes Cartes »');
      documents.push({ name: 'espace', html: await page.content() });

      // The setting, changed from « Mes Cartes »: saved, and shown as saved.
      await page.uncheck('#envoi_etablissement');
      await Promise.all([page.waitForNavigation(), page.click('button:has-text("Enregistrer ce choix")')]);
      assert.ok((await page.textContent('main')).includes('Votre choix pour l’envoi de la carte est enregistré.'));
      assert.equal(await page.isChecked('#envoi_etablissement'), false);
      assert.ok((await live.stack.s3.listKeys(`demandes/${compact}/`)).includes(`demandes/${compact}/reglage-1.json`));
      await assertAccessibleWithoutScripts(page, '« Mes Cartes » after a change');
      documents.push({ name: 'espace-reglage', html: await page.content() });

      // A sign-in with the number as a student may type it, and the date of birth.
      await page.goto(`${live.stack.functionUrl}espace`);
      await assertAccessibleWithoutScripts(page, 'the sign-in page');
      await page.fill('#dossier', dossier.toLowerCase().replaceAll('-', ' '));
      await page.fill('#date_naissance', '2009-03-14');
      await Promise.all([page.waitForNavigation(), page.click('button:has-text("Se connecter")')]);
      assert.equal((await page.textContent('h1')).trim(), 'Mes Cartes');
      assert.ok((await page.textContent('main')).includes(student.prenom));

      // « Demande de duplicata », with a new photo: its form, then its confirmation; « Mes Cartes »
      // then shows it and offers no second one.
      await Promise.all([page.waitForNavigation(), page.click('a:has-text("Demande de duplicata")')]);
      assert.equal((await page.textContent('h1')).trim(), 'Demande de duplicata');
      await shot('duplicate-form');
      await assertAccessibleWithoutScripts(page, 'the duplicate request’s form');
      documents.push({ name: 'duplicata', html: await page.content() });
      await page.check('#motif-perte');
      await page.setInputFiles('#photo', PHOTO);
      await Promise.all([page.waitForNavigation(), page.click('button:has-text("Envoyer la demande de duplicata")')]);
      assert.equal((await page.textContent('h1')).trim(), 'Demande de duplicata enregistrée');
      const done = await page.textContent('main');
      assert.ok(done.includes(dossier) && done.includes('motif\u202f: perte'), done);
      assert.ok(done.includes('La nouvelle carte portera la photo que vous venez d’envoyer.'), done);
      const stored = (await live.stack.s3.listKeys(`demandes/${compact}/`)).filter((key) => key.includes('/duplicata'));
      assert.equal(stored.length, 2, `the new photo and the request: ${stored}`);
      assert.ok(stored.includes(`demandes/${compact}/duplicata.json`), `${stored}`);
      await shot('duplicate-done');
      await assertAccessibleWithoutScripts(page, 'the duplicate request’s confirmation');
      documents.push({ name: 'duplicata-enregistre', html: await page.content() });
      await Promise.all([page.waitForNavigation(), page.click('a:has-text("Revenir à")')]);
      assert.ok((await page.textContent('main')).includes('Une autre demande de duplicata ne peut pas être faite d’ici'));
      assert.equal(await page.locator('a:has-text("Demande de duplicata")').count(), 0, 'no second request');
      await assertAccessibleWithoutScripts(page, '« Mes Cartes » after the duplicate request');
      documents.push({ name: 'espace-duplicata', html: await page.content() });

      // A wrong date: the one refusal, on the sign-in page.
      await page.goto(`${live.stack.functionUrl}espace`);
      await page.fill('#dossier', dossier);
      await page.fill('#date_naissance', '2009-03-15');
      await Promise.all([page.waitForNavigation(), page.click('button:has-text("Se connecter")')]);
      assert.ok((await page.textContent('[role=alert]')).includes('ne correspondent à aucune demande'));
      await shot('signin-refused');
      await assertAccessibleWithoutScripts(page, 'the refused sign-in');
      documents.push({ name: 'connexion-refusee', html: await page.content() });
      await assertValidHtml(documents);
      // The refusal is a 401, which the browser notes in the console.
      assertClean(record, /status of 401/);
    } finally {
      await context.close();
    }
  });
});
