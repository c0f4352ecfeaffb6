// onair watch page: HTTP-FLV in the browser through WebCodecs.
//
// The page fetches /<app>/<stream>.flv, splits the FLV tags itself, decodes H.264 with a
// VideoDecoder (optimizeForLatency) and AAC with an AudioDecoder, paints each picture on a
// canvas once its presentation time comes (a small adaptive delay absorbs network jitter) and
// plays the audio through an AudioContext. Where WebCodecs is missing (a page served over plain
// HTTP from a non-loopback address is not a secure context) it falls back to the server's HLS
// in a <video> element. window.onairStats carries what the stats line shows, for tests.
'use strict';

const $ = (id) => document.getElementById(id);
const [, app = '', stream = ''] = location.pathname.split('/').filter(Boolean).slice(0);
const path = `/${app}/${stream}`;
// The page's query (a signed play URL's txSecret / txTime) goes on to the stream; `engine=hls`
// is the page's own: it forces the HLS fallback.
const query = new URLSearchParams(location.search);
const ENGINE = query.get('engine');
query.delete('engine');
const QS = query.toString() ? `?${query}` : '';
const FLV_URL = `${path}.flv${QS}`;
const HLS_URL = `${path}.m3u8${QS}`;

// Playout: a picture of presentation time p is painted at anchor + p (performance.now() ms).
// The first picture sets the anchor START_DELAY_MS ahead; a picture decoded later than
// LATE_SLACK_MS past its slot moves the anchor later (nothing is dropped, the delay grows by
// what the network held back). Every TUNE_MS the anchor moves earlier by how much sooner than TARGET_EARLY_MS
// before its slot every picture of that period arrived: at once when that is more than
// CATCH_UP_MS (the server's start burst of old pictures, a network stall that cleared: the
// pictures in between are skipped), else by at most 10 ms (the delay shrinks back smoothly).
const START_DELAY_MS = 50;
const LATE_SLACK_MS = 20;
const TARGET_EARLY_MS = 15;
const CATCH_UP_MS = 100;
const TUNE_MS = 500;
// Painted stamps kept in window.onairStats (10 min at 30 fps; the older half goes past it).
const MAX_STAMPS = 18000;
// Before the first picture, audio is scheduled this far ahead of the AudioContext clock.
const AUDIO_LEAD_S = 0.06;
// Audio is never scheduled sooner than this (the AudioContext needs it to start a buffer).
const AUDIO_MIN_LEAD_S = 0.02;
const AUDIO_MAX_AHEAD_S = 0.5;

const stats = (window.onairStats = {
  mode: 'webcodecs',
  state: 'connecting',
  width: 0,
  height: 0,
  received: 0,
  decoded: 0,
  painted: 0,
  dropped: 0,
  bufferMs: 0,
  decodeMs: 0, // recent mean: handed to the decoder -> picture out
  waitMs: 0, // recent mean: picture out -> painted
  stamps: [], // { counter, latencyMs } of painted stamped pictures, the newest MAX_STAMPS
  audioDecoded: 0,
  audioScheduled: 0,
  audioRate: 0,
  audioState: 'none',
  audioTime: 0,
  errors: [],
});

document.title = `onair · ${stream}`;
$('title').textContent = `${app} / ${stream}`;

// ---------------------------------------------------------------- FLV tags

/** Splits an FLV byte stream into tags: onTag(type, timestampMs, body). */
class FlvSplitter {
  constructor(onTag) {
    this.onTag = onTag;
    this.buf = new Uint8Array(1 << 16);
    this.len = 0;
    this.headerDone = false;
  }
  push(chunk) {
    if (this.len + chunk.length > this.buf.length) {
      const bigger = new Uint8Array(Math.max(this.buf.length * 2, this.len + chunk.length));
      bigger.set(this.buf.subarray(0, this.len));
      this.buf = bigger;
    }
    this.buf.set(chunk, this.len);
    this.len += chunk.length;
    let pos = 0;
    const b = this.buf;
    if (!this.headerDone) {
      if (this.len < 13) return;
      if (b[0] !== 0x46 || b[1] !== 0x4c || b[2] !== 0x56) throw new Error('not an FLV stream');
      pos = ((b[5] << 24) | (b[6] << 16) | (b[7] << 8) | b[8]) + 4;
      this.headerDone = true;
    }
    while (this.len - pos >= 11) {
      const size = (b[pos + 1] << 16) | (b[pos + 2] << 8) | b[pos + 3];
      if (this.len - pos < 11 + size + 4) break;
      const ts = ((b[pos + 7] << 24) | (b[pos + 4] << 16) | (b[pos + 5] << 8) | b[pos + 6]) >>> 0;
      this.onTag(b[pos] & 0x1f, ts, b.slice(pos + 11, pos + 11 + size));
      pos += 11 + size + 4;
    }
    this.buf.copyWithin(0, pos, this.len);
    this.len -= pos;
  }
}

