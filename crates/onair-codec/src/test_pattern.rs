//! The counter-stamped test pattern: colour bars, a moving box and a patch of light film grain
//! (so rate control has real work at any bitrate), with a machine-readable stamp in its top
//! rows carrying the frame counter and the capture time in milliseconds. The stamp survives
//! H.264 compression (large black/white cells), so a player can measure frame loss and
//! glass-to-glass latency from decoded pixels ([`read_stamp`]). [`Tone`] is the matching audio.

use onair_core::{PixelFormat, Timestamp, VideoFrame};

/// Cells per stamp row.
const CELLS: u32 = 48;
const BLACK: u8 = 16;
const WHITE: u8 = 235;

/// What the stamp carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    /// Frame number since the pattern started.
    pub counter: u32,
    /// Capture wall-clock time, ms since the Unix epoch (48 bits kept).
    pub capture_ms: u64,
}

fn check_bits(s: Stamp) -> u16 {
    let ms = s.capture_ms & 0xffff_ffff_ffff;
    ((s.counter ^ (s.counter >> 16)) as u16)
        ^ (ms as u16)
        ^ ((ms >> 16) as u16)
        ^ ((ms >> 32) as u16)
        ^ 0xa5a5
}

/// Cell size in pixels for a picture width (even, at least 2).
fn cell_size(width: u32) -> u32 {
    ((width / CELLS) & !1).max(2)
}

/// The stamp's bits: row 0 = 16 check bits + 32 counter bits, row 1 = 48 time bits, MSB first.
fn stamp_bits(s: Stamp) -> [u64; 2] {
    let row0 = (u64::from(check_bits(s)) << 32) | u64::from(s.counter);
    [row0, s.capture_ms & 0xffff_ffff_ffff]
}

/// Generates the pattern as I420 frames of one size.
#[derive(Debug, Clone)]
pub struct TestPattern {
    width: u32,
    height: u32,
    background: Vec<u8>,
    grain_seed: u32,
    /// Grain values (-4..=3), drawn once: each frame's rows read them from offsets of their own
    /// ([`GRAIN_OFFSETS`]), so the grain changes every frame as before, and adding it is a
    /// loop the compiler vectorises (a random number per pixel was 7% of a 720p push's CPU).
    grain: Vec<i8>,
    /// Frame buffers, reused once the pipeline drops a frame (clones share it).
    pool: onair_core::BufferPool,
}

/// The mark of a pooled buffer holding a frame that is not a flash: the background
/// everywhere but the box, the grain and the stamp. The low 32 bits hold the box's left
/// column, so only the box is painted over when the buffer comes back.
const DRAWN: u64 = 1 << 32;

/// Idle frame buffers a pattern keeps: in steady state a pipeline holds one or two frames at
/// once (the one being encoded, the next), so it allocates nothing; more would only sit in
/// memory after a burst.
const POOLED_FRAMES: usize = 2;

/// How many places a grain row can start at in [`TestPattern::grain`].
const GRAIN_OFFSETS: usize = 1024;

/// One step of Marsaglia's xorshift32.
fn xorshift(mut s: u32) -> u32 {
    s ^= s << 13;
    s ^= s >> 17;
    s ^= s << 5;
    s
}

const BARS: [(u8, u8, u8); 8] = [
    (235, 128, 128),
    (210, 16, 146),
    (170, 166, 16),
    (145, 54, 34),
    (106, 202, 222),
    (81, 90, 240),
    (41, 240, 110),
    (16, 128, 128),
];

