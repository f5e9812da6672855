// The page's rules (templates/scripts/rules.js) give every answer of the shared case table,
// form/tests/cases.toml, which form/tests/cases.rs holds the `form` crate (the function's rules,
// the authority) to: so the page and the function agree on each field's verdict and recorded
// value, on a photo's format and on the 35:45 frame. rules.js is bound to the contract of the
// built form page (the JSON of `<script id="form-schema">`), as in the browser.
//
// Also: no field's HTML `pattern` (what the browser checks when the script does not run) blocks
// a value the rules accept.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';

import { parse as parseHtml } from 'parse5';
import { parse as parseToml } from 'smol-toml';

import { assertNoProblems, htmlPages, repoRoot, siteDir } from '../lib/site.mjs';

const CONTRACT_ID = 'form-schema';

/**
 * The contract the site's form pages carry: the JSON in `<script type="application/json"
 * id="form-schema">` with the fields' rules (the photo tool carries only its own part of the
 * contract, form::Schema::page_contracts, without them).
 */
function readContract(root) {
  const found = [];
  const walk = (node, page) => {
    const isContract =
      node.tagName === 'script' && (node.attrs || []).some((a) => a.name === 'id' && a.value === CONTRACT_ID);
    if (isContract) found.push({ page, json: node.childNodes.map((child) => child.value).join('') });
    for (const child of node.childNodes || []) walk(child, page);
    if (node.content) walk(node.content, page);
  };
  for (const page of htmlPages(root)) walk(parseHtml(readFileSync(path.join(root, page), 'utf8')), page);
  found.splice(0, found.length, ...found.filter(({ json }) => 'rules' in JSON.parse(json)));
  if (found.length === 0) throw new Error(`no page under \`${root}\` has #${CONTRACT_ID}`);
  const differing = found.filter(({ json }) => json !== found[0].json).map(({ page }) => page);
  if (differing.length > 0) {
    throw new Error(`#${CONTRACT_ID} of ${differing.join(', ')} differs from that of ${found[0].page}`);
  }
  const contract = JSON.parse(found[0].json);
  const missing = ['rules', 'fields', 'limits', 'formats', 'framing'].filter((key) => !(key in contract));
  if (missing.length > 0) {
    throw new Error(
      `${found[0].page}: #${CONTRACT_ID} has no ${missing.map((key) => `\`${key}\``).join(', ')}: ` +
        'it is not the form page\'s contract of form::Schema::page_contracts, which the page\'s rules are bound to',
    );
  }
  return contract;
}

const contract = readContract(siteDir());
const cases = parseToml(readFileSync(path.join(repoRoot, 'form', 'tests', 'cases.toml'), 'utf8'));
const source = readFileSync(path.join(repoRoot, 'templates', 'scripts', 'rules.js'), 'utf8');
// As the bundle runs it: a classic script's top-level declaration, in strict mode.
const makeRules = new Function(`'use strict';\n${source}\nreturn makeRules;`)();
const rules = makeRules(contract);

const [year, month, day] = cases.today.toISOString().split('-').map(Number);
const today = { year, month, day };

/** The value a case writes: a string, or pieces joined (`{ repeat, times }` repeated). */
const expand = (text) =>
  typeof text === 'string'
    ? text
    : text.map((piece) => (typeof piece === 'string' ? piece : piece.repeat.repeat(piece.times))).join('');

// What a failure message escapes: what cannot be seen, and the marks that would stack on a quote.
const HIDDEN = /[\p{C}\p{M}\p{Default_Ignorable_Code_Point}\p{White_Space}]/u;

/** A string as a failure message shows it: quoted, what cannot be seen as `\u{200B}`. */
const quote = (text) =>
  `"${Array.from(text, (c) => {
    if (c === '"' || c === '\\') return `\\${c}`;
    return c !== ' ' && HIDDEN.test(c) ? `\\u{${c.codePointAt(0).toString(16).toUpperCase()}}` : c;
  }).join('')}"`;

/** A case's value as a failure message shows it: long runs as `"a" × 64`. */
const describe = (text) =>
  typeof text === 'string'
    ? quote(text)
    : text
        .map((piece) => (typeof piece === 'string' ? quote(piece) : `${quote(piece.repeat)} × ${piece.times}`))
        .join(' + ');

const show = (value) => (typeof value === 'string' ? quote(value) : JSON.stringify(value));

