// The automatic frame end to end (issue 12), JavaScript off: the form posts the original photo as a
// page, with no crop, and the function must frame the 413×531 ID photo on the face it detects by
// the ID-photo rule (head chin to crown 34/45 of the height, centred across, 9 % of the height
// above the crown), not on the old centred frame (the largest 35:45 rectangle, centred across, a
// quarter of the spare height above). Portraits whose face is left of the middle, their faces
// marked by hand in handler/tests/faces/faces.toml: from those marks the test computes both frames
// in the original's pixels, then compares, in Chromium, grey 41×53 thumbnails of the stored photo
// and of each frame's crop of the original (faces.mjs): the stored photo must be much nearer the
// rule's frame than the centred one. It also finds which crop of the original the stored photo is
// (the nearest thumbnail over sizes and places), which must lie near the rule's frame, not the
// centred one. The detector's box is not the hand-marked one (up to ~15 % apart), so nearness,
// not equality, is asked; a photo made the old way from the original is checked to fail the same
// checks. Screenshots in tests/artifacts/screenshots/e2e-cadrage-*.png: the receipt at 390 and
// 1280 px, and at 390 px the original with both frames drawn beside the stored photo.
//
// Slow: starts its own scripts/stack (see stack.mjs). Run alone with
// `node --test tests/e2e/cadrage.test.mjs`.

import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';

import { testsRoot } from '../lib/site.mjs';
import { FACES, MIN_FRAME, OUTPUT, centredFrame, edgeDistance, jpegDataUrl, measure, portrait, ruleFrame, showRect } from './faces.mjs';
import { jpegInfo } from './s3.mjs';
import { useStack } from './stack.mjs';

const PHONE = { width: 390, height: 844 };
const DESKTOP = { width: 1280, height: 800 };
/** A send takes well under a second here; the margin is for a debug build on a loaded machine. */
const SEND_TIMEOUT_MS = 120_000;
/**
 * The checks' bounds. Thumbnails are compared by their mean absolute grey difference (0 to 255).
 * - MARGIN: the stored photo's difference to the rule's frame is at least this many times smaller
 *   than to the centred frame; and the crop it is found to be is this many times nearer the
 *   rule's frame than the centred one (mean edge distance).
 * - MAX_RULE_DIFF: its difference to the rule's frame is below this. A JPEG round trip alone
 *   costs 2 to 5 (the control); a frame a few percent off the hand marks, as the detector's is,
 *   costs 9 (chris-left) to 17 (hopper-left, whose cap and stars are sharp).
 * - NOISE: the crop found matches the stored photo within twice the JPEG round trip's difference
 *   (the control's own), plus one level: it is the crop the function made.
 * - HEIGHT_TOLERANCE: the crop found is as high as the rule's frame within this share (the
 *   detector's box against the hand marks).
 */
const MARGIN = 1.5;
const MAX_RULE_DIFF = 24;
const NOISE = (control) => 2 * control + 1;
const HEIGHT_TOLERANCE = 0.15;

const SCHOOL_FIELDS = {
  nom: 'Lambert',
  date_naissance: '2009-05-21',
  adresse: '8 rue Blatin',
  code_postal: '63000',
  commune: 'Clermont-Ferrand',
  telephone: '06 11 22 33 44',
};
const TEXT_FIELDS = ['nom', 'prenom', 'date_naissance', 'email', 'adresse', 'code_postal', 'commune', 'telephone'];
const FILIERE = 'Seconde générale et technologique';

/** The portraits sent, each by a student of its own (other tests look e-mails up by address). */
const CASES = [
  { file: 'portraits/chris-left.jpg', slug: 'chris-left', prenom: 'Cadrage', email: 'cadrage.sansjs@example.fr' },
];

const screenshotDir = path.join(testsRoot, 'artifacts', 'screenshots');

const live = useStack({ prepare: () => mkdirSync(screenshotDir, { recursive: true }) });

