// The page's preview (templates/scripts/preview.js), alone: what it sends the function's `apercu`
// route (the copy, `echelle`, `recadrage` in the copy's pixels), how it moves the crop frame onto
// the face (only while the student has not moved it), the advice it lists, and that any failure
// (no network, an error, a timeout, a 422, an odd answer) shows nothing. The DOM, fetch, the
// clock, the crop frame and the image helpers are stand-ins; the contract is the built form
// page's, so the texts are the ones students read. The browser and the real function are
// tests/e2e/apercu.test.mjs's.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';

import { repoRoot, siteDir } from '../lib/site.mjs';

const html = readFileSync(path.join(siteDir(), 'demande.html'), 'utf8');
const contract = JSON.parse(/<script type="application\/json" id="form-schema">([\s\S]*?)<\/script>/.exec(html)[1]);
const source = readFileSync(path.join(repoRoot, 'templates', 'scripts', 'preview.js'), 'utf8');
const GLOBALS = ['document', 'fetch', 'navigator', 'setTimeout', 'clearTimeout'];
// As the bundle runs it: a classic script's top-level declaration, in strict mode.
const load = new Function(...GLOBALS, `'use strict';\n${source}\nreturn makePreview;`);
const ENDPOINT = 'https://fonction.example/lambda-url/handler/demande';

/** The least of the DOM preview.js uses: elements with a class, text and children. */
class Element {
  constructor(tag) {
    Object.assign(this, { tagName: tag.toUpperCase(), className: '', children: [], text: '' });
  }
  append(...nodes) {
    this.children.push(...nodes);
  }
  set textContent(value) {
    this.children = [];
    this.text = value;
  }
  get textContent() {
    return this.text + this.children.map((child) => child.textContent).join('');
  }
  /** The descendants of class `name`. */
  find(name) {
    return this.children.flatMap((child) => [...(child.className.split(' ').includes(name) ? [child] : []), ...child.find(name)]);
  }
}

/**
 * A page with a photo of `upload` pixels in the frame: the preview bound to stand-ins it records.
 * `answer(request)` is called with each request's { url, fields, signal, respond, fail }.
 */
function page({ online = true } = {}) {
  const box = new Element('div');
  const requests = [];
  const timers = new Map();
  let now = 0;
  let nextTimer = 1;
  const env = {
    document: { getElementById: (id) => (id === 'conseils' ? box : null), createElement: (tag) => new Element(tag) },
    fetch(url, { body, signal }) {
      return new Promise((resolve, reject) => {
        const fields = Object.fromEntries([...body.keys()].map((key) => [key, body.get(key)]));
        signal.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError')));
        requests.push({
          url,
          fields,
          signal,
          respond: (status, json) => resolve({ status, json: async () => (json instanceof Error ? Promise.reject(json) : json) }),
          fail: () => reject(new TypeError('Failed to fetch')),
        });
      });
    },
    navigator: { onLine: online },
    setTimeout(run, ms) {
      timers.set(nextTimer, { at: now + ms, run });
      return nextTimer++;
    },
    clearTimeout: (id) => timers.delete(id),
  };
  const crop = {
    shown: { x: 0, y: 0, width: 0, height: 0 },
    proposals: [],
    rect() {
      return { ...this.shown };
    },
    propose(rect, moveNow) {
      this.proposals.push({ rect, moveNow });
      if (moveNow) this.shown = { ...rect };
    },
  };
  const copies = [];
  const image = {
    reduce(picture, width, height, limits) {
      copies.push(limits);
      const scale = Math.min(1, limits.max_side / Math.max(width, height));
      return Promise.resolve({ blob: new Blob(['jpeg']), width: Math.round(width * scale), height: Math.round(height * scale) });
    },
  };
  const preview = load(...GLOBALS.map((name) => env[name]))({ form: { action: ENDPOINT }, contract, image, crop });
  /** Lets promises settle. */
  const settle = () => new Promise((resolve) => setImmediate(resolve));
  return {
    preview,
    box,
    crop,
    copies,
    requests,
    settle,
    /** Runs the timers due within `ms`, then lets promises settle. */
    async advance(ms) {
      now += ms;
      for (const [id, timer] of [...timers].sort((a, b) => a[1].at - b[1].at)) {
        if (timer.at > now) continue;
        timers.delete(id);
        timer.run();
      }
      await settle();
    },
    /** The texts the box shows: { title, framed, hints } (null when empty). */
    shows() {
      if (box.children.length === 0) return null;
      const [title] = box.find('hints-title');
      const [framed] = box.find('hints-framed');
      const [list] = box.find('hints-list');
      return { title: title.textContent, framed: framed ? framed.textContent : null, hints: list ? list.children.map((item) => item.textContent) : [] };
    },
  };
}

