'use strict';
// Request bodies in constant memory: every byte goes through SHA-256; only
// the first KEEP bytes are kept (enough for any JSON/form body); multipart
// bodies are split on the fly so each file part gets its own size and
// digest even when the upload is gigabytes.

const crypto = require('crypto');

const KEEP = 8 << 20; // bytes of a raw body kept for parsing
const PART_KEEP = 1 << 20; // bytes of one multipart part kept

function headerParam(value, name) {
  const re = new RegExp('(?:^|;)\\s*' + name + '\\*?=\\s*(?:"((?:[^"\\\\]|\\\\.)*)"|([^;]*))', 'i');
  const m = re.exec(value || '');
  if (!m) return undefined;
  let v = m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : m[2].trim();
  // RFC 5987 form: utf-8''name
  const ext = /^utf-8''(.*)$/i.exec(v);
  if (ext) {
    try {
      v = decodeURIComponent(ext[1]);
    } catch (e) {
      v = ext[1];
    }
  }
  return v;
}

class Multipart {
  constructor(boundary) {
    this.delim = Buffer.from('\r\n--' + boundary);
    // A leading CRLF lets the first boundary match the same delimiter.
    this.buf = Buffer.from('\r\n');
    this.state = 'preamble';
    this.parts = [];
    this.cur = null;
    this.error = null;
  }

  emit(data) {
    const p = this.cur;
    if (!p || data.length === 0) return;
    p.hash.update(data);
    p.size += data.length;
    if (p.kept < PART_KEEP) {
      const take = data.subarray(0, PART_KEEP - p.kept);
      p.chunks.push(Buffer.from(take));
      p.kept += take.length;
    }
  }

  finish() {
    const p = this.cur;
    if (!p) return;
    this.cur = null;
    const content = Buffer.concat(p.chunks);
    const part = {
      name: p.name,
      filename: p.filename,
      type: p.type,
      headers: p.headers,
      size: p.size,
      sha256: p.hash.digest('hex'),
      truncated: p.size > content.length,
      content,
    };
    this.parts.push(part);
  }

  push(chunk) {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    this.run();
  }

  run() {
    for (;;) {
      if (this.state === 'preamble' || this.state === 'body') {
        const i = this.buf.indexOf(this.delim);
        if (i < 0) {
          const keep = Math.min(this.buf.length, this.delim.length - 1);
          this.emit(this.buf.subarray(0, this.buf.length - keep));
          this.buf = this.buf.subarray(this.buf.length - keep);
          return;
        }
        this.emit(this.buf.subarray(0, i));
        this.finish();
        this.buf = this.buf.subarray(i + this.delim.length);
        this.state = 'delim';
      }
      if (this.state === 'delim') {
        if (this.buf.length < 2) return;
        if (this.buf[0] === 0x2d && this.buf[1] === 0x2d) {
          this.state = 'epilogue';
          this.buf = Buffer.alloc(0);
          return;
        }
        const eol = this.buf.indexOf('\r\n');
        if (eol < 0) return;
        this.buf = this.buf.subarray(eol + 2); // skips transport padding
        this.state = 'headers';
      }
      if (this.state === 'headers') {
        const j = this.buf.indexOf('\r\n\r\n');
        let hdrText;
        if (this.buf.length >= 2 && this.buf[0] === 0x0d && this.buf[1] === 0x0a) {
          hdrText = '';
          this.buf = this.buf.subarray(2);
        } else if (j < 0) {
          if (this.buf.length > 65536) {
            this.error = 'multipart part headers too long';
            this.state = 'epilogue';
          }
          return;
        } else {
          hdrText = this.buf.subarray(0, j).toString('utf8');
          this.buf = this.buf.subarray(j + 4);
        }
        const headers = {};
        for (const line of hdrText.split('\r\n')) {
          const c = line.indexOf(':');
          if (c > 0) headers[line.slice(0, c).trim().toLowerCase()] = line.slice(c + 1).trim();
        }
        const cd = headers['content-disposition'] || '';
        this.cur = {
          name: headerParam(cd, 'name'),
          filename: headerParam(cd, 'filename'),
          type: headers['content-type'],
          headers,
          size: 0,
          kept: 0,
          chunks: [],
          hash: crypto.createHash('sha256'),
        };
        this.state = 'body';
      }
      if (this.state === 'epilogue') {
        this.buf = Buffer.alloc(0);
        return;
      }
    }
  }

  end() {
    if (this.state !== 'epilogue') {
      if (this.cur) this.finish();
      if (!this.error) this.error = 'multipart body ended before the closing boundary';
    }
  }
}

// Reads the whole request body.  Resolves to
// { buf (Buffer, first KEEP bytes), size, sha256, truncated, multipart }.
function readBody(req) {
  return new Promise((resolve) => {
    const hash = crypto.createHash('sha256');
    const chunks = [];
    let kept = 0;
    let size = 0;
    const ctype = req.headers['content-type'] || '';
    let mp = null;
    if (/^multipart\//i.test(ctype)) {
      const boundary = headerParam(ctype, 'boundary');
      if (boundary) mp = new Multipart(boundary);
    }
    let done = false;
    const finish = (aborted) => {
      if (done) return;
      done = true;
      if (mp) mp.end();
      const buf = Buffer.concat(chunks);
      resolve({
        buf,
        size,
        sha256: hash.digest('hex'),
        truncated: size > buf.length,
        aborted: !!aborted,
        multipart: mp ? { parts: mp.parts, error: mp.error } : null,
      });
    };
    req.on('data', (chunk) => {
      size += chunk.length;
      hash.update(chunk);
      if (kept < KEEP) {
        const take = chunk.length <= KEEP - kept ? chunk : chunk.subarray(0, KEEP - kept);
        chunks.push(take);
        kept += take.length;
      }
      if (mp) mp.push(chunk);
    });
    req.on('end', () => finish(false));
    req.on('error', () => finish(true));
    req.on('aborted', () => finish(true));
    req.on('close', () => finish(true));
  });
}

module.exports = { readBody, headerParam, Multipart, KEEP, PART_KEEP };
