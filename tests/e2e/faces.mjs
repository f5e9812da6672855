// The ID photo's frame seen from outside the function: the hand-marked faces of
// handler/tests/faces/faces.toml, the two frames a portrait may get (the ID-photo rule's around its
// face, and the old centred one), and, measured in headless Chromium, how near a stored 413×531
// photo is to each, and which crop of the original it is.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';

import { parse as parseToml } from 'smol-toml';

import { repoRoot } from '../lib/site.mjs';

export const FACES = path.join(repoRoot, 'handler', 'tests', 'faces');
export const OUTPUT = { width: 413, height: 531 };
const RATIO = OUTPUT.width / OUTPUT.height;
/** The ID-photo rule (handler/photo/src/face.rs, RULE): the head's share of the height, the space above the crown. */
export const RULE = { head: 34 / 45, aboveCrown: 0.09 };
/** The least frame the function accepts (form/src/limits.rs). */
export const MIN_FRAME = { width: 234, height: 300 };
/** The old default frame's share of the spare height above it (form/src/framing.rs, FRAMING). */
const WHOLE_PHOTO_BIAS = 0.25;
/** The grey thumbnails compared: about a tenth of the output. */
export const THUMB = { width: 41, height: 53 };

/** The portrait's entry in faces.toml: { size: [w, h], face: { box, crown_y, chin_y } }. */
export function portrait(file) {
  const manifest = parseToml(readFileSync(path.join(FACES, 'faces.toml'), 'utf8'));
  const entry = manifest.image.find((image) => image.file === file);
  assert.ok(entry && entry.faces.length === 1, `${file}: one face in faces.toml`);
  return { size: entry.size, face: entry.faces[0] };
}

const clamp = (value, low, high) => Math.min(Math.max(value, low), high);

/**
 * The rule's frame from the hand marks, in the original's pixels: the head at 34/45 of the
 * height, centred on the face box, 9 % of the height above the crown; no larger than the photo
 * (the largest 35:45 that fits, still on the face), then moved inside it.
 */
export function ruleFrame(face, [width, height]) {
  const frameHeight = Math.min((face.chin_y - face.crown_y) / RULE.head, height, width / RATIO);
  const frameWidth = frameHeight * RATIO;
  const centreX = face.box[0] + face.box[2] / 2;
  return {
    x: clamp(centreX - frameWidth / 2, 0, width - frameWidth),
    y: clamp(face.crown_y - RULE.aboveCrown * frameHeight, 0, height - frameHeight),
    width: frameWidth,
    height: frameHeight,
  };
}

/** The old default frame: the largest 35:45, centred across, a quarter of the spare height above. */
export function centredFrame([width, height]) {
  if (width > height * RATIO) {
    const frameWidth = height * RATIO;
    return { x: (width - frameWidth) / 2, y: 0, width: frameWidth, height };
  }
  const frameHeight = width / RATIO;
  return { x: 0, y: (height - frameHeight) * WHOLE_PHOTO_BIAS, width, height: frameHeight };
}

/** How far apart two frames are: the mean distance of their four edges, in pixels. */
export function edgeDistance(a, b) {
  const edges = (r) => [r.x, r.y, r.x + r.width, r.y + r.height];
  const [ea, eb] = [edges(a), edges(b)];
  return ea.reduce((sum, v, i) => sum + Math.abs(v - eb[i]), 0) / 4;
}

export const showRect = (r) => `[${[r.x, r.y, r.width, r.height].map((v) => v.toFixed(1)).join(', ')}]`;
export const jpegDataUrl = (bytes) => `data:image/jpeg;base64,${Buffer.from(bytes).toString('base64')}`;

/**
 * In a page of its own in `browser` (JavaScript on), with `original` and `stored` as data: URLs
 * and `frames` { rule, centred } in the original's pixels: grey THUMB thumbnails of the stored
 * photo and of the original cropped to each frame, and their mean absolute differences (grey
 * levels, 0 to 255). Also:
 * - `found`: the 35:45 crop of the original (at least MIN_FRAME high) whose thumbnail is nearest
 *   the stored photo's, by a grid over size and place then a finer local search, with its
 *   difference: the frame the function used, as the pixels show it;
 * - `control`: the same measures ({ rule, centred, found }) of a photo made the old way here (the
 *   original's centred frame at 413×531, through a JPEG), and `oldWay`, that photo as a data: URL.
 */