// ---------------------------------------------------------------- stamps

/** Reads the test pattern's stamp (frame counter, capture time) from the canvas' top rows. */
function readStamp(ctx, width, height) {
  const c = Math.max(2, Math.floor(width / 48) & ~1);
  if (2 * c > height || 48 * c > width) return null;
  const img = ctx.getImageData(0, 0, 48 * c, 2 * c).data;
  const rows = [0n, 0n];
  const n = Math.max(1, c >> 1);
  for (let r = 0; r < 2; r++) {
    for (let cell = 0; cell < 48; cell++) {
      const x0 = cell * c + (c >> 2);
      const y0 = r * c + (c >> 2);
      let sum = 0;
      for (let y = y0; y < y0 + n; y++) {
        for (let x = x0; x < x0 + n; x++) {
          const i = (y * 48 * c + x) * 4;
          sum += img[i] + img[i + 1] + img[i + 2];
        }
      }
      rows[r] = (rows[r] << 1n) | (sum / (3 * n * n) > 128 ? 1n : 0n);
    }
  }
  const counter = Number(rows[0] & 0xffffffffn);
  const ms = rows[1];
  const check =
    ((counter ^ (counter >>> 16)) & 0xffff) ^
    Number(ms & 0xffffn) ^
    Number((ms >> 16n) & 0xffffn) ^
    Number((ms >> 32n) & 0xffffn) ^
    0xa5a5;
  return check === Number(rows[0] >> 32n) ? { counter, captureMs: Number(ms) } : null;
}

// ---------------------------------------------------------------- video

const canvas = $('screen');
const ctx = canvas.getContext('2d', { willReadFrequently: true, alpha: false });
let videoDecoder = null;
let waitKey = true;
const pictures = []; // decoded VideoFrames waiting for their time
const sentAt = new Map(); // chunk timestamp -> performance.now() when handed to the decoder
const outAt = new WeakMap(); // VideoFrame -> performance.now() when it came out
const mean = (old, x) => (old ? old * 0.9 + x * 0.1 : x);
let anchor = null;
let minEarly = Infinity;
let lastTune = 0;
const ptsMs = (f) => f.timestamp / 1000;

function avcCodec(avcc) {
  const hex = (x) => x.toString(16).padStart(2, '0');
  return `avc1.${hex(avcc[1])}${hex(avcc[2])}${hex(avcc[3])}`;
}

function configureVideo(avcc) {
  if (videoDecoder) videoDecoder.close();
  videoDecoder = new VideoDecoder({
    output: (frame) => {
      stats.decoded++;
      const now = performance.now();
      // First picture, or a stream whose clock jumped (a new publisher): anchor anew.
      if (anchor === null || Math.abs(anchor + ptsMs(frame) - now) > 1000) {
        anchor = now - ptsMs(frame) + START_DELAY_MS;
      }
      // Out after its slot (the network or the decoder held it back): later slots for all.
      const early = anchor + ptsMs(frame) - now;
      if (early < -LATE_SLACK_MS) anchor -= early;
      minEarly = Math.min(minEarly, anchor + ptsMs(frame) - now);
      const sent = sentAt.get(frame.timestamp);
      if (sent !== undefined) {
        stats.decodeMs = mean(stats.decodeMs, now - sent);
        sentAt.delete(frame.timestamp);
      }
      outAt.set(frame, now);
      pictures.push(frame);
    },
    error: (e) => fail(`video decoder: ${e.message}`),
  });
  videoDecoder.configure({ codec: avcCodec(avcc), description: avcc, optimizeForLatency: true });
  waitKey = true;
}

