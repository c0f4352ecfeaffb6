//! The capture side's hot loops: packed RGBA/BGRA -> I420 and NV12 -> I420, each a scalar
//! reference and an AVX2 version picked at run time (`is_x86_feature_detected!`); and the
//! render side's I420 -> NV12 chroma interleave. (I420 -> RGBA/BGRA is yuvutils': it measured
//! faster than libyuv, see `benches/RESULTS.md`.)
//!
//! Why by hand: these run on every captured frame (screen capture is BGRA, cameras and
//! hardware decoders NV12), and the crate we used before (yuvutils-rs) measured 1.26x libyuv
//! on RGBA -> I420 at 1080p. The AVX2 code follows libyuv's approach (`pmaddubsw` on four
//! pixels' bytes at a time, `pavgb` for the 2x2 chroma average) but is our own.
//!
//! The arithmetic, BT.601 limited range, integer, the same in both versions (the tests check
//! that the AVX2 output equals the reference's byte for byte):
//! - `Y = (66 R + 129 G + 25 B + 0x1080) >> 8`
//! - chroma from the 2x2 block's average, rounded as `pavgb` rounds: each column's two rows
//!   averaged, then the two columns: `avg(a, b) = (a + b + 1) >> 1`;
//! - `U = (112 B - 74 G - 38 R + 0x8080) >> 8`, `V = (112 R - 94 G - 18 B + 0x8080) >> 8`.
//!
//! In AVX2, `Y` uses `pmaddubsw` with the coefficients as the unsigned operand (129 does not
//! fit a signed byte) and the pixels biased by -128 as the signed one; the bias comes back as
//! the constant `128 * (66 + 129 + 25)`. The sums then fit 16 bits unsigned, so a logical
//! shift finishes them.

/// Byte order of a packed 32-bit pixel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PixelOrder {
    /// R, G, B, A in memory.
    Rgba,
    /// B, G, R, A in memory.
    Bgra,
}

impl PixelOrder {
    /// Byte offsets of R, G and B.
    fn offsets(self) -> (usize, usize, usize) {
        match self {
            Self::Rgba => (0, 1, 2),
            Self::Bgra => (2, 1, 0),
        }
    }
}

fn avg(a: u8, b: u8) -> u8 {
    ((u16::from(a) + u16::from(b) + 1) >> 1) as u8
}

fn luma(r: u8, g: u8, b: u8) -> u8 {
    ((66 * u32::from(r) + 129 * u32::from(g) + 25 * u32::from(b) + 0x1080) >> 8) as u8
}

fn chroma(r: u8, g: u8, b: u8) -> (u8, u8) {
    let (r, g, b) = (i32::from(r), i32::from(g), i32::from(b));
    let u = (112 * b - 74 * g - 38 * r + 0x8080) >> 8;
    let v = (112 * r - 94 * g - 18 * b + 0x8080) >> 8;
    (u as u8, v as u8)
}

/// The planes of one I420 row pair being written.
struct RowPair<'a> {
    y0: &'a mut [u8],
    y1: &'a mut [u8],
    u: &'a mut [u8],
    v: &'a mut [u8],
}

/// Scalar reference for pixels `from..w` (even) of one row pair.
fn rgb_row_pair_scalar(
    r0: &[u8],
    r1: &[u8],
    out: &mut RowPair<'_>,
    from: usize,
    w: usize,
    order: PixelOrder,
) {
    let (ri, gi, bi) = order.offsets();
    for x in (from..w).step_by(2) {
        let px = |row: &[u8], x: usize| (row[x * 4 + ri], row[x * 4 + gi], row[x * 4 + bi]);
        let (a, b, c, d) = (px(r0, x), px(r0, x + 1), px(r1, x), px(r1, x + 1));
        out.y0[x] = luma(a.0, a.1, a.2);
        out.y0[x + 1] = luma(b.0, b.1, b.2);
        out.y1[x] = luma(c.0, c.1, c.2);
        out.y1[x + 1] = luma(d.0, d.1, d.2);
        let mix = |f: fn(&(u8, u8, u8)) -> u8| avg(avg(f(&a), f(&c)), avg(f(&b), f(&d)));
        let (u, v) = chroma(mix(|p| p.0), mix(|p| p.1), mix(|p| p.2));
        out.u[x / 2] = u;
        out.v[x / 2] = v;
    }
}

