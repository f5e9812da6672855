// What the request form uploads (issue 13.3), end to end: headless Chromium opens the built form
// (served on loopback), fills it and adds each photo of the shared folder; once the function's
// preview has placed the frame, it sends. The page must upload the student's frame cut from the
// original (at most 826×1062, the contract's `limits.frame_upload`, with `recadrage` naming the
// whole of it), not the 1,600-px working copy: the whole multipart body at most 300 KB. The real
// handler under `cargo lambda watch` stores the ID photo in moto's S3; that photo must match, with
// an SSIM of at least 0.98, the one the handler's own pipeline (its `photo` CLI, the same
// `handler::photo::process`) makes from the original with the same frame. SSIM because it weighs
// structure (the edges of a face) over exact values, as a person checking an ID photo does; the
// same definition as bench/bench.py's (luma, 8×8 windows).
//
// Each photo's figures (the body before, as the working copy would have made it, and after; the
// SSIM; the hints of both photos) go to tests/artifacts/envoi/report.json, with the three JPEGs
// (upload, stored, reference), which `bench/run --only upload` reads. A HEIC photo is measured
// only if Chromium decodes it; otherwise the page must refuse it with the contract's HEIC advice,
// and the report says it was skipped. Without JavaScript nothing changes: demande.test.mjs sends
// the original and checks what is stored.
//
// Slow: starts moto_server and `cargo lambda watch`, and builds the photo CLI. Run alone with
// `node --test tests/e2e/envoi.test.mjs`.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { promisify } from 'node:util';

import { repoRoot, testsRoot } from '../lib/site.mjs';
import { jpegDataUrl } from './faces.mjs';
import { jpegInfo } from './s3.mjs';
import { useStack, workspaceBinary } from './stack.mjs';

const run = promisify(execFile);
const PHONE = { width: 390, height: 844 };
/** A send takes well under a second here; the margin is for a debug build on a loaded machine. */
const SEND_TIMEOUT_MS = 120_000;
const PHOTOS = path.resolve(repoRoot, '..', 'shared', 'photos');
/** The bound on one submission's body, photo and fields together (10^3 bytes a KB). */
const MAX_SUBMISSION_BYTES = 300_000;
/** The least SSIM between the photo stored from the upload and the one made from the original. */
const MIN_SSIM = 0.98;
const artifacts = path.join(testsRoot, 'artifacts', 'envoi');

const FIELDS = {
  nom: 'Bernard',
  date_naissance: '2008-09-30',
  adresse: '5 rue Ballainvilliers',
  code_postal: '63000',
  commune: 'Clermont-Ferrand',
  telephone: '06 55 44 33 22',
};
const FILIERE = 'Première générale';

/** The handler's photo CLI, built by the `before`. */
let photoCli;

const live = useStack({
  prepare: async () => {
    if (!existsSync(PHOTOS)) throw new Error(`missing test photos \`${PHOTOS}\` (the shared photos folder beside the project)`);
    mkdirSync(artifacts, { recursive: true });
    // The reference is made by the pipeline of this checkout, not by a binary left from another.
    photoCli = await workspaceBinary('photo');
  },
});

/** The parts of a multipart body by name: { text } for a field, { bytes } for a file. */
function multipartParts(body) {
  const boundary = body.subarray(0, body.indexOf('\r\n')).toString('latin1');
  const parts = new Map();
  let at = 0;
  for (;;) {
    const start = body.indexOf(boundary, at);
    const next = body.indexOf(`\r\n${boundary}`, start + boundary.length);
    if (start < 0 || next < 0) break;
    const part = body.subarray(start + boundary.length + 2, next);
    const headerEnd = part.indexOf('\r\n\r\n');
    const headers = part.subarray(0, headerEnd).toString('latin1');
    const name = /name="([^"]*)"/.exec(headers)[1];
    const content = part.subarray(headerEnd + 4);
    parts.set(name, /filename="/.test(headers) ? { bytes: content } : { text: content.toString('utf8') });
    at = next + 2;
  }
  return parts;
}