/**
 * What is wrong with the framing of a photo measured by `measure` (faces.mjs), as messages: none
 * for a photo framed on the face by the rule. `noise` is the JPEG round trip's difference.
 */
function framingProblems(measured, frames, noise) {
  const problems = [];
  const { rule, centred, found } = measured;
  if (rule * MARGIN > centred) problems.push(`not nearer the rule's frame (${rule.toFixed(2)}) than the centred one (${centred.toFixed(2)}) by ${MARGIN}×`);
  if (rule > MAX_RULE_DIFF) problems.push(`too far from the rule's frame: ${rule.toFixed(2)} > ${MAX_RULE_DIFF}`);
  if (found.diff > NOISE(noise)) problems.push(`no crop of the original matches it: the nearest, ${showRect(found.frame)}, is ${found.diff.toFixed(2)} off`);
  const [toRule, toCentred] = [edgeDistance(found.frame, frames.rule), edgeDistance(found.frame, frames.centred)];
  if (toRule * MARGIN > toCentred) problems.push(`its crop ${showRect(found.frame)} is not nearer the rule's frame (${toRule.toFixed(1)} px) than the centred one (${toCentred.toFixed(1)} px) by ${MARGIN}×`);
  const height = found.frame.height / frames.rule.height - 1;
  if (Math.abs(height) > HEIGHT_TOLERANCE) problems.push(`its crop ${showRect(found.frame)} is ${(100 * height).toFixed(0)} % higher than the rule's frame`);
  return problems;
}

/**
 * A page showing the original with the rule's frame, the centred frame and the crop found drawn
 * on it, the stored photo beside it (and the control), and the figures; screenshot at 390 px.
 */
async function composition(kase, { original, stored, size, frames, measured }) {
  const context = await live.browser.newContext({ viewport: PHONE, locale: 'fr-FR' });
  try {
    const page = await context.newPage();
    const shown = 200; // px: the original's width on the page
    const k = shown / size[0];
    const box = (r, colour, label, corner, style = 'solid') =>
      `<div class="frame" style="left:${r.x * k}px;top:${r.y * k}px;width:${r.width * k}px;height:${r.height * k}px;border:3px ${style} ${colour}">` +
      `<span style="background:${colour};${corner}">${label}</span></div>`;
    const f = (v, digits = 2) => v.toFixed(digits).replace('.', ',');
    const { found, control } = measured;
    await page.setContent(
      `<!doctype html><html lang="fr"><meta charset="utf-8"><title>Cadrage : ${kase.slug}</title>
<style>
  body { font: 14px/1.35 system-ui, sans-serif; margin: 12px; color: #111; }
  h1 { font-size: 16px; margin: 0 0 8px; }
  .row { display: flex; gap: 10px; align-items: flex-start; }
  .original { position: relative; width: ${shown}px; flex: none; }
  .original img { display: block; width: ${shown}px; }
  .frame { position: absolute; box-sizing: border-box; }
  .frame span { position: absolute; color: #fff; font-size: 11px; padding: 0 3px; }
  figure { margin: 0; }
  figure img { display: block; width: 150px; border: 1px solid #888; }
  figcaption { font-size: 12px; }
  dl { margin: 10px 0 0; display: grid; grid-template-columns: auto 1fr; gap: 3px 8px; font-size: 13px; }
  dt { font-weight: 600; }
  dd { margin: 0; }
</style>
<h1>${kase.file} (${size.join(' × ')}), envoyée sans JavaScript</h1>
<div class="row">
  <div class="original">
    <img src="${original}" alt="la photo envoyée">
    ${box(frames.centred, '#c0392b', 'centré', 'left:0;bottom:0')}
    ${box(frames.rule, '#1e8449', 'règle', 'right:0;top:0')}
    ${box(found.frame, '#1f5fbf', 'trouvé', 'right:0;bottom:0', 'dashed')}
  </div>
  <div>
    <figure><img src="${stored}" alt="la photo enregistrée"><figcaption>enregistrée par la fonction (413 × 531)</figcaption></figure>
    <figure style="margin-top:8px"><img src="${measured.oldWay}" alt="l’ancien cadrage centré" style="width:75px"><figcaption>témoin : l’ancien cadrage centré</figcaption></figure>
  </div>
</div>
<dl>
  <dt style="color:#1e8449">règle</dt><dd>${showRect(frames.rule)}, écart ${f(measured.rule)}</dd>
  <dt style="color:#c0392b">centré</dt><dd>${showRect(frames.centred)}, écart ${f(measured.centred)}</dd>
  <dt>rapport</dt><dd>${f(measured.centred / measured.rule)} (au moins ${f(MARGIN, 1)})</dd>
  <dt style="color:#1f5fbf">trouvé</dt><dd>${showRect(found.frame)}, écart ${f(found.diff)} ; à ${f(edgeDistance(found.frame, frames.rule), 1)} px de la règle, ${f(edgeDistance(found.frame, frames.centred), 1)} px du centré</dd>
  <dt>témoin</dt><dd>écart ${f(control.rule)} à la règle, ${f(control.centred)} au centré ; trouvé ${showRect(control.found.frame)}</dd>
</dl>
<p style="font-size:12px">Écart : différence moyenne de gris (0 à 255) entre vignettes 41 × 53.</p>`,
      { waitUntil: 'load' },
    );
    await page.screenshot({ path: path.join(screenshotDir, `e2e-cadrage-${kase.slug}-frames-390.png`), fullPage: true });
  } finally {
    await context.close();
  }
}