/// Which implementation runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kernel {
    /// Portable Rust.
    Scalar,
    /// x86-64 AVX2.
    Avx2,
}

impl Kernel {
    /// The fastest this CPU runs.
    pub fn best() -> Self {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            return Self::Avx2;
        }
        Self::Scalar
    }

    /// This kernel if the CPU runs it, else the scalar one.
    fn available(self) -> Self {
        if self == Self::Avx2 && Self::best() != Self::Avx2 {
            return Self::Scalar;
        }
        self
    }
}

/// Packed RGBA/BGRA (`stride` bytes per row) of an even `w` x `h` into tightly packed I420
/// planes with the `kernel` given (benches and tests compare them; the pipeline calls
/// `convert::rgb_to_i420_into`, which checks the sizes and picks [`Kernel::best`]).
///
/// # Panics
/// When a slice is shorter than the sizes say.
pub fn rgb_to_i420(
    src: &[u8],
    stride: usize,
    (w, h): (usize, usize),
    order: PixelOrder,
    (y, u, v): (&mut [u8], &mut [u8], &mut [u8]),
    kernel: Kernel,
) {
    let kernel = kernel.available();
    let cw = w / 2;
    for pair in 0..h / 2 {
        let r0 = &src[2 * pair * stride..];
        let r1 = &src[(2 * pair + 1) * stride..];
        let (y0, y1) = y[2 * pair * w..(2 * pair + 2) * w].split_at_mut(w);
        let mut out = RowPair {
            y0,
            y1,
            u: &mut u[pair * cw..(pair + 1) * cw],
            v: &mut v[pair * cw..(pair + 1) * cw],
        };
        match kernel {
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx2 if w >= 32 => {
                // SAFETY: `available` kept `Kernel::Avx2` only where the CPU has AVX2, and the
                // rows and planes hold `w` pixels.
                unsafe { avx2::rgb_row_pair(&r0[..w * 4], &r1[..w * 4], &mut out, order) }
            }
            _ => rgb_row_pair_scalar(r0, r1, &mut out, 0, w, order),
        }
    }
}

/// NV12 (`y_stride`, `uv_stride` bytes per row) of an even `w` x `h` into tightly packed I420
/// with the `kernel` given (the pipeline calls `convert::nv12_to_i420_into`).
///
/// # Panics
/// When a slice is shorter than the sizes say.
pub fn nv12_to_i420(
    (src_y, y_stride): (&[u8], usize),
    (src_uv, uv_stride): (&[u8], usize),
    (w, h): (usize, usize),
    (y, u, v): (&mut [u8], &mut [u8], &mut [u8]),
    kernel: Kernel,
) {
    let kernel = kernel.available();
    let (cw, ch) = (w / 2, h / 2);
    // Tightly packed planes are one long row each: fewer, longer loops.
    if y_stride == w {
        y[..w * h].copy_from_slice(&src_y[..w * h]);
    } else {
        for (r, dst) in y.chunks_exact_mut(w).take(h).enumerate() {
            dst.copy_from_slice(&src_y[r * y_stride..r * y_stride + w]);
        }
    }
    let (rows, row_pairs, uv_stride) = if uv_stride == w {
        (1, cw * ch, 0)
    } else {
        (ch, cw, uv_stride)
    };
    for r in 0..rows {
        let row = &src_uv[r * uv_stride..r * uv_stride + 2 * row_pairs];
        let out = r * row_pairs..(r + 1) * row_pairs;
        let (du, dv) = (&mut u[out.clone()], &mut v[out]);
        match kernel {
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx2 if row_pairs >= 32 => {
                // SAFETY: `available` kept `Kernel::Avx2` only where the CPU has AVX2; `row`
                // holds `row_pairs` pairs, `du` and `dv` `row_pairs` bytes.
                unsafe { avx2::split_uv_row(row, du, dv) }
            }
            _ => split_uv_scalar(row, du, dv),
        }
    }
}

fn split_uv_scalar(row: &[u8], u: &mut [u8], v: &mut [u8]) {
    for ((pair, u), v) in row.chunks_exact(2).zip(u).zip(v) {
        *u = pair[0];
        *v = pair[1];
    }
}