/**
 * In a page of its own, the mean SSIM of two same-size JPEGs (data: URLs) on their luma (BT.601,
 * as Pillow's "L"), over 8×8 windows with the usual constants: bench/bench.py's `ssim`.
 */
async function ssim(a, b) {
  const context = await live.browser.newContext();
  try {
    const page = await context.newPage();
    await page.setContent('<!doctype html><title>ssim</title>');
    return await page.evaluate(
      async ({ a, b }) => {
        const luma = async (src) => {
          const img = new Image();
          img.src = src;
          await img.decode();
          const canvas = document.createElement('canvas');
          canvas.width = img.naturalWidth;
          canvas.height = img.naturalHeight;
          const context = canvas.getContext('2d');
          context.drawImage(img, 0, 0);
          const { data } = context.getImageData(0, 0, canvas.width, canvas.height);
          const values = new Float64Array(canvas.width * canvas.height);
          for (let i = 0; i < values.length; i++) values[i] = 0.299 * data[4 * i] + 0.587 * data[4 * i + 1] + 0.114 * data[4 * i + 2];
          return { width: canvas.width, height: canvas.height, values };
        };
        const [x, y] = [await luma(a), await luma(b)];
        if (x.width !== y.width || x.height !== y.height) throw new Error(`sizes differ: ${x.width}×${x.height}, ${y.width}×${y.height}`);
        const k = 8;
        const c1 = (0.01 * 255) ** 2;
        const c2 = (0.03 * 255) ** 2;
        let sum = 0;
        let count = 0;
        for (let top = 0; top + k <= x.height; top += k) {
          for (let left = 0; left + k <= x.width; left += k) {
            let [ma, mb] = [0, 0];
            for (let r = top; r < top + k; r++) for (let c = left; c < left + k; c++) (ma += x.values[r * x.width + c]), (mb += y.values[r * x.width + c]);
            ma /= k * k;
            mb /= k * k;
            let [va, vb, cov] = [0, 0, 0];
            for (let r = top; r < top + k; r++) {
              for (let c = left; c < left + k; c++) {
                const da = x.values[r * x.width + c] - ma;
                const db = y.values[r * x.width + c] - mb;
                va += da * da;
                vb += db * db;
                cov += da * db;
              }
            }
            [va, vb, cov] = [va / (k * k), vb / (k * k), cov / (k * k)];
            sum += ((2 * ma * mb + c1) * (2 * cov + c2)) / ((ma * ma + mb * mb + c1) * (va + vb + c2));
            count++;
          }
        }
        return sum / count;
      },
      { a, b },
    );
  } finally {
    await context.close();
  }
}

/** The dossier shown in the page's receipt, once it is there. */
async function receiptNumber(page) {
  await page.waitForSelector('#form-demande[data-state="receipt"]', { state: 'attached', timeout: SEND_TIMEOUT_MS });
  return (await page.textContent('#recu-numero')).trim();
}

/**
 * Sends `file` from the form as a student does, once the preview has placed the frame. Returns
 * null when the page refuses the photo (its message in `refused`), else what was sent and stored.
 */