const hint = contract.messages.hint;
/** A phone photo decoded at 3264×2448, uploaded at 1600×1200: the copy is 800×600. */
const SOURCE = { width: 3264, height: 2448 };
const UPLOAD = { width: 1600, height: 1200 };
const FACE = { x: 500, y: 80, width: 150, height: 150 };
const FRAME = { x: 450, y: 20, width: 252, height: 324 };
const conseils = (...codes) => codes.map((code) => ({ code, message: hint[code] }));

/** Starts `p` on the phone photo and lets the copy be made and sent. */
async function started(p) {
  p.crop.shown = { x: 333, y: 0, width: 933, height: 1200 };
  p.preview.start({}, SOURCE.width, SOURCE.height, UPLOAD);
  await p.settle();
}

describe('the preview of the photo (preview.js)', () => {
  test('the contract carries what it needs: the copy’s size and quality, and every hint’s text', () => {
    assert.deepEqual(contract.limits.preview, { max_side: 800, quality: 0.8 });
    for (const key of ['title', 'framed', 'no_face', 'several_faces', 'face_too_small', 'head_cut', 'too_dark', 'too_bright', 'blurred', 'off_centre']) {
      assert.equal(typeof hint[key], 'string', key);
    }
  });

  test('a new photo: one copy at 800 px, sent to `apercu` with its scale and no frame', async () => {
    const p = page();
    await started(p);
    assert.deepEqual(p.copies, [{ max_side: 800, max_bytes: Infinity, qualities: [0.8], rounds: 1, shrink: 1 }]);
    assert.equal(p.requests.length, 1);
    const [request] = p.requests;
    assert.equal(request.url, 'https://fonction.example/lambda-url/handler/apercu');
    assert.deepEqual(Object.keys(request.fields).sort(), ['echelle', 'photo']);
    assert.equal(request.fields.echelle, '2');
    assert.equal(request.fields.photo.name, 'apercu.jpg');
    assert.equal(p.shows(), null, 'nothing shown while it runs');
  });

  test('a photo smaller than the copy’s size is sent at its own size, at scale 1; never larger than the upload', async () => {
    const p = page();
    p.preview.start({}, 600, 700, { width: 600, height: 700 });
    await p.settle();
    assert.equal(p.copies[0].max_side, 700);
    assert.equal(p.requests[0].fields.echelle, '1');
    const q = page();
    // An upload made lighter than its longest side (a heavy panorama): the copy is not larger.
    q.preview.start({}, 4000, 1000, { width: 640, height: 160 });
    await q.settle();
    assert.equal(q.copies[0].max_side, 640);
    assert.equal(q.requests[0].fields.echelle, '1');
  });

  test('a face found: the frame moves onto it, in the upload’s pixels, and the advice is listed under its title', async () => {
    const p = page();
    await started(p);
    p.requests[0].respond(200, { visage: FACE, cadre: FRAME, conseils: conseils('blurred') });
    await p.settle();
    assert.deepEqual(p.crop.proposals, [{ rect: { x: 900, y: 40, width: 504, height: 648 }, moveNow: true }]);
    assert.deepEqual(p.shows(), { title: hint.title, framed: hint.framed, hints: [hint.blurred] });
  });

  test('a face and no advice: the title and the framed sentence only', async () => {
    const p = page();
    await started(p);
    p.requests[0].respond(200, { visage: FACE, cadre: FRAME, conseils: [] });
    await p.settle();
    assert.deepEqual(p.shows(), { title: hint.title, framed: hint.framed, hints: [] });
  });

  test('no face: the frame stays where it is (the function’s own fallback is the same), the advice shows', async () => {
    const p = page();
    await started(p);
    p.requests[0].respond(200, { visage: null, cadre: { x: 166.7, y: 0, width: 466.7, height: 600 }, conseils: conseils('no_face') });
    await p.settle();
    assert.deepEqual(p.crop.proposals, []);
    assert.deepEqual(p.shows(), { title: hint.title, framed: null, hints: [hint.no_face] });
  });

  test('the frame moved: once it settles, the same copy goes again with the frame in its pixels, and the advice is replaced', async () => {
    const p = page();
    await started(p);
    p.requests[0].respond(200, { visage: FACE, cadre: FRAME, conseils: [] });
    await p.settle();
    p.preview.touch();
    p.crop.shown = { x: 901, y: 41, width: 503, height: 647 };
    p.preview.moved();
    await p.advance(399);
    assert.equal(p.requests.length, 1, 'not before the frame settles');
    p.preview.moved();
    await p.advance(399);
    assert.equal(p.requests.length, 1, 'each move waits again');
    await p.advance(1);
    assert.equal(p.requests.length, 2);
    const second = p.requests[1].fields;
    assert.equal(p.copies.length, 1, 'the same copy, not made again');
    assert.equal(second.photo.size, p.requests[0].fields.photo.size);
    assert.equal(second.echelle, '2');
    assert.equal(second.recadrage, '451,21,252,324');
    p.requests[1].respond(200, { visage: FACE, cadre: FRAME, conseils: conseils('head_cut', 'off_centre') });
    await p.settle();
    assert.equal(p.crop.proposals.length, 1, 'an answer about the student’s frame does not move it');
    assert.deepEqual(p.shows(), { title: hint.title, framed: null, hints: [hint.head_cut, hint.off_centre] });
  });

  test('moved before the answer: the frame is not moved under the student, and the advice waits for the frame they chose', async () => {
    const p = page();
    await started(p);
    p.preview.touch();
    p.requests[0].respond(200, { visage: FACE, cadre: FRAME, conseils: conseils('blurred') });
    await p.settle();
    assert.deepEqual(p.crop.proposals, [{ rect: { x: 900, y: 40, width: 504, height: 648 }, moveNow: false }], 'kept for « Recentrer » only');
    assert.equal(p.shows(), null, 'stale advice is not shown');
    p.preview.moved();
    await p.advance(400);
    assert.equal(p.requests.length, 2);
    assert.ok('recadrage' in p.requests[1].fields);
  });

  test('one request at a time: a new one aborts the one in flight, whose late answer is dropped', async () => {
    const p = page();
    await started(p);
    p.preview.moved();
    await p.advance(400);
    assert.equal(p.requests[0].signal.aborted, true);
    assert.equal(p.requests[1].signal.aborted, false);
    p.requests[1].respond(200, { visage: FACE, cadre: FRAME, conseils: conseils('too_dark') });
    await p.settle();
    assert.deepEqual(p.shows().hints, [hint.too_dark]);
  });

  const failures = [
    ['no answer (a network error)', (r) => r.fail()],
    ['a 422 (the function refuses the photo: the send will say why)', (r) => r.respond(422, { errors: { photo: 'refusée' } })],
    ['a 500', (r) => r.respond(500, { error: 'erreur' })],
    ['a 403 (another origin)', (r) => r.respond(403, { error: 'interdit' })],
    ['an unreadable body', (r) => r.respond(200, new SyntaxError('Unexpected token'))],
    ['a body of another shape', (r) => r.respond(200, { dossier: 'H4R-7N2-KPQ' })],
  ];
  for (const [what, fail] of failures) {
    test(`${what}: nothing shown, the frame left alone`, async () => {
      const p = page();
      await started(p);
      fail(p.requests[0]);
      await p.settle();
      assert.equal(p.shows(), null);
      assert.deepEqual(p.crop.proposals, []);
    });
  }

  test('a face box with a frame that is not one: the frame is left alone', async () => {
    const p = page();
    await started(p);
    p.requests[0].respond(200, { visage: FACE, cadre: { x: 'a', y: 0, width: 10, height: 10 }, conseils: [] });
    await p.settle();
    assert.deepEqual(p.crop.proposals, []);
  });

  test('no answer within 15 s: the request is dropped, nothing shown', async () => {
    const p = page();
    await started(p);
    await p.advance(14_999);
    assert.equal(p.requests[0].signal.aborted, false);
    await p.advance(1);
    assert.equal(p.requests[0].signal.aborted, true);
    assert.equal(p.shows(), null);
  });

  test('offline: nothing is sent', async () => {
    const p = page({ online: false });
    await started(p);
    assert.equal(p.requests.length, 0);
  });

  test('the photo goes (refused, replaced, the form emptied): the request is aborted, the advice goes, a late answer is dropped', async () => {
    const p = page();
    await started(p);
    p.requests[0].respond(200, { visage: FACE, cadre: FRAME, conseils: conseils('blurred') });
    await p.settle();
    assert.notEqual(p.shows(), null);
    p.preview.moved();
    await p.advance(400);
    p.preview.clear();
    assert.equal(p.shows(), null);
    assert.equal(p.requests[1].signal.aborted, true);
    p.preview.moved(); // a key press on an empty frame
    await p.advance(400);
    assert.equal(p.requests.length, 2, 'nothing sent without a photo');

    // A second photo while the first one's answer is on its way: only the second counts.
    await started(p);
    const first = p.requests[2];
    await started(p);
    assert.equal(first.signal.aborted, true);
    first.respond(200, { visage: FACE, cadre: FRAME, conseils: conseils('blurred') });
    await p.settle();
    assert.equal(p.shows(), null);
  });

  test('the same advice again is not announced again (the live region is left as it is)', async () => {
    const p = page();
    await started(p);
    p.requests[0].respond(200, { visage: null, cadre: FRAME, conseils: conseils('blurred') });
    await p.settle();
    const [panel] = p.box.children;
    p.preview.moved();
    await p.advance(400);
    p.requests[1].respond(200, { visage: null, cadre: FRAME, conseils: conseils('blurred') });
    await p.settle();
    assert.equal(p.box.children[0], panel, 'the same element');
  });
});