/// The scalar reference for I420 -> packed RGBA/BGRA (alpha 255), BT.601 limited range in
/// floating point, rounded to nearest, each chroma sample covering its 2x2 block: what the
/// render side's conversion (yuvutils, fixed point) is checked against: within 3 levels for
/// pictures inside the limited range (yuvutils clamps luma below 16 to black first).
/// Planes are tightly packed (`w`, `(w + 1) / 2` bytes per row).
///
/// # Panics
/// When a slice is shorter than the sizes say.
pub fn i420_to_rgb_reference(
    (y, u, v): (&[u8], &[u8], &[u8]),
    (w, h): (usize, usize),
    order: PixelOrder,
    out: &mut [u8],
) {
    let (ri, gi, bi) = order.offsets();
    let cw = w.div_ceil(2);
    for row in 0..h {
        for col in 0..w {
            let l = 1.164_383 * (f32::from(y[row * w + col]) - 16.0);
            let c = (row / 2) * cw + col / 2;
            let (cb, cr) = (f32::from(u[c]) - 128.0, f32::from(v[c]) - 128.0);
            let px = &mut out[(row * w + col) * 4..][..4];
            let level = |x: f32| x.round().clamp(0.0, 255.0) as u8;
            px[ri] = level(l + 1.596_027 * cr);
            px[gi] = level(l - 0.391_762 * cb - 0.812_968 * cr);
            px[bi] = level(l + 2.017_232 * cb);
            px[3] = 255;
        }
    }
}

/// One chroma row of I420 (`u`, `v`) interleaved into NV12's UV row `uv` (`2 * u.len()`
/// bytes) with the `kernel` given: the render side's I420 -> NV12.
///
/// # Panics
/// When `v` is shorter than `u` or `uv` shorter than both.
pub fn merge_uv(u: &[u8], v: &[u8], uv: &mut [u8], kernel: Kernel) {
    let n = u.len();
    let (v, uv) = (&v[..n], &mut uv[..2 * n]);
    match kernel.available() {
        #[cfg(target_arch = "x86_64")]
        Kernel::Avx2 if n >= 32 => {
            // SAFETY: `available` kept `Kernel::Avx2` only where the CPU has AVX2; `v` holds
            // `n` bytes and `uv` `2 n`.
            unsafe { avx2::merge_uv_row(u, v, uv) }
        }
        _ => merge_uv_scalar(u, v, uv),
    }
}

