// A tiny static file server on 127.0.0.1 that publishes a folder under a sub-path
// (such as /ecole/pass/), the way a school puts the site on its own web server
// next to other things. Anything outside the sub-path is a 404, so a root-absolute
// URL in the site shows up as a failed request.

import { createReadStream, statSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';

const CONTENT_TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.webp': 'image/webp',
  '.avif': 'image/avif',
  '.ico': 'image/x-icon',
  '.xml': 'application/xml',
  '.txt': 'text/plain; charset=utf-8',
  '.woff2': 'font/woff2',
};

function statOrNull(p) {
  try {
    return statSync(p);
  } catch {
    return null;
  }
}

/**
 * Serves `root` at http://127.0.0.1:<free port><prefix>. A folder URL serves its
 * index.html, as common web servers do. Resolves to { origin, baseUrl, close }.
 */
export function serveUnderPrefix(root, prefix) {
  const server = http.createServer((req, res) => {
    const { pathname } = new URL(req.url, 'http://127.0.0.1');
    let decoded;
    try {
      decoded = decodeURIComponent(pathname);
    } catch {
      res.writeHead(400).end('bad request');
      return;
    }
    if (!decoded.startsWith(prefix) || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(404).end('not found');
      return;
    }
    let file = path.resolve(root, decoded.slice(prefix.length));
    if (file !== root && !file.startsWith(root + path.sep)) {
      res.writeHead(404).end('not found');
      return;
    }
    let stat = statOrNull(file);
    if (stat?.isDirectory()) {
      file = path.join(file, 'index.html');
      stat = statOrNull(file);
    }
    if (!stat?.isFile()) {
      res.writeHead(404).end('not found');
      return;
    }
    const type = CONTENT_TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream';
    res.writeHead(200, { 'content-type': type, 'content-length': stat.size });
    if (req.method === 'HEAD') {
      res.end();
    } else {
      createReadStream(file).pipe(res);
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const origin = `http://127.0.0.1:${server.address().port}`;
      resolve({
        origin,
        baseUrl: `${origin}${prefix}`,
        close: () =>
          new Promise((done) => {
            server.close(done);
            server.closeAllConnections(); // fetch keeps connections alive; do not wait for them
          }),
      });
    });
  });
}
