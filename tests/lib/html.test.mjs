// Table-driven tests of the URL extraction that the offline checks rely on: a URL
// the helpers miss is a URL nobody checks.

import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';

import { cssUrls, readPage, srcsetUrls } from './html.mjs';

test('srcsetUrls splits candidates and drops descriptors', () => {
  const cases = [
    ['a.png', ['a.png']],
    ['a-480.jpg 480w, a-960.jpg 960w', ['a-480.jpg', 'a-960.jpg']],
    ['  a.png 1x,b.png 2x  ', ['a.png', 'b.png']],
    ['a.png,b.png', ['a.png,b.png']], // no space: one URL with a comma in it, as the spec reads it
    ['a.png, b.png', ['a.png', 'b.png']],
    ['img/a%20b.webp 100w', ['img/a%20b.webp']],
    ['', []],
  ];
  for (const [value, expected] of cases) {
    assert.deepEqual(srcsetUrls(value), expected, `srcset="${value}"`);
  }
});

test('cssUrls finds url() in every quoting style and @import, not in comments', () => {
  const cases = [
    ['a { background: url(img/a.png) }', ['img/a.png']],
    ['a { background: url("img/a b.png") }', ['img/a b.png']],
    ["a { background: url( 'x.svg#i' ) }", ['x.svg#i']],
    ['/* url(old.png) */ a { color: red }', []],
    ['@import "print.css" print;', ['print.css']],
    ['@font-face { src: url(f.woff2) format("woff2"), url(f.woff) }', ['f.woff2', 'f.woff']],
  ];
  for (const [css, expected] of cases) {
    assert.deepEqual(cssUrls(css), expected, css);
  }
});

test('readPage reports every URL-bearing attribute with its line, and the ids', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'html-test-'));
  const file = path.join(dir, 'page.html');
  writeFileSync(
    file,
    [
      '<!DOCTYPE html><html lang="fr"><head><link rel="stylesheet" href="a.css">',
      '<style>body { background: url(bg.png) }</style></head><body>',
      '<main id="contenu"><a href="b.html#x">b</a><a name="ancre"></a>',
      '<img src="i.png" srcset="i-1.png 1x, i-2.png 2x" alt="i">',
      '<picture><source srcset="p.webp" type="image/webp"><img src="p.jpg" alt="p"></picture>',
      '<svg><use href="s.svg#icon"></use></svg><div style="background: url(\'d.png\')"></div>',
      '<form action="http://127.0.0.1:9000/x"></form><script src="s.js"></script></main></body></html>',
    ].join('\n'),
  );
  const { refs, ids } = readPage(file);
  assert.deepEqual(
    refs.map((r) => `${r.line} ${r.tag} ${r.attribute} ${r.url}`),
    [
      '1 link href a.css',
      '2 style url() bg.png',
      '3 a href b.html#x',
      '4 img src i.png',
      '4 img srcset i-1.png',
      '4 img srcset i-2.png',
      '5 source srcset p.webp',
      '5 img src p.jpg',
      '6 use href s.svg#icon',
      '6 div style d.png',
      '7 form action http://127.0.0.1:9000/x',
      '7 script src s.js',
    ],
  );
  assert.deepEqual([...ids].sort(), ['ancre', 'contenu']);
  assert.deepEqual(refs[0].rel, ['stylesheet']);
});
