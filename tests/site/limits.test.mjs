// The sizes the pages name are the handler's own. form/src/limits.rs holds the photo size the
// pages promise and the body limit; the generator hands them to the Markdown
// ({{ poids_photo_max }}) and to the templates (site.limits). A page that writes a size of its
// own (« 2 Mo », the Region's old limit) fails here, as does a script limit that disagrees.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';

import { assertNoProblems, htmlPages, repoRoot, siteDir } from '../lib/site.mjs';

const root = siteDir();
const pages = htmlPages(root);
const html = new Map(pages.map((p) => [p, readFileSync(path.join(root, p), 'utf8')]));

/** The constant `name` of form/src/limits.rs, when it is a plain number. */
function limit(name) {
  const source = readFileSync(path.join(repoRoot, 'form', 'src', 'limits.rs'), 'utf8');
  const match = new RegExp(`pub const ${name}: usize = ([0-9_]+);`).exec(source);
  assert.ok(match, `form/src/limits.rs defines ${name} as a number`);
  return Number(match[1].replaceAll('_', ''));
}

const MEGABYTES = limit('MAX_PHOTO_MEGABYTES');
/** How the pages write it: `4 Mo` with a narrow no-break space. */
const PHOTO_TEXT = `${MEGABYTES}\u202fMo`;
/** A size in French units, with whatever space (or none) between number and unit. */
const SIZE = /\d+(?:[.,]\d+)?(?:[ \u00a0\u202f]|&nbsp;)*(?:[kKMG]o|Mio|Kio)\b/g;

/**
 * The page without the contract's JSON: its texts take their sizes from form/src/limits.rs through
 * the placeholders of content/form.toml ({max_photo}, {max_output}), which the form crate fills and
 * checks, so they cannot name a size of their own; the stored photo's « 200 Ko » is among them.
 */
const withoutContract = (text) => text.replace(/<script type="application\/json" id="form-schema">[\s\S]*?<\/script>/, '');

test(`every size a page names is the photo limit, ${PHOTO_TEXT}`, () => {
  const problems = [];
  let named = 0;
  for (const [page, text] of html) {
    for (const [size] of withoutContract(text).matchAll(SIZE)) {
      if (size === PHOTO_TEXT) named++;
      else problems.push(`${page}: « ${size} »`);
    }
  }
  assertNoProblems(problems, `sizes other than ${PHOTO_TEXT}`);
  assert.ok(named > 0, `no page names ${PHOTO_TEXT}`);
});

test('the scripts get the handler’s limits: the form its body limit, the photo tool the photo limit', () => {
  const problems = [];
  const attribute = (name) =>
    [...html].flatMap(([page, text]) => [...text.matchAll(new RegExp(`${name}="([^"]*)"`, 'g'))].map((m) => [page, m[1]]));
  const bodies = attribute('data-max-body');
  const photos = attribute('data-max-photo-bytes');
  assert.ok(bodies.length > 0, 'no page has the form with data-max-body');
  // The body holds the photo and the text fields, inside the Lambda payload (6 MiB base64-encoded).
  for (const [page, value] of bodies) {
    const bytes = Number(value);
    if (!(bytes > MEGABYTES * 1e6 && bytes <= (6 * 1024 * 1024 * 3) / 4)) problems.push(`${page}: data-max-body="${value}"`);
  }
  for (const [page, value] of photos) {
    if (Number(value) !== MEGABYTES * 1e6) problems.push(`${page}: data-max-photo-bytes="${value}"`);
  }
  for (const [page, value] of attribute('data-max-photo')) {
    if (value !== PHOTO_TEXT) problems.push(`${page}: data-max-photo="${value}"`);
  }
  assertNoProblems(problems, 'limits handed to the scripts');
});
