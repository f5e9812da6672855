// Reading what the handler stored, straight from the S3-compatible server over HTTP, and
// looking inside the stored JPEG. Requests are signed (AWS Signature Version 4, by the aws4
// package): moto lists a bucket for anyone but, like S3, refuses an anonymous GetObject.

import aws4 from 'aws4';

/** A bucket on an S3-compatible server: { endpoint, bucket, region, accessKeyId, secretAccessKey }. */
export class Bucket {
  constructor({ endpoint, bucket, region, accessKeyId, secretAccessKey }) {
    Object.assign(this, { endpoint: new URL(endpoint), bucket, region, credentials: { accessKeyId, secretAccessKey } });
  }

  /** A signed GET of `pathAndQuery` (path-style: /bucket/key?query). */
  get(pathAndQuery) {
    const signed = aws4.sign(
      { host: this.endpoint.host, path: pathAndQuery, method: 'GET', service: 's3', region: this.region },
      this.credentials,
    );
    // fetch sets Host itself, from the same URL.
    const { Host, ...headers } = signed.headers;
    return fetch(new URL(pathAndQuery, this.endpoint), { headers });
  }

  /** Every key under `prefix`, sorted. */
  async listKeys(prefix = '') {
    const response = await this.get(`/${this.bucket}?list-type=2&prefix=${encodeURIComponent(prefix)}`);
    const xml = await response.text();
    if (!response.ok) throw new Error(`ListObjectsV2 on ${this.bucket}: ${response.status}\n${xml}`);
    if (/<IsTruncated>true<\/IsTruncated>/.test(xml)) throw new Error('ListObjectsV2 answer truncated');
    return [...xml.matchAll(/<Key>([^<]*)<\/Key>/g)].map((match) => match[1]).sort();
  }

  /** One object: { contentType, metadata (x-amz-meta-*), bytes }. Fails if it is missing. */
  async getObject(key) {
    const response = await this.get(`/${this.bucket}/${key}`);
    if (!response.ok) throw new Error(`GetObject ${key}: ${response.status} ${await response.text()}`);
    const metadata = {};
    for (const [name, value] of response.headers) {
      if (name.startsWith('x-amz-meta-')) metadata[name.slice('x-amz-meta-'.length)] = value;
    }
    return {
      contentType: response.headers.get('content-type'),
      metadata,
      bytes: Buffer.from(await response.arrayBuffer()),
    };
  }
}

/**
 * The JPEG's frame header and application segments, read by walking the markers up to the
 * scan: { frame: 'SOF0' | 'SOF2' | ..., width, height, components, app: ['APP0', ...] }.
 * Throws on anything that is not a well-formed JPEG header.
 */
export function jpegInfo(bytes) {
  if (bytes[0] !== 0xff || bytes[1] !== 0xd8) throw new Error('not a JPEG: no SOI marker');
  const info = { frame: null, width: 0, height: 0, components: 0, app: [] };
  let at = 2;
  while (at + 4 <= bytes.length) {
    if (bytes[at] !== 0xff) throw new Error(`no marker at byte ${at}`);
    const marker = bytes[at + 1];
    if (marker === 0xff) {
      at += 1; // fill byte
      continue;
    }
    if (marker === 0xda) return info; // start of scan: the header is over
    const length = bytes.readUInt16BE(at + 2);
    if (marker >= 0xe0 && marker <= 0xef) info.app.push(`APP${marker - 0xe0}`);
    // SOF0..SOF15, except DHT (C4), JPG (C8) and DAC (CC).
    if (marker >= 0xc0 && marker <= 0xcf && ![0xc4, 0xc8, 0xcc].includes(marker)) {
      info.frame = `SOF${marker - 0xc0}`;
      info.height = bytes.readUInt16BE(at + 5);
      info.width = bytes.readUInt16BE(at + 7);
      info.components = bytes[at + 9];
    }
    at += 2 + length;
  }
  throw new Error('no start of scan');
}
