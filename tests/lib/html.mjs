// Reading the URLs and ids out of generated HTML, with a real HTML parser (parse5),
// so that the offline checks see exactly the attributes a browser would load.

import { readFileSync } from 'node:fs';
import { parse } from 'parse5';

// Attributes holding one URL, by element. SVG elements (use, image, a) take `href`
// or the older `xlink:href`, which parse5 reports under the name "href" with an
// xlink prefix.
const URL_ATTRIBUTES = {
  a: ['href'],
  area: ['href'],
  link: ['href'],
  base: ['href'],
  img: ['src'],
  script: ['src'],
  iframe: ['src'],
  source: ['src'],
  track: ['src'],
  audio: ['src'],
  video: ['src', 'poster'],
  embed: ['src'],
  input: ['src'],
  object: ['data'],
  use: ['href'],
  image: ['href'],
  form: ['action'],
  button: ['formaction'],
};

// Attributes holding a comma-separated list of image candidates.
const SRCSET_ATTRIBUTES = {
  img: ['srcset'],
  source: ['srcset'],
  link: ['imagesrcset'],
};

/**
 * Splits a srcset value into its URLs, following the HTML "parse a srcset
 * attribute" steps closely enough for generated markup: a URL runs to the next
 * whitespace (a trailing comma ends the candidate), then descriptors run to the
 * next comma that is not inside parentheses.
 */
export function srcsetUrls(value) {
  const urls = [];
  let i = 0;
  while (i < value.length) {
    while (i < value.length && /[\s,]/.test(value[i])) i++;
    if (i >= value.length) break;
    let start = i;
    while (i < value.length && !/\s/.test(value[i])) i++;
    let url = value.slice(start, i);
    const endsCandidate = url.endsWith(',');
    url = url.replace(/,+$/, '');
    if (url) urls.push(url);
    if (endsCandidate) continue;
    let depth = 0;
    while (i < value.length) {
      const c = value[i];
      if (c === '(') depth++;
      else if (c === ')') depth = Math.max(0, depth - 1);
      else if (c === ',' && depth === 0) break;
      i++;
    }
  }
  return urls;
}

/** The `url(...)` and `@import "..."` references of a piece of CSS. */
export function cssUrls(css) {
  const urls = [];
  const withoutComments = css.replace(/\/\*[\s\S]*?\*\//g, '');
  for (const m of withoutComments.matchAll(/url\(\s*(?:"([^"]*)"|'([^']*)'|([^)'"\s]*))\s*\)/g)) {
    urls.push(m[1] ?? m[2] ?? m[3]);
  }
  for (const m of withoutComments.matchAll(/@import\s+(?:"([^"]*)"|'([^']*)')/g)) {
    urls.push(m[1] ?? m[2]);
  }
  return urls;
}

function attr(node, name) {
  return node.attrs?.find((a) => a.name === name && (!a.prefix || a.prefix === 'xlink'));
}

function textOf(node) {
  return (node.childNodes ?? []).map((c) => c.value ?? '').join('');
}

/**
 * Parses an HTML file and returns its URL references and its fragment targets.
 * Each reference is { tag, attribute, url, line, rel }, `rel` being the link
 * relation of <link>/<a> elements (used to allow rel="canonical").
 * `ids` holds every id attribute and every <a name>.
 */
export function readPage(file) {
  const source = readFileSync(file, 'utf8');
  const document = parse(source, { sourceCodeLocationInfo: true });
  const refs = [];
  const ids = new Set();

  const visit = (node) => {
    const tag = node.tagName;
    if (tag) {
      const line = node.sourceCodeLocation?.startLine ?? 0;
      const rel = attr(node, 'rel')?.value.toLowerCase().split(/\s+/) ?? [];
      for (const name of URL_ATTRIBUTES[tag] ?? []) {
        const a = attr(node, name);
        if (a) refs.push({ tag, attribute: name, url: a.value.trim(), line, rel });
      }
      for (const name of SRCSET_ATTRIBUTES[tag] ?? []) {
        const a = attr(node, name);
        if (a) {
          for (const url of srcsetUrls(a.value)) refs.push({ tag, attribute: name, url, line, rel });
        }
      }
      const style = attr(node, 'style');
      if (style) {
        for (const url of cssUrls(style.value)) refs.push({ tag, attribute: 'style', url, line, rel });
      }
      if (tag === 'style') {
        for (const url of cssUrls(textOf(node))) refs.push({ tag, attribute: 'url()', url, line, rel });
      }
      const id = attr(node, 'id');
      if (id) ids.add(id.value);
      const name = tag === 'a' ? attr(node, 'name') : undefined;
      if (name) ids.add(name.value);
    }
    for (const child of node.childNodes ?? []) visit(child);
    if (node.content) visit(node.content); // <template> contents
  };
  visit(document);
  return { refs, ids };
}