export async function measure(browser, { original, stored, frames }) {
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    await page.setContent('<!doctype html><title>mesure</title>');
    return await page.evaluate(
      async ({ original, stored, frames, thumb, output, minHeight }) => {
        const load = async (src) => {
          const img = new Image();
          img.src = src;
          await img.decode();
          return img;
        };
        const canvas = document.createElement('canvas');
        canvas.width = thumb.width;
        canvas.height = thumb.height;
        const ctx = canvas.getContext('2d', { willReadFrequently: true });
        const grey = (img, r) => {
          ctx.imageSmoothingEnabled = true;
          ctx.imageSmoothingQuality = 'high';
          ctx.clearRect(0, 0, thumb.width, thumb.height);
          ctx.drawImage(img, r.x, r.y, r.width, r.height, 0, 0, thumb.width, thumb.height);
          const { data } = ctx.getImageData(0, 0, thumb.width, thumb.height);
          const out = new Float64Array(thumb.width * thumb.height);
          for (let i = 0; i < out.length; i += 1) out[i] = 0.299 * data[4 * i] + 0.587 * data[4 * i + 1] + 0.114 * data[4 * i + 2];
          return out;
        };
        const diff = (a, b) => a.reduce((sum, v, i) => sum + Math.abs(v - b[i]), 0) / a.length;
        const source = await load(original);
        const photo = await load(stored);
        const whole = { x: 0, y: 0, width: photo.naturalWidth, height: photo.naturalHeight };
        const storedThumb = grey(photo, whole);
        const ruleThumb = grey(source, frames.rule);
        const centredThumb = grey(source, frames.centred);

        // The control: what the function stored before, made here from the original.
        const big = document.createElement('canvas');
        big.width = output.width;
        big.height = output.height;
        const bigCtx = big.getContext('2d');
        bigCtx.imageSmoothingQuality = 'high';
        const c = frames.centred;
        bigCtx.drawImage(source, c.x, c.y, c.width, c.height, 0, 0, output.width, output.height);
        const oldWay = await load(big.toDataURL('image/jpeg', 0.85));
        const oldThumb = grey(oldWay, whole);

        // The crop of the original nearest a thumbnail.
        const [W, H] = [source.naturalWidth, source.naturalHeight];
        const ratio = output.width / output.height;
        const maxHeight = Math.min(H, W / ratio);
        const nearest = (target) => {
          const at = (x, y, h) => {
            const w = h * ratio;
            if (h < minHeight || h > maxHeight + 1e-9 || x < 0 || y < 0 || x + w > W + 1e-9 || y + h > H + 1e-9) return Infinity;
            return diff(target, grey(source, { x, y, width: w, height: h }));
          };
          let best = { x: 0, y: 0, h: maxHeight, diff: Infinity };
          const heightStep = (maxHeight - minHeight) / 12;
          for (let h = maxHeight; h >= minHeight - 1e-9; h -= heightStep) {
            const step = Math.max(4, h / 40);
            const places = [[W - h * ratio, 0], [0, H - h], [W - h * ratio, H - h]]; // the edges a clamped frame touches
            for (let x = 0; x <= W - h * ratio + 1e-9; x += step) {
              for (let y = 0; y <= H - h + 1e-9; y += step) places.push([x, y]);
            }
            for (const [x, y] of places) {
              const d = at(x, y, h);
              if (d < best.diff) best = { x, y, h, diff: d };
            }
          }
          const moves = (step) => [
            [step, 0, 0], [-step, 0, 0], [0, step, 0], [0, -step, 0], [0, 0, step], [0, 0, -step],
            [(-step * ratio) / 2, -step / 2, step], [(step * ratio) / 2, step / 2, -step],
          ];
          for (let step = Math.max(8, heightStep / 2); step >= 0.25; step /= 2) {
            for (let moved = true; moved; ) {
              moved = false;
              for (const [dx, dy, dh] of moves(step)) {
                const d = at(best.x + dx, best.y + dy, best.h + dh);
                if (d < best.diff) {
                  best = { x: best.x + dx, y: best.y + dy, h: best.h + dh, diff: d };
                  moved = true;
                }
              }
            }
          }
          return { frame: { x: best.x, y: best.y, width: best.h * ratio, height: best.h }, diff: best.diff };
        };
        return {
          rule: diff(storedThumb, ruleThumb),
          centred: diff(storedThumb, centredThumb),
          found: nearest(storedThumb),
          control: { rule: diff(oldThumb, ruleThumb), centred: diff(oldThumb, centredThumb), found: nearest(oldThumb) },
          oldWay: oldWay.src,
        };
      },
      { original, stored, frames, thumb: THUMB, output: OUTPUT, minHeight: MIN_FRAME.height },
    );
  } finally {
    await context.close();
  }
}