/** What a field case expects: `{ value }` recorded, `{ accepted }` whatever is recorded, or `{ error }`. */
function expected(c) {
  const given = ['ok' in c, c.ok_null === true, 'error' in c].filter(Boolean).length;
  if (given !== 1) throw new Error('a case needs exactly one of `ok`, `ok_null = true` and `error`');
  if (c.ok_null) return { value: null };
  if ('ok' in c) return { value: typeof c.ok === 'boolean' ? c.ok : expand(c.ok) };
  return { error: c.error };
}

/** What a field case sends: the value, or null for `absent = true`. */
function sent(c) {
  if (('value' in c) === (c.absent === true)) {
    throw new Error('a case needs exactly one of `value` and `absent = true`');
  }
  return c.absent ? null : expand(c.value);
}

/** Checks `name` holding `value` (null: not sent) against `want`; a problem as a sentence, or null. */
function check(name, value, want) {
  const photoPresent = name === 'photo' ? value !== null : true;
  const got = rules.checkField(name, value, { today, school: cases.school, photoPresent });
  if (want.error) {
    if (got.ok) return `accepted as ${show(got.value)}, expected the \`${want.error}\` error`;
    if (got.kind !== want.error) return `refused with \`${got.kind}\`, expected \`${want.error}\``;
    rules.message(name, got.kind); // throws when the field has no such message
    return null;
  }
  if (!got.ok) return `refused with \`${got.kind}\`, expected it accepted`;
  if (want.accepted || Object.is(got.value, want.value)) return null;
  return `recorded ${show(got.value)}, expected ${show(want.value)}`;
}

/**
 * Runs `run` on each case of a table, as one test that lists every failure: `run` returns null,
 * or the problem as a sentence, shown after `where(case)`, which names the case.
 */
function table(title, list, where, run) {
  test(`${title}: ${list.length} cases`, () => {
    if (list.length === 0) throw new Error(`${title}: no case at all`);
    const problems = [];
    for (const c of list) {
      let problem;
      try {
        problem = run(c);
      } catch (error) {
        problem = `throws: ${error.message}`;
      }
      if (problem) problems.push(`${where(c)}: ${problem}`);
    }
    assertNoProblems(problems, `${title}: cases that fail`);
  });
}

/** Each [[field]] group's cases, one per name, with each option of the list for `each_option`. */
function fieldCases(group) {
  if ((group.name === undefined) === (group.names === undefined)) {
    throw new Error('a [[field]] needs `name` or `names`');
  }
  const names = group.names || [group.name];
  return names.flatMap((name) => {
    const options = group.each_option ? contract.fields.find((f) => f.name === name).options : [];
    if (group.each_option && options.length === 0) {
      throw new Error(`${name}: \`each_option\`, but the field has no options`);
    }
    return [
      ...options.map((option) => ({ name, c: { value: option, ok: option }, at: 'each_option' })),
      ...group.cases.map((c, i) => ({ name, c, at: `case ${i + 1}` })),
    ];
  });
}

test('the valid form of the table is valid in every field', () => {
  const problems = [];
  for (const { name } of contract.fields) {
    const value = name in cases.valid ? cases.valid[name] : null;
    const problem = check(name, value, { accepted: true });
    if (problem) problems.push(`${name} = ${show(value)}: ${problem}`);
  }
  assertNoProblems(problems, '[valid] fields the rules refuse');
});

for (const group of cases.field) {
  const title = `[[field]] ${group.name || group.names.join(', ')}`;
  const where = ({ name, c, at }) => `${at}: ${name} = ${'value' in c ? describe(c.value) : '(absent)'}`;
  table(title, fieldCases(group), where, ({ name, c }) => check(name, sent(c), expected(c)));
}

/** The characters an entry of [hygiene] stands for: one `char`, `from` … `to`, or `chars`. */
function characters(entry) {
  if (entry.char !== undefined) return [entry.char];
  if (entry.chars !== undefined) return Array.from(entry.chars);
  const [from, to] = [entry.from.codePointAt(0), entry.to.codePointAt(0)];
  return Array.from({ length: to - from + 1 }, (_, i) => String.fromCodePoint(from + i));
}

const codePoint = (c) => `U+${c.codePointAt(0).toString(16).toUpperCase().padStart(4, '0')}`;
const { hygiene } = cases;

table(
  '[hygiene] refused in every text field',
  hygiene.refused.flatMap((entry) =>
    characters(entry).flatMap((c) =>
      hygiene.fields.flatMap((field) => {
        const { before, after } = field;
        // Between the halves, before them, after them, and alone.
        const values = [`${before}${c}${after}`, `${c}${before}${after}`, `${before}${after}${c}`, c];
        return values.map((value) => ({ entry, c, field, value }));
      }),
    ),
  ),
  ({ entry, c, field, value }) => `${entry.class} ${codePoint(c)}: ${field.name} = ${quote(value)}`,
  ({ field, value }) => check(field.name, value, { error: field.error }),
);