fn merge_uv_scalar(u: &[u8], v: &[u8], uv: &mut [u8]) {
    for ((pair, u), v) in uv.chunks_exact_mut(2).zip(u).zip(v) {
        pair[0] = *u;
        pair[1] = *v;
    }
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    use super::{PixelOrder, RowPair};
    use std::arch::x86_64::*;

    /// Per-pixel coefficient bytes, in the pixel's byte order.
    fn coefficients(order: PixelOrder) -> ([u8; 4], [i8; 4], [i8; 4]) {
        match order {
            PixelOrder::Rgba => ([66, 129, 25, 0], [-38, -74, 112, 0], [112, -94, -18, 0]),
            PixelOrder::Bgra => ([25, 129, 66, 0], [112, -74, -38, 0], [-18, -94, 112, 0]),
        }
    }

    /// The 32-pixel block starts of a row of `w` >= 32 pixels: every 32, and a last block
    /// ending at `w` (overlapping the one before when `w` is not a multiple of 32; the
    /// overlapping pixels are written twice with the same values).
    fn blocks(w: usize) -> impl Iterator<Item = usize> {
        let last = w - 32;
        (0..w / 32)
            .map(|b| b * 32)
            .chain((w % 32 != 0).then_some(last))
    }

    #[target_feature(enable = "avx2")]
    unsafe fn load(row: &[u8], px: usize) -> __m256i {
        debug_assert!(row.len() >= (px + 8) * 4);
        // SAFETY: the caller's rows hold 8 pixels from `px` (blocks stay inside `w`).
        unsafe { _mm256_loadu_si256(row.as_ptr().add(px * 4).cast()) }
    }

    /// Rounds 16 sums in 16 bits: `(sum + bias) >> 8`, the addition wrapping as unsigned.
    #[target_feature(enable = "avx2")]
    fn finish(sum: __m256i, bias: __m256i) -> __m256i {
        _mm256_srli_epi16(_mm256_add_epi16(sum, bias), 8)
    }

    /// Luma of 32 pixels (four loads) in pixel order.
    #[target_feature(enable = "avx2")]
    fn luma32(p: [__m256i; 4], coef: __m256i) -> __m256i {
        let bias = _mm256_set1_epi8(-128);
        let m = |x: __m256i| _mm256_maddubs_epi16(coef, _mm256_xor_si256(x, bias));
        let k = _mm256_set1_epi16((128 * (66 + 129 + 25) + 0x1080) as i16);
        let h01 = finish(_mm256_hadd_epi16(m(p[0]), m(p[1])), k);
        let h23 = finish(_mm256_hadd_epi16(m(p[2]), m(p[3])), k);
        // Lanes hold pixels 0-3,8-11,16-19,24-27 | 4-7,12-15,20-23,28-31 as dwords.
        let packed = _mm256_packus_epi16(h01, h23);
        _mm256_permutevar8x32_epi32(packed, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7))
    }

    /// One row pair of RGBA/BGRA (`w * 4` bytes each, `w` >= 32 and even).
    ///
    /// # Safety
    /// The CPU has AVX2; `out`'s luma rows hold `w` bytes, its chroma rows `w / 2`.
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn rgb_row_pair(
        r0: &[u8],
        r1: &[u8],
        out: &mut RowPair<'_>,
        order: PixelOrder,
    ) {
        let w = r0.len() / 4;
        assert!(w >= 32 && r1.len() >= w * 4 && out.y0.len() >= w && out.y1.len() >= w);
        assert!(out.u.len() >= w / 2 && out.v.len() >= w / 2);
        let (cy, cu, cv) = coefficients(order);
        let coef_y = _mm256_set1_epi32(i32::from_le_bytes(cy));
        let coef_u = _mm256_set1_epi32(i32::from_le_bytes(cu.map(|c| c as u8)));
        let coef_v = _mm256_set1_epi32(i32::from_le_bytes(cv.map(|c| c as u8)));
        let k8080 = _mm256_set1_epi16(0x8080u16 as i16);
        let order_uv = _mm256_setr_epi8(
            0, 1, 8, 9, 2, 3, 10, 11, 4, 5, 12, 13, 6, 7, 14, 15, //
            0, 1, 8, 9, 2, 3, 10, 11, 4, 5, 12, 13, 6, 7, 14, 15,
        );
        for x in blocks(w) {
            // SAFETY: `blocks` keeps x + 32 <= w, and both rows hold w pixels.
            let (a, b) = unsafe {
                (
                    [
                        load(r0, x),
                        load(r0, x + 8),
                        load(r0, x + 16),
                        load(r0, x + 24),
                    ],
                    [
                        load(r1, x),
                        load(r1, x + 8),
                        load(r1, x + 16),
                        load(r1, x + 24),
                    ],
                )
            };
            let y0 = luma32(a, coef_y);
            let y1 = luma32(b, coef_y);
            // SAFETY: x + 32 <= w <= the luma rows' lengths (asserted above).
            unsafe {
                _mm256_storeu_si256(out.y0.as_mut_ptr().add(x).cast(), y0);
                _mm256_storeu_si256(out.y1.as_mut_ptr().add(x).cast(), y1);
            }
            // Chroma: rows averaged, then even and odd pixels (as dwords) averaged.
            let v4 = [
                _mm256_avg_epu8(a[0], b[0]),
                _mm256_avg_epu8(a[1], b[1]),
                _mm256_avg_epu8(a[2], b[2]),
                _mm256_avg_epu8(a[3], b[3]),
            ];
            let pairs = |p: __m256i, q: __m256i| {
                let (p, q) = (_mm256_castsi256_ps(p), _mm256_castsi256_ps(q));
                let even = _mm256_castps_si256(_mm256_shuffle_ps::<0b10_00_10_00>(p, q));
                let odd = _mm256_castps_si256(_mm256_shuffle_ps::<0b11_01_11_01>(p, q));
                _mm256_avg_epu8(even, odd)
            };
            // Blocks 0,1,4,5 | 2,3,6,7 and 8,9,12,13 | 10,11,14,15.
            let (c01, c23) = (pairs(v4[0], v4[1]), pairs(v4[2], v4[3]));
            let plane = |coef: __m256i| {
                let s = _mm256_hadd_epi16(
                    _mm256_maddubs_epi16(c01, coef),
                    _mm256_maddubs_epi16(c23, coef),
                );
                finish(s, k8080)
            };
            let packed = _mm256_packus_epi16(plane(coef_u), plane(coef_v));
            let split = _mm256_permute4x64_epi64::<0b11_01_10_00>(packed);
            let uv = _mm256_shuffle_epi8(split, order_uv);
            // SAFETY: x / 2 + 16 <= w / 2 <= the chroma rows' lengths (asserted above).
            unsafe {
                _mm_storeu_si128(
                    out.u.as_mut_ptr().add(x / 2).cast(),
                    _mm256_castsi256_si128(uv),
                );
                _mm_storeu_si128(
                    out.v.as_mut_ptr().add(x / 2).cast(),
                    _mm256_extracti128_si256::<1>(uv),
                );
            }
        }
    }

    /// De-interleaves one NV12 chroma row (`u.len()` pairs, at least 32).
    ///
    /// # Safety
    /// The CPU has AVX2.
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn split_uv_row(row: &[u8], u: &mut [u8], v: &mut [u8]) {
        let n = u.len();
        assert!(n >= 32 && v.len() >= n && row.len() >= 2 * n);
        let order = _mm256_setr_epi8(
            0, 2, 4, 6, 8, 10, 12, 14, 1, 3, 5, 7, 9, 11, 13, 15, //
            0, 2, 4, 6, 8, 10, 12, 14, 1, 3, 5, 7, 9, 11, 13, 15,
        );
        let starts = (0..n / 32)
            .map(|b| b * 32)
            .chain((n % 32 != 0).then_some(n - 32));
        for c in starts {
            // SAFETY: c + 32 <= n, so the 64 bytes read and the 32 written per plane are
            // inside the slices (asserted above).
            unsafe {
                let p0 = _mm256_loadu_si256(row.as_ptr().add(2 * c).cast());
                let p1 = _mm256_loadu_si256(row.as_ptr().add(2 * c + 32).cast());
                // Per lane U0-7 V0-7 | U8-15 V8-15, then U0-15 | V0-15 (and 16-31).
                let s0 = _mm256_permute4x64_epi64::<0b11_01_10_00>(_mm256_shuffle_epi8(p0, order));
                let s1 = _mm256_permute4x64_epi64::<0b11_01_10_00>(_mm256_shuffle_epi8(p1, order));
                let us = _mm256_permute2x128_si256::<0x20>(s0, s1);
                let vs = _mm256_permute2x128_si256::<0x31>(s0, s1);
                _mm256_storeu_si256(u.as_mut_ptr().add(c).cast(), us);
                _mm256_storeu_si256(v.as_mut_ptr().add(c).cast(), vs);
            }
        }
    }

    /// Interleaves `u` and `v` (at least 32 bytes each, equally long) into `uv`, 32 pairs at a
    /// time; a tail shorter than 32 redoes the last full block's overlap.
    ///
    /// # Safety
    /// The CPU has AVX2.
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn merge_uv_row(u: &[u8], v: &[u8], uv: &mut [u8]) {
        let n = u.len();
        assert!(n >= 32 && v.len() >= n && uv.len() >= 2 * n);
        let starts = (0..n / 32)
            .map(|b| b * 32)
            .chain((n % 32 != 0).then_some(n - 32));
        for c in starts {
            // SAFETY: c + 32 <= n, so the 32 bytes read per plane and the 64 written are
            // inside the slices (asserted above).
            unsafe {
                let us = _mm256_loadu_si256(u.as_ptr().add(c).cast());
                let vs = _mm256_loadu_si256(v.as_ptr().add(c).cast());
                // unpack interleaves within 128-bit lanes: lo = pairs 0-7 | 16-23,
                // hi = 8-15 | 24-31; the permutes put them back in order.
                let lo = _mm256_unpacklo_epi8(us, vs);
                let hi = _mm256_unpackhi_epi8(us, vs);
                let first = _mm256_permute2x128_si256::<0x20>(lo, hi);
                let second = _mm256_permute2x128_si256::<0x31>(lo, hi);
                _mm256_storeu_si256(uv.as_mut_ptr().add(2 * c).cast(), first);
                _mm256_storeu_si256(uv.as_mut_ptr().add(2 * c + 32).cast(), second);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn noise(len: usize, seed: u32) -> Vec<u8> {
        let mut s = seed;
        (0..len)
            .map(|_| {
                s = s.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                (s >> 24) as u8
            })
            .collect()
    }

    fn convert(
        src: &[u8],
        stride: usize,
        w: usize,
        h: usize,
        order: PixelOrder,
        k: Kernel,
    ) -> Vec<u8> {
        let mut out = vec![0u8; w * h * 3 / 2];
        let (y, uv) = out.split_at_mut(w * h);
        let (u, v) = uv.split_at_mut(w * h / 4);
        rgb_to_i420(src, stride, (w, h), order, (y, u, v), k);
        out
    }

    #[test]
    fn reference_values_are_bt601_limited_range() {
        assert_eq!(luma(0, 0, 0), 16);
        assert_eq!(luma(255, 255, 255), 235);
        assert_eq!(chroma(0, 0, 0), (128, 128));
        assert_eq!(chroma(255, 255, 255), (128, 128));
        assert_eq!(chroma(0, 0, 255).0, 240, "blue is the top of U");
        assert_eq!(chroma(255, 0, 0).1, 240, "red is the top of V");
        // Pure red, green and blue as BT.601 gives them (rounded).
        assert_eq!(luma(255, 0, 0), 82);
        assert_eq!(luma(0, 255, 0), 144);
        assert_eq!(luma(0, 0, 255), 41);
    }

    #[test]
    fn avx2_equals_the_scalar_reference_at_every_width() {
        if Kernel::best() != Kernel::Avx2 {
            eprintln!("no AVX2 on this CPU: only the scalar kernel exists here");
            return;
        }
        for &(w, h) in &[
            (32, 2),
            (34, 4),
            (62, 6),
            (96, 2),
            (100, 8),
            (1280, 4),
            (1922, 2),
        ] {
            let stride = w * 4 + 12;
            let src = noise(stride * h, w as u32);
            for order in [PixelOrder::Rgba, PixelOrder::Bgra] {
                let a = convert(&src, stride, w, h, order, Kernel::Scalar);
                let b = convert(&src, stride, w, h, order, Kernel::Avx2);
                assert_eq!(a, b, "{w}x{h} {order:?}");
            }
        }
    }

    #[test]
    fn bgra_is_rgba_with_red_and_blue_swapped() {
        let (w, h) = (64, 4);
        let rgba = noise(w * h * 4, 7);
        let bgra: Vec<u8> = rgba
            .chunks(4)
            .flat_map(|p| [p[2], p[1], p[0], p[3]])
            .collect();
        for k in [Kernel::Scalar, Kernel::best()] {
            assert_eq!(
                convert(&rgba, w * 4, w, h, PixelOrder::Rgba, k),
                convert(&bgra, w * 4, w, h, PixelOrder::Bgra, k)
            );
        }
    }

    #[test]
    fn uv_merge_is_exact_for_both_kernels() {
        for n in [1, 31, 32, 33, 64, 95, 640, 960] {
            let (u, v) = (noise(n, 5), noise(n, 6));
            let mut expected = vec![0u8; 2 * n];
            merge_uv_scalar(&u, &v, &mut expected);
            assert!(expected
                .chunks(2)
                .zip(u.iter().zip(&v))
                .all(|(p, (a, b))| p == [*a, *b]));
            let mut got = vec![0u8; 2 * n];
            merge_uv(&u, &v, &mut got, Kernel::best());
            assert_eq!(got, expected, "{n} pairs");
        }
    }

    #[test]
    fn nv12_split_is_exact_for_both_kernels() {
        for pad in [0, 4] {
            for &(w, h) in &[(32, 2), (64, 2), (66, 4), (98, 2), (1280, 2), (1280, 4)] {
                let (ys, uvs) = (w + pad, w + pad + 2 * (pad / 4));
                let (src_y, src_uv) = (noise(ys * h, 1), noise(uvs * h / 2, 2));
                let run = |k| {
                    let mut out = vec![0u8; w * h * 3 / 2];
                    let (y, uv) = out.split_at_mut(w * h);
                    let (u, v) = uv.split_at_mut(w * h / 4);
                    nv12_to_i420((&src_y, ys), (&src_uv, uvs), (w, h), (y, u, v), k);
                    out
                };
                let out = run(Kernel::Scalar);
                assert_eq!(out, run(Kernel::best()), "{w}x{h}");
                let (cw, ch) = (w / 2, h / 2);
                for r in 0..ch {
                    for c in 0..cw {
                        assert_eq!(out[w * h + r * cw + c], src_uv[r * uvs + 2 * c]);
                        assert_eq!(
                            out[w * h + cw * ch + r * cw + c],
                            src_uv[r * uvs + 2 * c + 1]
                        );
                    }
                }
                assert_eq!(&out[w..2 * w], &src_y[ys..ys + w]);
            }
        }
    }
}