impl TestPattern {
    /// A pattern of `width` x `height` (even, at least 16x16).
    pub fn new(width: u32, height: u32) -> Self {
        let (w, h) = (width.max(16) & !1, height.max(16) & !1);
        let (wu, hu) = (w as usize, h as usize);
        let mut bg = vec![0u8; wu * hu * 3 / 2];
        let (y, uv) = bg.split_at_mut(wu * hu);
        let (u, v) = uv.split_at_mut(wu * hu / 4);
        for row in 0..hu {
            for col in 0..wu {
                let bar = BARS[col * 8 / wu];
                // A vertical luma ramp in the lower half gives smooth gradients too.
                let ramp = if row > hu / 2 {
                    (row - hu / 2) * 40 / hu
                } else {
                    0
                };
                y[row * wu + col] = bar.0.saturating_sub(ramp as u8).max(16);
            }
        }
        for row in 0..hu / 2 {
            for col in 0..wu / 2 {
                let bar = BARS[col * 2 * 8 / wu];
                u[row * wu / 2 + col] = bar.1;
                v[row * wu / 2 + col] = bar.2;
            }
        }
        let grain_seed = 0x9e37_79b9;
        let mut s = grain_seed;
        let grain = (0..wu / 2 + GRAIN_OFFSETS)
            .map(|_| {
                s = xorshift(s);
                (s & 7) as i8 - 4
            })
            .collect();
        Self {
            width: w,
            height: h,
            pool: onair_core::BufferPool::new(bg.len(), POOLED_FRAMES),
            background: bg,
            grain_seed,
            grain,
        }
    }

    /// Width in pixels.
    pub fn width(&self) -> u32 {
        self.width
    }

    /// Height in pixels.
    pub fn height(&self) -> u32 {
        self.height
    }

    /// Frame number `counter`, stamped with `capture_ms` and timestamped `pts`. A `flash` frame
    /// is all white below the stamp (for A/V sync checks against [`Tone`] beeps).
    pub fn frame(&self, counter: u32, capture_ms: u64, pts: Timestamp, flash: bool) -> VideoFrame {
        let (wu, hu) = (self.width as usize, self.height as usize);
        let mut pooled = self.pool.take();
        let previous = pooled.mark();
        let box_x0 = self.box_x0(counter);
        pooled.set_mark(if flash { 0 } else { DRAWN | box_x0 as u64 });
        let buf = pooled.as_mut_slice();
        if previous & DRAWN == 0 {
            buf.copy_from_slice(&self.background);
        } else {
            self.restore_box(buf, (previous & 0xffff_ffff) as usize);
        }
        {
            let (y, uv) = buf.split_at_mut(wu * hu);
            if flash {
                y.fill(WHITE);
                uv.fill(128);
            } else {
                self.draw_box(y, box_x0);
                self.draw_grain(y, counter);
            }
            draw_stamp(
                y,
                uv,
                self.width,
                self.height,
                Stamp {
                    counter,
                    capture_ms,
                },
            );
        }
        VideoFrame::new(PixelFormat::I420, self.width, self.height, pooled.freeze())
            .expect("the pattern's buffer has the I420 size")
            .with_timestamp(pts)
    }

    /// The luma rows the moving box crosses.
    fn box_rows(&self) -> std::ops::Range<usize> {
        let hu = self.height as usize;
        hu / 3..(hu / 3 + self.box_side()).min(hu)
    }

    /// The luma rows and columns the grain covers.
    fn grain_area(&self) -> (std::ops::Range<usize>, std::ops::Range<usize>) {
        let (wu, hu) = (self.width as usize, self.height as usize);
        (hu * 2 / 3..hu, wu / 2..wu)
    }

    /// The box's side in pixels.
    fn box_side(&self) -> usize {
        (self.height as usize / 6).max(4)
    }

    /// The box's left column in frame `counter`: it moves 8 pixels a frame.
    fn box_x0(&self, counter: u32) -> usize {
        let travel = (self.width as usize).saturating_sub(self.box_side()).max(1);
        (counter as usize * 8) % travel
    }

    /// Puts the background back where a frame (not a flash) drew its box at column `x0`. The
    /// grain needs nothing (it is drawn from the background, not over what the buffer holds),
    /// nor does the stamp (every frame paints all of its cells and the chroma under them).
    fn restore_box(&self, buf: &mut [u8], x0: usize) {
        let (wu, side) = (self.width as usize, self.box_side());
        for row in self.box_rows() {
            let span = row * wu + x0..row * wu + x0 + side;
            buf[span.clone()].copy_from_slice(&self.background[span]);
        }
    }

