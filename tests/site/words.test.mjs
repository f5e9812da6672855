// What students read on the built site: every text of every page (element text, the attributes
// that are read or shown, the texts of the form's contract) and of every SVG picture. The card has
// one name, written « Pass’Région » with its typographic apostrophe, never the handout's
// « PASS’REGION » nor another spelling; and the French text follows French typography: a narrow
// no-break space (U+202F) before ; : ! ? and inside « », and the apostrophe ’.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { parse, parseFragment } from 'parse5';

import { assertNoProblems, htmlPages, listFiles, siteDir } from '../lib/site.mjs';

/** The card's one spelling. */
const NAME = 'Pass’Région';
/** Any way of writing it: case, accents, apostrophes, spaces, hyphens or nothing between. */
const ANY_NAME = /pass[\s\u00a0\u202f'’‘`´ʼ.\-_]*r[eéèêë]gion/giu;
/** A space other than the narrow no-break one before high punctuation or inside « », or a
 * typewriter apostrophe between letters. */
const TYPOGRAPHY = /[ \u00a0](?=[;:!?»])|«[ \u00a0]|(?<=\p{L})'(?=\p{L})/gu;

/** Attributes whose value people read or hear. */
const READ_ATTRIBUTES = new Set(['alt', 'title', 'aria-label', 'placeholder', 'content', 'label']);
/** Elements whose text is not prose: code, styles, scripts (the JSON contract aside). */
const NOT_PROSE = new Set(['style', 'code', 'pre', 'kbd', 'samp']);

/**
 * The texts of an HTML or SVG document, as { text, where } pairs: text nodes outside code and
 * styles, the read attributes, the `data-*` attributes that scripts show, the string values of
 * the JSON contract. URLs are left out: they are addresses, not words.
 */
export function texts(document) {
  const found = [];
  const walk = (node, where) => {
    const tag = node.tagName;
    if (tag && NOT_PROSE.has(tag)) return;
    if (tag === 'script') {
      const type = node.attrs.find((a) => a.name === 'type')?.value;
      const source = node.childNodes.map((c) => c.value ?? '').join('');
      if (type === 'application/json') {
        const strings = [];
        JSON.parse(source, (_, value) => (typeof value === 'string' && strings.push(value), value));
        found.push(...strings.map((text) => ({ text, where: `${where} JSON` })));
      }
      return;
    }
    if (tag === 'template') walk(node.content, where);
    for (const attr of node.attrs ?? []) {
      if (READ_ATTRIBUTES.has(attr.name) || attr.name.startsWith('data-')) {
        found.push({ text: attr.value, where: `${where} [${attr.name}]` });
      }
    }
    for (const child of node.childNodes ?? []) {
      if (child.nodeName === '#text') found.push({ text: child.value, where: `${where} <${tag ?? 'document'}>` });
      else walk(child, child.sourceCodeLocation ? `line ${child.sourceCodeLocation.startLine}` : where);
    }
  };
  walk(document, 'line 1');
  return found.map(({ text, where }) => ({ text: text.replace(/\bhttps?:\/\/\S+/g, ''), where }));
}

/** The spellings of the card's name in `text` that are not its one spelling. */
export function misspelt(text) {
  return [...text.matchAll(ANY_NAME)].map((m) => m[0]).filter((found) => found !== NAME);
}

/** An excerpt of `text` around each place where French typography is not followed. */
export function typography(text) {
  return [...text.matchAll(TYPOGRAPHY)].map((m) => text.slice(Math.max(0, m.index - 12), m.index + 3));
}

const parseFile = (file) => parse(readFileSync(file, 'utf8'), { sourceCodeLocationInfo: true });

test('the checks find what they look for', () => {
  // Each text, the misspellings of the name it holds, and how many typography mistakes.
  const cases = [
    ['La carte Pass’Région.', [], 0],
    ['PASS’REGION, Pass Région, Pass’région, pass-region, PassRégion', ['PASS’REGION', 'Pass Région', 'Pass’région', 'pass-region', 'PassRégion'], 0],
    ["Pass'Region", ["Pass'Region"], 1],
    ['https://www.auvergnerhonealpes.fr/passregion', [], 0],
    ['Attention !', [], 1],
    ['Votre numéro\u00a0:', [], 1],
    ['« Appliquer\u202f»', [], 1],
    ['«\u202fAppliquer »', [], 1],
    ['«\u202fAppliquer\u202f»\u202f; à 10:30 ou 11h ? non\u202f!', [], 1],
    ["l'élève", [], 1],
    ['l’élève, «\u202fDossier\u202f»\u202f: H4R-7N2-KPQ\u202f?', [], 0],
  ];
  for (const [text, names, mistakes] of cases) {
    const [{ text: clean }] = texts(parseFragment(`<p>${text}</p>`));
    assert.deepEqual(misspelt(clean), names, text);
    assert.equal(typography(clean).length, mistakes, `${text}: ${typography(clean)}`);
  }
  assert.deepEqual(typography('Votre numéro de dossier :'), ['o de dossier :']);
  const page = parse('<html lang="fr"><body><img alt="PASS REGION"><p data-done="Prêt !"></p><script type="application/json">{"a": ["Pass-Région"]}</script><code>a : b</code></body></html>');
  const all = texts(page).map((t) => t.text);
  assert.deepEqual(all.flatMap(misspelt), ['PASS REGION', 'Pass-Région']);
  assert.deepEqual(all.flatMap(typography), ['Prêt !']);
});

const root = siteDir();
const documents = [...htmlPages(root), ...listFiles(root, ['.svg'])];

describe(`one spelling of the card's name, « ${NAME} »`, () => {
  for (const file of documents) {
    test(file, () => {
      const problems = texts(parseFile(path.join(root, file))).flatMap(({ text, where }) =>
        misspelt(text).map((found) => `${file}, ${where}: « ${found} »`),
      );
      assertNoProblems(problems, `other spellings than « ${NAME} »`);
    });
  }
});

describe('French typography: narrow no-break spaces before ; : ! ? and inside « », and ’', () => {
  for (const file of documents) {
    test(file, () => {
      const problems = texts(parseFile(path.join(root, file))).flatMap(({ text, where }) =>
        typography(text).map((excerpt) => `${file}, ${where}: « ${excerpt} »`),
      );
      assertNoProblems(problems, 'spaces that should be narrow and unbreakable');
    });
  }
});