/** `H4R-7N2-KPQ` → `H4R7N2KPQ`, after checking its shape. */
function compactOf(dossier) {
  assert.match(dossier, /^[0-9ACDEFGHJKMNPQRTVWXY]{3}-[0-9ACDEFGHJKMNPQRTVWXY]{3}-[0-9ACDEFGHJKMNPQRTVWXY]{3}$/, 'dossier format');
  return dossier.replaceAll('-', '');
}

describe('without JavaScript, the function frames the ID photo on the face', () => {
  for (const kase of CASES) {
    test(`${kase.file}: the stored photo is the rule’s frame on the face, not the centred one`, async () => {
      const { size, face } = portrait(kase.file);
      const file = path.join(FACES, kase.file);
      const bytes = readFileSync(file);
      const header = jpegInfo(bytes);
      assert.deepEqual([header.width, header.height], size, `${kase.file}: the size faces.toml gives`);
      const frames = { rule: ruleFrame(face, size), centred: centredFrame(size) };
      assert.ok(
        frames.centred.width >= MIN_FRAME.width && frames.centred.height >= MIN_FRAME.height,
        `${kase.file} holds a ${MIN_FRAME.width}×${MIN_FRAME.height} frame`,
      );
      assert.ok(frames.rule.height >= MIN_FRAME.height, `the rule's frame ${showRect(frames.rule)} is large enough`);

      // The form, JavaScript off, served on loopback as demande.test.mjs's journey without scripts.
      const context = await live.browser.newContext({ viewport: PHONE, javaScriptEnabled: false, locale: 'fr-FR' });
      const offSite = [];
      await context.route(
        (url) => !['file:', 'data:', 'blob:'].includes(url.protocol) && url.origin !== live.stack.siteOrigin && !url.href.startsWith(live.stack.functionUrl),
        (route) => {
          offSite.push(route.request().url());
          return route.abort('blockedbyclient');
        },
      );
      let dossier;
      try {
        const page = await context.newPage();
        const errors = [];
        page.on('pageerror', (error) => errors.push(`uncaught: ${error.message}`));
        page.on('console', (message) => message.type() === 'error' && errors.push(`console: ${message.text()}`));
        await page.goto(new URL('demande.html', `${live.stack.siteOrigin}/`).href, { waitUntil: 'load' });
        const student = { ...SCHOOL_FIELDS, prenom: kase.prenom, email: kase.email };
        for (const name of TEXT_FIELDS) await page.fill(`#${name}`, student[name]);
        await page.check('#charte');
        await page.selectOption('#filiere', { label: FILIERE });
        await page.setInputFiles('#photo', file);
        const [response] = await Promise.all([
          page.waitForNavigation({ url: live.stack.handlerUrl, timeout: SEND_TIMEOUT_MS }),
          page.click('#envoyer'),
        ]);
        assert.equal(response.status(), 201, live.stack.handlerLog());
        dossier = (await page.textContent('p.dossier')).trim();
        compactOf(dossier);
        assert.ok((await page.textContent('main')).includes(dossier), 'the receipt shows the dossier');
        for (const viewport of [PHONE, DESKTOP]) {
          await page.setViewportSize(viewport);
          await page.screenshot({ path: path.join(screenshotDir, `e2e-cadrage-${kase.slug}-receipt-${viewport.width}.png`), fullPage: true });
        }
        assert.deepEqual(errors, [], 'errors in the page');
        assert.deepEqual(offSite, [], 'requests outside the site and the function');
      } finally {
        await context.close();
      }

      // What the function stored: no crop was sent, so its own frame.
      const prefix = `demandes/${compactOf(dossier)}/`;
      const record = JSON.parse((await live.stack.s3.getObject(`${prefix}demande.json`)).bytes.toString('utf8'));
      assert.equal(record.demande.email, kase.email);
      assert.deepEqual(record.original, { format: 'jpeg', width: size[0], height: size[1] }, 'the original was sent as it is');
      const photo = await live.stack.s3.getObject(record.photo.key);
      assert.equal(record.photo.key, `${prefix}photo.jpg`);
      const info = jpegInfo(photo.bytes);
      assert.deepEqual([info.width, info.height], [OUTPUT.width, OUTPUT.height], 'a 413×531 JPEG');

      const original = jpegDataUrl(bytes);
      const stored = jpegDataUrl(photo.bytes);
      const measured = await measure(live.browser, { original, stored, frames });
      const { found, control } = measured;
      const distances = (r) => `${edgeDistance(r, frames.rule).toFixed(1)} px from the rule's frame, ${edgeDistance(r, frames.centred).toFixed(1)} px from the centred one`;
      console.log(
        [
          `${kase.file} (${size.join('×')}), dossier ${dossier}:`,
          `  rule frame ${showRect(frames.rule)}, centred frame ${showRect(frames.centred)}`,
          `  stored photo: mean grey difference ${measured.rule.toFixed(2)} to the rule's crop, ${measured.centred.toFixed(2)} to the centred crop (ratio ${(measured.centred / measured.rule).toFixed(2)})`,
          `  it is the crop ${showRect(found.frame)} (difference ${found.diff.toFixed(2)}), ${distances(found.frame)}`,
          `  control, centred the old way: ${control.rule.toFixed(2)} to the rule's crop, ${control.centred.toFixed(2)} to the centred crop; the crop ${showRect(control.found.frame)} (${control.found.diff.toFixed(2)}), ${distances(control.found.frame)}`,
        ].join('\n'),
      );
      await composition(kase, { original, stored, size, frames, measured });

      // The checks tell the two framings apart: a photo made the old way fails them...
      const controlProblems = framingProblems(control, frames, control.centred);
      assert.ok(controlProblems.length > 0, 'a photo centred the old way must fail the checks');
      assert.ok(
        edgeDistance(control.found.frame, frames.centred) < 0.01 * frames.centred.height + 2,
        `the search finds the old way's crop, ${showRect(control.found.frame)}, where it was cut: ${showRect(frames.centred)}`,
      );
      // ...and the function's photo passes them.
      assert.deepEqual(framingProblems(measured, frames, control.centred), [], `the stored photo of ${kase.file} is framed on the face`);
    });
  }
});