    fn draw_box(&self, y: &mut [u8], x0: usize) {
        let (wu, side) = (self.width as usize, self.box_side());
        for row in self.box_rows() {
            y[row * wu + x0..row * wu + x0 + side].fill(WHITE);
        }
    }

    fn draw_grain(&self, y: &mut [u8], counter: u32) {
        let wu = self.width as usize;
        let mut s = (self.grain_seed ^ counter.wrapping_mul(0x85eb_ca6b)) | 1;
        let (rows, cols) = self.grain_area();
        for row in rows {
            s = xorshift(s);
            let from = s as usize % GRAIN_OFFSETS;
            let noise = &self.grain[from..from + cols.len()];
            let span = row * wu + cols.start..row * wu + cols.end;
            let line = y[span.clone()].iter_mut().zip(&self.background[span]);
            for ((px, &bg), &d) in line.zip(noise) {
                *px = (i16::from(bg) + i16::from(d)).clamp(16, 235) as u8;
            }
        }
    }
}

fn draw_stamp(y: &mut [u8], uv: &mut [u8], width: u32, height: u32, stamp: Stamp) {
    let c = cell_size(width) as usize;
    let wu = width as usize;
    let rows = stamp_bits(stamp);
    for (r, bits) in rows.iter().enumerate() {
        for cell in 0..CELLS as usize {
            let bit = (bits >> (CELLS as usize - 1 - cell)) & 1;
            let value = if bit == 1 { WHITE } else { BLACK };
            for py in r * c..((r + 1) * c).min(height as usize) {
                let x0 = cell * c;
                let x1 = ((cell + 1) * c).min(wu);
                y[py * wu + x0..py * wu + x1].fill(value);
            }
        }
    }
    // Neutral chroma under the stamp.
    let cw = wu / 2;
    let chroma_rows = (2 * c).div_ceil(2).min(height as usize / 2);
    let (u, v) = uv.split_at_mut(uv.len() / 2);
    for row in 0..chroma_rows {
        let end = (CELLS as usize * c / 2).min(cw);
        u[row * cw..row * cw + end].fill(128);
        v[row * cw..row * cw + end].fill(128);
    }
}

/// Reads the stamp from a decoded I420 frame of the pattern, `None` when absent or damaged.
pub fn read_stamp(frame: &VideoFrame) -> Option<Stamp> {
    if frame.format() != PixelFormat::I420 {
        return None;
    }
    let plane = frame.plane(0)?;
    let c = cell_size(frame.width()) as usize;
    if (2 * c) as u32 > frame.height() || CELLS as usize * c > frame.width() as usize {
        return None;
    }
    let mut rows = [0u64; 2];
    for (r, bits) in rows.iter_mut().enumerate() {
        for cell in 0..CELLS as usize {
            // Average the inner half of the cell, away from edges that ring after compression.
            let (x0, y0) = (cell * c + c / 4, r * c + c / 4);
            let n = (c / 2).max(1);
            let mut sum = 0u32;
            for py in y0..y0 + n {
                for px in x0..x0 + n {
                    sum += u32::from(plane.data[py * plane.stride + px]);
                }
            }
            let bit = u64::from(sum / (n * n) as u32 > 126);
            *bits = (*bits << 1) | bit;
        }
    }
    let stamp = Stamp {
        counter: rows[0] as u32,
        capture_ms: rows[1],
    };
    (check_bits(stamp) == (rows[0] >> 32) as u16).then_some(stamp)
}

/// A sine tone as s16 PCM, optionally beeping: silent except for `beep_ms` at the start of
/// every `period_ms`, so beeps can be lined up with flash frames.
#[derive(Debug, Clone)]
pub struct Tone {
    freq_hz: f64,
    sample_rate: u32,
    channels: u16,
    amplitude: f64,
    beep: Option<(u64, u64)>,
    position: u64,
}

impl Tone {
    /// A continuous tone.
    pub fn new(freq_hz: f64, sample_rate: u32, channels: u16) -> Self {
        Self {
            freq_hz,
            sample_rate: sample_rate.max(1),
            channels: channels.max(1),
            amplitude: 0.3 * f64::from(i16::MAX),
            beep: None,
            position: 0,
        }
    }