async function sendPhoto(file, slug) {
  const context = await live.browser.newContext({ viewport: PHONE, locale: 'fr-FR' });
  // The body as the page encodes it: Chromium does not hand a body holding a Blob to Playwright
  // (postDataBuffer() is null), so the page's fetch keeps a copy, encoded the same way.
  await context.addInitScript(() => {
    const fetchFromPage = window.fetch;
    window.fetch = async (url, init) => {
      if (init && init.body instanceof FormData && String(url).endsWith('/demande')) {
        const encoded = await new Response(init.body).blob();
        window.sentBody = await new Promise((resolve) => {
          const reader = new FileReader();
          reader.onload = () => resolve(String(reader.result).split(',')[1]);
          reader.readAsDataURL(encoded);
        });
      }
      return fetchFromPage(url, init);
    };
  });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (error) => errors.push(`uncaught: ${error.message}`));
  try {
    await page.goto(`${live.stack.siteOrigin}/demande.html`, { waitUntil: 'load' });
    const contract = JSON.parse(await page.textContent('#form-schema'));
    for (const [name, value] of Object.entries({ ...FIELDS, prenom: 'Envoi', email: `envoi.${slug}@example.org` })) await page.fill(`#${name}`, value);
    await page.check('#charte');
    await page.selectOption('#filiere', { label: FILIERE });

    const previewed = page.waitForResponse((r) => r.url().endsWith('/apercu'), { timeout: SEND_TIMEOUT_MS }).catch(() => null);
    await page.setInputFiles('#photo', file);
    await page.waitForFunction(
      () => (document.getElementById('recadrage').value !== '' && !document.getElementById('cadrage').hidden) || document.getElementById('photo-error').textContent.trim() !== '',
      null,
      { timeout: 60_000 },
    );
    const refused = (await page.textContent('#photo-error')).trim();
    if (refused) return { refused, contract };
    // The frame the function proposes on the face is taken once its answer is read.
    assert.equal((await previewed)?.status(), 200, `the preview answered: ${live.stack.handlerLog()}`);
    await page.waitForTimeout(500);

    const shown = await page.evaluate(async () => {
      const img = document.getElementById('cadre-image');
      const original = await createImageBitmap(document.getElementById('photo').files[0], { imageOrientation: 'from-image' });
      const size = { width: original.width, height: original.height };
      original.close();
      return {
        crop: document.getElementById('recadrage').value,
        working: { width: img.naturalWidth, height: img.naturalHeight, bytes: (await (await fetch(img.src)).blob()).size },
        original: size,
      };
    });
    const answer = page.waitForResponse((r) => r.url() === live.stack.handlerUrl && r.request().method() === 'POST', { timeout: SEND_TIMEOUT_MS });
    await page.click('#envoyer');
    const response = await answer;
    assert.equal(response.status(), 201, live.stack.handlerLog());
    const dossier = await receiptNumber(page);
    const body = Buffer.from(await page.evaluate(() => window.sentBody), 'base64');
    // What the function received, from its log line for this dossier: the same size (the body
    // sent has another boundary of the same length).
    const logged = live.stack
      .handlerLog()
      .split('\n')
      .find((line) => line.includes(dossier) && /"body_bytes":\d+/.test(line));
    assert.ok(logged, `a log line for ${dossier}: ${live.stack.handlerLog()}`);
    assert.equal(Number(/"body_bytes":(\d+)/.exec(logged)[1]), body.length, 'the body received is the one encoded');
    assert.equal(await page.inputValue('#recadrage'), shown.crop, 'the frame did not move while sending');
    assert.deepEqual(errors, [], 'errors in the page');
    return { contract, shown, body, dossier, hints: (await response.json()).conseils.map((hint) => hint.code) };
  } finally {
    await context.close();
  }
}

