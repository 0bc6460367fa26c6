// warc_check.mjs - independent WARC check: reads .warc.gz files with the npm `warcio` package and verifies every record.
//
// Usage: node tests/warc_check.mjs FILE...   (warcio installed by `npm ci --prefix tests/node`)
// Exits 0 when every record of every file passes, 1 on any problem (each one printed), 2 on bad usage.
// The digests are recomputed here with node:crypto, since warcio's parser does not check them.
import { createHash } from "node:crypto";
import { createReadStream, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { gunzipSync } from "node:zlib";

const require = createRequire(new URL("./node/package.json", import.meta.url));
const { WARCParser } = require("warcio");

const B32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

function base32(bytes) {
  let out = "", bits = 0, value = 0;
  for (const b of bytes) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += B32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += B32[(value << (5 - bits)) & 31];
  while (out.length % 8) out += "=";
  return out;
}

const sha1 = (bytes) => "sha1:" + base32(createHash("sha1").update(bytes).digest());

function indexOfSeq(hay, seq) {
  outer: for (let i = 0; i + seq.length <= hay.length; i++) {
    for (let j = 0; j < seq.length; j++) if (hay[i + j] !== seq[j]) continue outer;
    return i;
  }
  return -1;
}

const CRLFCRLF = [13, 10, 13, 10];
const ascii = (bytes, n) => Buffer.from(bytes.subarray(0, n)).toString("latin1");

async function checkFile(path) {
  const problems = [];
  const raw = readFileSync(path);
  const parser = new WARCParser(createReadStream(path), { keepHeadersCase: true, parseHttp: false });
  const ids = new Set(), types = new Map(), links = [];
  let n = 0, expectOffset = 0;
  for await (const record of parser) {
    const where = `${path} record ${n}`;
    const h = record.warcHeaders.headers;
    const type = h.get("WARC-Type");
    const block = await record.readFully(false);
    const offset = parser.offset, length = parser.recordLength;

    if (record.warcHeaders.protocol !== "WARC/1.1") problems.push(`${where}: version ${record.warcHeaders.protocol}`);
    if (n === 0 && type !== "warcinfo") problems.push(`${where}: first record is ${type}, not warcinfo`);
    const id = h.get("WARC-Record-ID") || "";
    if (!/^<urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}>$/.test(id))
      problems.push(`${where}: bad WARC-Record-ID ${id}`);
    if (ids.has(id)) problems.push(`${where}: duplicate WARC-Record-ID ${id}`);
    ids.add(id);
    types.set(id, type);
    if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$/.test(h.get("WARC-Date") || ""))
      problems.push(`${where}: bad WARC-Date ${h.get("WARC-Date")}`);
    if (Number(h.get("Content-Length")) !== block.length)
      problems.push(`${where}: Content-Length ${h.get("Content-Length")} but block of ${block.length}`);

    // The block digest is required on every record.
    const blockDigest = h.get("WARC-Block-Digest");
    if (!blockDigest) problems.push(`${where}: no WARC-Block-Digest`);
    else if (blockDigest !== sha1(block)) problems.push(`${where}: WARC-Block-Digest ${blockDigest} != ${sha1(block)}`);

    // Each record must be its own gzip member: the member at this offset holds exactly it.
    if (offset !== expectOffset) problems.push(`${where}: starts at ${offset}, previous ended at ${expectOffset}`);
    expectOffset = offset + length;
    const member = raw.subarray(offset, offset + length);
    if (member[0] !== 0x1f || member[1] !== 0x8b) problems.push(`${where}: not a gzip member at ${offset}`);
    else {
      const text = gunzipSync(member);
      const end = indexOfSeq(text, CRLFCRLF);
      if (!ascii(text, 9).startsWith("WARC/1.1") || end < 0 || text.length !== end + 4 + block.length + 4)
        problems.push(`${where}: gzip member does not hold exactly this record`);
    }

    if (type === "warcinfo") {
      if (h.get("Content-Type") !== "application/warc-fields") problems.push(`${where}: warcinfo Content-Type ${h.get("Content-Type")}`);
      const fields = Buffer.from(block).toString("utf8");
      for (const f of ["software", "format"]) if (!new RegExp(`^${f}: .+`, "m").test(fields)) problems.push(`${where}: warcinfo lacks ${f}`);
      if (!h.get("WARC-Filename")) problems.push(`${where}: warcinfo lacks WARC-Filename`);
    } else if (type === "request" || type === "response") {
      const msgtype = `application/http;msgtype=${type}`;
      if ((h.get("Content-Type") || "").replace(/\s/g, "") !== msgtype) problems.push(`${where}: Content-Type ${h.get("Content-Type")}`);
      if (!h.get("WARC-Target-URI")) problems.push(`${where}: no WARC-Target-URI`);
      const to = h.get("WARC-Concurrent-To");
      if (!to) problems.push(`${where}: no WARC-Concurrent-To`);
      else links.push([where, type, to]);
      const start = ascii(block, 64);
      if (type === "response" && !/^HTTP\/\d(\.\d)? \d{3}/.test(start)) problems.push(`${where}: block does not start with a status line`);
      if (type === "request" && !/^[A-Z]+ \S+ HTTP\/\d/.test(start)) problems.push(`${where}: block does not start with a request line`);
      const end = indexOfSeq(block, CRLFCRLF);
      if (end < 0) problems.push(`${where}: HTTP header does not end`);
      const payloadDigest = h.get("WARC-Payload-Digest");
      if (type === "response" && !payloadDigest) problems.push(`${where}: no WARC-Payload-Digest`);
      if (payloadDigest && end >= 0) {
        const payload = block.subarray(end + 4);
        if (payloadDigest !== sha1(payload)) problems.push(`${where}: WARC-Payload-Digest ${payloadDigest} != ${sha1(payload)}`);
      }
      if (type === "response" && end >= 0 && /\r\ntransfer-encoding\s*:/i.test(ascii(block, end + 2)))
        problems.push(`${where}: response keeps a Transfer-Encoding header`);
    } else {
      problems.push(`${where}: unexpected WARC-Type ${type}`);
    }
    n++;
  }
  if (expectOffset !== raw.length) problems.push(`${path}: ${raw.length - expectOffset} bytes after the last record`);
  for (const [where, type, to] of links) {
    const other = types.get(to);
    if (!other || other === type || other === "warcinfo") problems.push(`${where}: WARC-Concurrent-To ${to} names no matching ${type === "request" ? "response" : "request"}`);
  }
  if (n === 0) problems.push(`${path}: no records`);
  return { n, problems };
}

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error("usage: node warc_check.mjs FILE.warc.gz...");
  process.exit(2);
}
let bad = 0;
for (const f of files) {
  try {
    const { n, problems } = await checkFile(f);
    for (const p of problems) console.error(p);
    bad += problems.length;
    console.log(`${f}: ${n} records, ${problems.length} problems`);
  } catch (e) {
    console.error(`${f}: warcio failed: ${e && e.message ? e.message : e}`);
    bad++;
  }
}
process.exit(bad ? 1 : 0);