function onVideo(ts, body) {
  const b0 = body[0];
  if (b0 & 0x80) return note('enhanced RTMP video (HEVC/AV1) is not played by this page');
  if ((b0 & 0x0f) !== 7 || body.length < 5) return;
  const cts = ((body[2] << 16) | (body[3] << 8) | body[4]) << 8 >> 8;
  if (body[1] === 0) return configureVideo(body.subarray(5));
  if (body[1] !== 1 || !videoDecoder || videoDecoder.state !== 'configured') return;
  const key = b0 >> 4 === 1;
  stats.received++;
  if (!key && (waitKey || videoDecoder.decodeQueueSize > 30)) {
    stats.dropped++;
    waitKey = true;
    return;
  }
  waitKey = false;
  if (sentAt.size > 100) sentAt.clear();
  sentAt.set((ts + cts) * 1000, performance.now());
  videoDecoder.decode(
    new EncodedVideoChunk({ type: key ? 'key' : 'delta', timestamp: (ts + cts) * 1000, data: body.subarray(5) }),
  );
}

function paint(now) {
  if (pictures.length) {
    let due = null;
    while (pictures.length && anchor + ptsMs(pictures[0]) <= now) {
      if (due) {
        due.close();
        stats.dropped++;
      }
      due = pictures.shift();
    }
    if (due) draw(due);
  }
  if (now - lastTune > TUNE_MS) {
    const spare = minEarly - TARGET_EARLY_MS;
    if (minEarly !== Infinity && spare > 0) anchor -= spare > CATCH_UP_MS ? spare : Math.min(10, spare);
    minEarly = Infinity;
    lastTune = now;
  }
  const newest = pictures[pictures.length - 1];
  stats.bufferMs = newest ? Math.max(0, Math.round(anchor + ptsMs(newest) - now)) : 0;
  requestAnimationFrame(paint);
}

/** Paints a picture (a VideoFrame, or the fallback's <video>) and reads its stamp. */
function paintPicture(source, w, h) {
  if (canvas.width !== w || canvas.height !== h) {
    canvas.width = w;
    canvas.height = h;
  }
  stats.width = w;
  stats.height = h;
  ctx.drawImage(source, 0, 0, w, h);
  stats.painted++;
  const s = readStamp(ctx, w, h);
  if (s) {
    stats.stamps.push({ counter: s.counter, latencyMs: Date.now() - s.captureMs });
    // A page left open keeps the newest 5-10 minutes, not every stamp since it opened.
    if (stats.stamps.length > MAX_STAMPS) stats.stamps.splice(0, MAX_STAMPS / 2);
  }
}

function draw(frame) {
  const out = outAt.get(frame);
  if (out !== undefined) stats.waitMs = mean(stats.waitMs, performance.now() - out);
  paintPicture(frame, frame.displayWidth, frame.displayHeight);
  frame.close();
}

// ---------------------------------------------------------------- audio

let audioDecoder = null;
let audioCtx = null;
let audioNext = 0;

function ascInfo(asc) {
  const rates = [96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350];
  const index = ((asc[0] & 0x07) << 1) | (asc[1] >> 7);
  return { sampleRate: rates[index] || 44100, numberOfChannels: (asc[1] >> 3) & 0x0f || 2 };
}

function configureAudio(asc) {
  if (audioDecoder) audioDecoder.close();
  const info = ascInfo(asc);
  audioDecoder = new AudioDecoder({
    output: (data) => {
      stats.audioDecoded++;
      schedule(data);
    },
    error: (e) => fail(`audio decoder: ${e.message}`),
  });
  audioDecoder.configure({ codec: 'mp4a.40.2', description: asc, ...info });
  stats.audioRate = info.sampleRate;
  if (!audioCtx) {
    audioCtx = new AudioContext({ latencyHint: 'interactive' });
    const sound = $('sound');
    const resume = () => audioCtx.resume().then(() => (sound.hidden = true));
    sound.onclick = resume;
    audioCtx.onstatechange = () => (sound.hidden = audioCtx.state === 'running');
    sound.hidden = audioCtx.state === 'running';
  }
}

function onAudio(ts, body) {
  if (body[0] >> 4 !== 10 || body.length < 3) return;
  if (body[1] === 0) return configureAudio(body.subarray(2));
  if (!audioDecoder || audioDecoder.state !== 'configured') return;
  audioDecoder.decode(new EncodedAudioChunk({ type: 'key', timestamp: ts * 1000, data: body.subarray(2) }));
}