    /// Sounds only for `beep_ms` at the start of every `period_ms`.
    pub fn beeping(mut self, beep_ms: u64, period_ms: u64) -> Self {
        self.beep = Some((beep_ms, period_ms.max(1)));
        self
    }

    /// The next `samples_per_channel` interleaved samples.
    pub fn next_samples(&mut self, samples_per_channel: usize) -> Vec<i16> {
        let mut out = Vec::with_capacity(samples_per_channel * self.channels as usize);
        for _ in 0..samples_per_channel {
            let t = self.position as f64 / f64::from(self.sample_rate);
            let on = match self.beep {
                None => true,
                Some((beep, period)) => {
                    (self.position * 1000 / u64::from(self.sample_rate)) % period < beep
                }
            };
            let s = if on {
                (self.amplitude * (2.0 * std::f64::consts::PI * self.freq_hz * t).sin()) as i16
            } else {
                0
            };
            for _ in 0..self.channels {
                out.push(s);
            }
            self.position += 1;
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    #[test]
    fn reused_buffers_give_the_same_frames_as_new_ones() {
        let pattern = TestPattern::new(320, 180);
        let mut held = Vec::new();
        for n in 0..40u32 {
            let flash = n % 9 == 4;
            let ts = Timestamp::from_micros(u64::from(n) * 33_333);
            let frame = pattern.frame(n, 1000 + u64::from(n), ts, flash);
            let fresh = TestPattern::new(320, 180).frame(n, 1000 + u64::from(n), ts, flash);
            assert_eq!(frame.data(), fresh.data(), "frame {n}");
            // Hold a few, so buffers come back out of order.
            held.push(frame);
            if n % 3 == 2 {
                held.remove(0);
                held.pop();
            }
        }
        assert!(pattern.pool.idle() > 0, "buffers were returned and reused");
    }

    #[test]
    fn stamp_reads_back_at_every_preset_size() {
        for (w, h) in [
            (160, 160),
            (320, 180),
            (640, 360),
            (1280, 720),
            (1920, 1080),
            (368, 640),
        ] {
            let p = TestPattern::new(w, h);
            for (counter, ms) in [
                (0u32, 0u64),
                (1, 1_700_000_000_123),
                (u32::MAX, (1 << 48) - 1),
            ] {
                let f = p.frame(counter, ms, Timestamp::ZERO, counter == 1);
                assert_eq!(
                    read_stamp(&f),
                    Some(Stamp {
                        counter,
                        capture_ms: ms
                    }),
                    "{w}x{h}"
                );
            }
        }
    }

    #[test]
    fn damaged_stamp_is_rejected() {
        let p = TestPattern::new(640, 360);
        let f = p.frame(42, 1234, Timestamp::ZERO, false);
        let mut data = f.data().to_vec();
        // Flip one counter cell (row 0, cell 40).
        let c = cell_size(640) as usize;
        for py in 0..c {
            for px in 40 * c..41 * c {
                data[py * 640 + px] = 255 - data[py * 640 + px];
            }
        }
        let g = VideoFrame::new(PixelFormat::I420, 640, 360, Bytes::from(data)).unwrap();
        assert_eq!(read_stamp(&g), None);
    }

    #[test]
    fn frames_differ_over_time() {
        let p = TestPattern::new(320, 180);
        let a = p.frame(1, 0, Timestamp::ZERO, false);
        let b = p.frame(2, 0, Timestamp::ZERO, false);
        assert_ne!(a.data(), b.data());
    }

    #[test]
    fn tone_beeps() {
        let mut t = Tone::new(1000.0, 48_000, 2).beeping(100, 1000);
        let s = t.next_samples(48_000);
        assert_eq!(s.len(), 96_000);
        let loud =
            |r: std::ops::Range<usize>| s[r].iter().map(|x| i32::from(*x).abs()).max().unwrap();
        assert!(loud(0..9_600) > 5_000);
        assert_eq!(loud(9_700..96_000), 0);
    }
}
