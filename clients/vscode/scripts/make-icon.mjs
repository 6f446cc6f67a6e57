// Draws media/icon.png (128x128): a dark tile with a line of code, a cursor and grey "ghost" text.
// Run once by hand (`node scripts/make-icon.mjs`); the PNG is committed.
import { writeFileSync } from "node:fs";
import { deflateSync } from "node:zlib";

const W = 128, H = 128;
const px = new Uint8Array(W * H * 4);

function inRounded(x, y, r) {
  const cx = Math.min(Math.max(x, r), W - 1 - r), cy = Math.min(Math.max(y, r), H - 1 - r);
  return (x - cx) ** 2 + (y - cy) ** 2 <= r * r;
}
function rect(x0, y0, w, h, rgb) {
  for (let y = y0; y < y0 + h; y++) {for (let x = x0; x < x0 + w; x++) {
    if (!inRounded(x, y, 22)) {continue;}
    const i = (y * W + x) * 4; px[i] = rgb[0]; px[i + 1] = rgb[1]; px[i + 2] = rgb[2]; px[i + 3] = 255;
  }}
}
rect(0, 0, W, H, [24, 30, 48]);
const orange = [255, 122, 26], white = [230, 235, 245], ghost = [110, 120, 145];
rect(20, 30, 40, 10, white);          // typed code
rect(66, 30, 22, 10, white);
rect(20, 52, 26, 10, white);
rect(49, 48, 5, 18, orange);          // cursor
rect(58, 52, 50, 10, ghost);          // ghost suggestion
rect(32, 74, 56, 10, ghost);
rect(32, 96, 36, 10, ghost);

function crc32(buf) {
  let c, crc = 0xffffffff;
  for (let n = 0; n < buf.length; n++) {
    c = (crc ^ buf[n]) & 0xff;
    for (let k = 0; k < 8; k++) {c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;}
    crc = (crc >>> 8) ^ c;
  }
  return (crc ^ 0xffffffff) >>> 0;
}
function chunk(type, data) {
  const len = Buffer.alloc(4); len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type), data]);
  const crc = Buffer.alloc(4); crc.writeUInt32BE(crc32(td));
  return Buffer.concat([len, td, crc]);
}
const raw = Buffer.alloc((W * 4 + 1) * H);
for (let y = 0; y < H; y++) { raw[y * (W * 4 + 1)] = 0; Buffer.from(px.buffer, y * W * 4, W * 4).copy(raw, y * (W * 4 + 1) + 1); }
const ihdr = Buffer.alloc(13);
ihdr.writeUInt32BE(W, 0); ihdr.writeUInt32BE(H, 4); ihdr[8] = 8; ihdr[9] = 6; ihdr[10] = 0; ihdr[11] = 0; ihdr[12] = 0;
const png = Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk("IHDR", ihdr), chunk("IDAT", deflateSync(raw, { level: 9 })), chunk("IEND", Buffer.alloc(0))]);
writeFileSync(new URL("../media/icon.png", import.meta.url), png);
console.log(`media/icon.png: ${png.length} bytes`);