describe('the upload: the student’s frame, not the reduced photo', () => {
  const report = [];
  after(() => writeFileSync(path.join(artifacts, 'report.json'), `${JSON.stringify(report, null, 2)}\n`));

  const files = readdirSync(PHOTOS)
    .filter((name) => /\.(jpe?g|heic)$/i.test(name))
    .sort();
  test('the shared photos are there', () => assert.ok(files.some((name) => /\.jpe?g$/i.test(name)), `no JPEG in ${PHOTOS}`));

  for (const name of files) {
    const slug = name.replace(/\.[^.]+$/, '').toLowerCase().replace(/[^a-z0-9]+/g, '-');
    // One submission per photo: what goes up is the frame, light, and the photo stored from it is
    // the one the original would have made.
    test(`${name}: the body is at most 300 KB, and the stored photo is the original’s (SSIM ≥ ${MIN_SSIM})`, { timeout: 10 * 60_000 }, async () => {
      const file = path.join(PHOTOS, name);
      const sent = await sendPhoto(file, slug);
      if (sent.refused) {
        // A photo the browser cannot decode is the only one the page may refuse here: HEIC.
        assert.ok(/\.heic$/i.test(name), `${name} refused: ${sent.refused}`);
        assert.equal(sent.refused, sent.contract.messages.photo.heic, 'the page gives the HEIC advice');
        report.push({ photo: name, skipped: 'Chromium cannot decode HEIC: the page refuses it with its advice' });
        return;
      }
      const { contract, shown, body, dossier, hints } = sent;
      const limits = contract.limits;
      const parts = multipartParts(body);
      const upload = parts.get('photo').bytes;
      const info = jpegInfo(upload);
      assert.equal(parts.get('recadrage').text, `0,0,${info.width},${info.height}`, 'the crop sent is the whole upload');
      assert.ok(info.width <= limits.frame_upload.width && info.height <= limits.frame_upload.height, `at most the frame upload's size: ${info.width}×${info.height}`);
      assert.ok(info.height >= limits.min_frame_height, `at least the least frame: ${info.width}×${info.height}`);
      assert.ok(Math.abs(info.width / info.height - limits.output_width / limits.output_height) < 0.01, `35:45: ${info.width}×${info.height}`);
      assert.ok(!info.app.includes('APP1'), 'no EXIF or GPS position leaves the device');
      assert.ok(body.length <= MAX_SUBMISSION_BYTES, `the body weighs ${body.length} bytes`);

      const compact = dossier.replaceAll('-', '');
      const stored = (await live.stack.s3.getObject(`demandes/${compact}/photo.jpg`)).bytes;
      const record = JSON.parse((await live.stack.s3.getObject(`demandes/${compact}/demande.json`)).bytes.toString('utf8'));
      assert.deepEqual(record.original, { format: 'jpeg', width: info.width, height: info.height }, 'the function got the frame');

      // The same frame in the original's pixels, as the page cut it, through the function's pipeline.
      const [x, y, w, h] = shown.crop.split(',').map(Number);
      const sx = shown.original.width / shown.working.width;
      const sy = shown.original.height / shown.working.height;
      const frame = [x * sx, y * sy, w * sx, h * sy].map(Math.round).join(',');
      const referencePath = path.join(artifacts, `${slug}-reference.jpg`);
      const { stdout } = await run(photoCli, [file, referencePath, '--crop', frame]);
      const reference = readFileSync(referencePath);
      const similarity = await ssim(jpegDataUrl(stored), jpegDataUrl(reference));
      writeFileSync(path.join(artifacts, `${slug}-upload.jpg`), upload);
      writeFileSync(path.join(artifacts, `${slug}-stored.jpg`), stored);

      // Before: the same body with the working copy and its frame, as the page sent it until now.
      const beforeBytes = body.length - upload.length + shown.working.bytes - parts.get('recadrage').text.length + shown.crop.length;
      report.push({
        photo: name,
        original: shown.original,
        working: shown.working,
        frame: { working: shown.crop, original: frame },
        upload: { width: info.width, height: info.height, bytes: upload.length },
        body: { before: beforeBytes, after: body.length },
        ssim: similarity,
        hints: { upload: hints, original: (/hints \[([^\]]*)\]/.exec(stdout)?.[1] ?? '').split(', ').filter(Boolean) },
        files: { upload: `${slug}-upload.jpg`, stored: `${slug}-stored.jpg`, reference: `${slug}-reference.jpg` },
      });
      assert.ok(similarity >= MIN_SSIM, `SSIM ${similarity.toFixed(4)} between the photo stored from the upload and the original’s`);
    });
  }
});
