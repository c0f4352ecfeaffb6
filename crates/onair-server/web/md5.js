// MD5 of a UTF-8 string as lowercase hex: the management API's sign = MD5(key + t) (RFC 1321).
// WebCrypto has no MD5; this is the one hash the console needs, so it is written out here
// instead of shipping a package in the binary. The browser test checks it against the server.
'use strict';
const md5 = (() => {
  const K = new Uint32Array(64);
  for (let i = 0; i < 64; i++) K[i] = Math.floor(Math.abs(Math.sin(i + 1)) * 2 ** 32) >>> 0;
  const S = [7, 12, 17, 22, 5, 9, 14, 20, 4, 11, 16, 23, 6, 10, 15, 21];
  return (text) => {
    const msg = new TextEncoder().encode(text);
    const n = (((msg.length + 8) >> 6) + 1) << 6;
    const buf = new Uint8Array(n);
    buf.set(msg);
    buf[msg.length] = 0x80;
    const dv = new DataView(buf.buffer);
    const bits = msg.length * 8;
    dv.setUint32(n - 8, bits >>> 0, true);
    dv.setUint32(n - 4, Math.floor(bits / 2 ** 32), true);
    let a0 = 0x67452301, b0 = 0xefcdab89, c0 = 0x98badcfe, d0 = 0x10325476;
    for (let off = 0; off < n; off += 64) {
      let a = a0, b = b0, c = c0, d = d0;
      for (let i = 0; i < 64; i++) {
        let f, g;
        if (i < 16) { f = (b & c) | (~b & d); g = i; }
        else if (i < 32) { f = (d & b) | (~d & c); g = (5 * i + 1) % 16; }
        else if (i < 48) { f = b ^ c ^ d; g = (3 * i + 5) % 16; }
        else { f = c ^ (b | ~d); g = (7 * i) % 16; }
        const s = S[(i >> 4) * 4 + (i % 4)];
        const x = (a + f + K[i] + dv.getUint32(off + g * 4, true)) | 0;
        a = d; d = c; c = b;
        b = (b + ((x << s) | (x >>> (32 - s)))) | 0;
      }
      a0 = (a0 + a) | 0; b0 = (b0 + b) | 0; c0 = (c0 + c) | 0; d0 = (d0 + d) | 0;
    }
    const out = new DataView(new ArrayBuffer(16));
    [a0, b0, c0, d0].forEach((v, i) => out.setUint32(i * 4, v, true));
    return [...new Uint8Array(out.buffer)].map((x) => x.toString(16).padStart(2, '0')).join('');
  };
})();
if (typeof module !== 'undefined') module.exports = md5;