/** Plays decoded audio on the pictures' clock (lip sync); contiguous unless it drifts. */
function schedule(data) {
  const n = data.numberOfFrames;
  if (audioCtx.state !== 'running' || n === 0) return data.close();
  const now = audioCtx.currentTime;
  let at;
  if (anchor !== null) {
    at = now + (anchor + data.timestamp / 1000 - performance.now()) / 1000;
    // Audio behind the pictures' clock moves the clock later for both (sync kept, no gap).
    if (at < now + AUDIO_MIN_LEAD_S) {
      anchor += (now + AUDIO_MIN_LEAD_S - at) * 1000;
      at = now + AUDIO_MIN_LEAD_S;
    }
    if (Math.abs(at - audioNext) < 0.04) at = audioNext; // seamless with the previous one
  } else {
    at = audioNext < now + 0.01 ? now + AUDIO_LEAD_S : audioNext;
    if (at > now + AUDIO_MAX_AHEAD_S) return data.close(); // far behind: skip to catch up
  }
  const buf = audioCtx.createBuffer(data.numberOfChannels, n, data.sampleRate);
  for (let ch = 0; ch < data.numberOfChannels; ch++) {
    data.copyTo(buf.getChannelData(ch), { planeIndex: ch, format: 'f32-planar' });
  }
  data.close();
  const src = audioCtx.createBufferSource();
  src.buffer = buf;
  src.connect(audioCtx.destination);
  src.start(at);
  audioNext = at + buf.duration;
  stats.audioScheduled++;
}

// ---------------------------------------------------------------- network

function note(msg) {
  if (!stats.errors.includes(msg)) stats.errors.push(msg);
}

function fail(msg) {
  note(msg);
  stats.state = `error: ${msg}`;
}

async function play() {
  for (;;) {
    try {
      stats.state = 'connecting';
      const reply = await fetch(FLV_URL, { cache: 'no-store' });
      if (!reply.ok) {
        stats.state = reply.status === 404 ? 'waiting for the stream' : `HTTP ${reply.status}`;
      } else {
        stats.state = 'playing';
        const splitter = new FlvSplitter((type, ts, body) => {
          if (type === 9) onVideo(ts, body);
          else if (type === 8) onAudio(ts, body);
        });
        const reader = reply.body.getReader();
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          splitter.push(value);
        }
        stats.state = 'the stream ended';
        anchor = null;
      }
    } catch (e) {
      note(String(e.message || e));
      stats.state = `retrying: ${e.message || e}`;
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
}

function fallbackToHls() {
  stats.mode = 'hls';
  const video = $('fallback');
  canvas.hidden = true;
  video.hidden = false;
  video.controls = true;
  // The playlist exists once the first segment is cut: wait for it, and start over on errors.
  const load = async () => {
    stats.state = 'HLS: waiting for the stream';
    for (;;) {
      const r = await fetch(HLS_URL, { cache: 'no-store' }).catch(() => null);
      if (r && r.ok) break;
      await new Promise((done) => setTimeout(done, 1000));
    }
    video.src = HLS_URL;
    video.play().catch((e) => note(`HLS: ${e.message}`));
    stats.state = 'HLS (no WebCodecs here)';
  };
  video.onerror = () => {
    note(`HLS: ${video.error?.message || 'cannot play'}`);
    setTimeout(load, 1000);
  };
  load();
  // Each picture shown is also copied to the hidden canvas to read a test pattern's stamp.
  const onPicture = () => {
    if (video.videoWidth && video.videoHeight) paintPicture(video, video.videoWidth, video.videoHeight);
    video.requestVideoFrameCallback(onPicture);
  };
  video.requestVideoFrameCallback(onPicture);
}

// ---------------------------------------------------------------- stats line

let lastPainted = 0;
let lastAt = performance.now();
let fps = 0;
setInterval(() => {
  const now = performance.now();
  fps = ((stats.painted - lastPainted) * 1000) / (now - lastAt);
  lastPainted = stats.painted;
  lastAt = now;
  if (audioCtx) {
    stats.audioState = audioCtx.state;
    stats.audioTime = audioCtx.currentTime;
  }
  const recent = stats.stamps.slice(-30).map((s) => s.latencyMs).sort((a, b) => a - b);
  const parts = [
    stats.state,
    stats.width ? `${stats.width}x${stats.height}` : null,
    stats.mode === 'webcodecs' ? `${fps.toFixed(1)} fps` : null,
    stats.mode === 'webcodecs' ? `buffer ${stats.bufferMs} ms` : null,
    recent.length ? `latency ${recent[recent.length >> 1]} ms` : null,
    audioCtx ? `audio ${audioCtx.state}` : null,
  ];
  $('stats').textContent = parts.filter(Boolean).join(' · ');
}, 500);

if (ENGINE !== 'hls' && typeof VideoDecoder === 'function' && typeof AudioDecoder === 'function') {
  requestAnimationFrame(paint);
  play();
} else {
  fallbackToHls();
}