const acceptedIn = hygiene.fields.find((f) => f.name === hygiene.accepted_in);
table(
  `[hygiene] accepted in ${hygiene.accepted_in}`,
  hygiene.accepted.flatMap((entry) =>
    characters(entry).map((c) => ({ entry, c, value: `${acceptedIn.before}${c}${acceptedIn.after}` })),
  ),
  ({ entry, c, value }) => `${entry.class} ${codePoint(c)}: ${acceptedIn.name} = ${quote(value)}`,
  ({ value }) => check(acceptedIn.name, value, { accepted: true }),
);

/** The bytes of a hex string (spaces for reading only). */
function bytes(hex) {
  const digits = expand(hex).replace(/\s/g, '');
  if (!/^(?:[0-9A-Fa-f]{2})*$/.test(digits)) throw new Error('unreadable hex');
  return Uint8Array.from(digits.match(/../g) || [], (pair) => parseInt(pair, 16));
}

const named = ({ name }) => name;

table('[sniff]', cases.sniff.cases, named, ({ hex, format }) => {
  const got = rules.sniff(bytes(hex));
  return got === format ? null : `${got}, expected ${format}`;
});

const close = (got, [x, y, width, height]) =>
  [got.x - x, got.y - y, got.width - width, got.height - height].every((d) => Math.abs(d) < 1e-6);
const rect = (r) => `[${r.x}, ${r.y}, ${r.width}, ${r.height}]`;

const photoNamed = ({ name, photo: [width, height] }) => `${name} (${width}×${height})`;

table('[frame]', cases.frame.cases, photoNamed, ({ photo: [width, height], frame, too_small: tooSmall }) => {
  if ((frame === undefined) === (tooSmall !== true)) {
    throw new Error('a case needs exactly one of `frame` and `too_small = true`');
  }
  const got = rules.defaultFrame(width, height);
  const large = rules.isLargeEnough(got);
  if (tooSmall) return large ? `${rect(got)} is large enough, expected too small` : null;
  if (!large) return `${rect(got)} is too small`;
  return close(got, frame) ? null : `${rect(got)}, expected [${frame.join(', ')}]`;
});

table('[fit]', cases.fit.cases, named, ({ area: [x, y, width, height], bias, frame }) => {
  if (typeof contract.framing[bias] !== 'number') return `\`${bias}\` is not a bias of the contract's framing`;
  const got = rules.fit({ x, y, width, height }, contract.framing[bias]);
  return close(got, frame) ? null : `${rect(got)}, expected [${frame.join(', ')}]`;
});

table('[fill]', cases.fill.cases, ({ template }) => quote(template), ({ template, values, result }) => {
  const got = rules.fill(template, values);
  return got === result ? null : `${quote(got)}, expected ${quote(result)}`;
});

// A browser matches a field's `pattern` against the whole value with the `v` flag, once the
// value is sanitised (a text input drops line feeds and carriage returns), and never an empty
// value: without the page's script, a pattern stricter than the rules would keep a student from
// sending a value the function accepts.
// The patterns are the form page's inputs' own (the contract carries no markup).
const htmlPatterns = [];
const findPatterns = (node) => {
  const attribute = (name) => (node.attrs || []).find((a) => a.name === name)?.value;
  if (node.tagName === 'input' && attribute('pattern')) htmlPatterns.push({ name: attribute('name'), pattern: attribute('pattern') });
  for (const child of node.childNodes || []) findPatterns(child);
  if (node.content) findPatterns(node.content);
};
findPatterns(parseHtml(readFileSync(path.join(siteDir(), 'demande.html'), 'utf8')));
test('the form page has inputs with a pattern', () => assert.ok(htmlPatterns.length > 0, 'no input of demande.html has a pattern'));
for (const field of htmlPatterns) {
  const pattern = new RegExp(`^(?:${field.pattern})$`, 'v');
  const accepted = cases.field
    .flatMap((group) => fieldCases(group))
    .filter(({ name, c }) => name === field.name && !('error' in c) && 'value' in c)
    .map(({ c }) => c.value);
  if (field.name in cases.valid) accepted.push(cases.valid[field.name]);
  table(`the pattern of ${field.name} lets every accepted value through`, accepted, describe, (value) => {
    const sanitised = expand(value).replace(/[\r\n]/g, '');
    return sanitised === '' || pattern.test(sanitised) ? null : `does not match /${field.pattern}/v`;
  });
}
