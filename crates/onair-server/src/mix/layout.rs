//! Where each input goes: the canvas (the bottom visible layer: its given size, else its
//! stream's own) and every other visible layer's rectangle, from pixels or fractions of the
//! canvas, aligned to even pixels for 4:2:0. A layer that leaves the canvas or a crop that
//! leaves its input is refused with Tencent's code, before anything starts.

use super::request::{code, Crop, InputKind, MixError, MixSpec, MAX_SIDE};

/// A rectangle on the canvas, even-aligned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rect {
    /// Left edge.
    pub x: u32,
    /// Top edge.
    pub y: u32,
    /// Width.
    pub width: u32,
    /// Height.
    pub height: u32,
}

/// One drawn layer.
#[derive(Debug, Clone, PartialEq)]
pub struct Layer {
    /// The stream it shows (`None`: a colour rectangle).
    pub stream: Option<String>,
    /// Where.
    pub rect: Rect,
    /// The colour of a colour rectangle (or of the canvas under a stream).
    pub color: [u8; 3],
    /// The part of the stream's picture shown.
    pub crop: Option<Crop>,
}

/// A resolved mix layout.
#[derive(Debug, Clone, PartialEq)]
pub struct Layout {
    /// Canvas width and height (`None` for a sound-only mix).
    pub canvas: Option<(u32, u32)>,
    /// The drawn layers, bottom first; the first covers the canvas.
    pub layers: Vec<Layer>,
    /// The streams whose sound is mixed.
    pub audio: Vec<String>,
}

impl Layout {
    /// Every stream the mix reads (drawn or heard), once each.
    pub fn streams(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for s in self
            .layers
            .iter()
            .filter_map(|l| l.stream.clone())
            .chain(self.audio.iter().cloned())
        {
            if !out.contains(&s) {
                out.push(s);
            }
        }
        out
    }
}

const BLACK: [u8; 3] = [0, 0, 0];

fn even(n: u32) -> u32 {
    n & !1
}

/// Resolves `spec`; `size_of` gives a live stream's picture size (`None` when it announced
/// none).
pub fn resolve(
    spec: &MixSpec,
    size_of: impl Fn(&str) -> Option<(u32, u32)>,
) -> Result<Layout, MixError> {
    let audio: Vec<String> = spec
        .inputs
        .iter()
        .filter(|i| i.kind.audible())
        .map(|i| i.stream_id.clone())
        .collect();
    let mut visible = spec.inputs.iter().filter(|i| i.kind.visible());
    let Some(bottom) = visible.next() else {
        return Ok(Layout {
            canvas: None,
            layers: Vec::new(),
            audio,
        });
    };
    let own = |id: &str, kind: InputKind| {
        if kind.is_stream() {
            size_of(id)
        } else {
            None
        }
    };
    let canvas_side = |d: Option<super::request::Dim>, from_stream: Option<u32>| match d {
        Some(super::request::Dim::Pixels(p)) => Ok(Some(p)),
        Some(super::request::Dim::Fraction(_)) => Err(MixError::new(
            code::STREAM_PARAM,
            format!(
                "the canvas (layer {} {:?}) needs its size in pixels, not a fraction",
                bottom.layer, bottom.stream_id
            ),
        )),
        None => Ok(from_stream),
    };
    let bottom_own = own(&bottom.stream_id, bottom.kind);
    let cw = canvas_side(bottom.width, bottom_own.map(|s| s.0))?;
    let ch = canvas_side(bottom.height, bottom_own.map(|s| s.1))?;
    let (Some(cw), Some(ch)) = (cw, ch) else {
        return Err(MixError::new(
            code::CANVAS_SIZE,
            format!(
                "the canvas size is unknown: give layer {} {:?} image_width and image_height \
                 (its stream announced no size)",
                bottom.layer, bottom.stream_id
            ),
        ));
    };
    let (cw, ch) = (even(cw), even(ch));
    if !(2..MAX_SIDE).contains(&cw) || !(2..MAX_SIDE).contains(&ch) {
        return Err(MixError::new(
            code::STREAM_PARAM,
            format!("canvas {cw}x{ch}: each side must be 2 to {MAX_SIDE} pixels"),
        ));
    }
    let background = bottom.color.unwrap_or(BLACK);
    let mut layers = vec![Layer {
        stream: bottom.kind.is_stream().then(|| bottom.stream_id.clone()),
        rect: Rect {
            x: 0,
            y: 0,
            width: cw,
            height: ch,
        },
        color: background,
        crop: bottom.crop,
    }];
    for i in visible {
        let own_size = own(&i.stream_id, i.kind);
        let side = |d: Option<super::request::Dim>, canvas: u32, own: Option<u32>| {
            d.map(|d| d.on(canvas)).or(own).ok_or_else(|| {
                MixError::new(
                    code::INPUT_SIZE,
                    format!(
                        "the size of {:?} is unknown: give image_width and image_height",
                        i.stream_id
                    ),
                )
            })
        };
        let crop_size = i.crop.map(|c| (c.width, c.height));
        let w = side(i.width, cw, crop_size.or(own_size).map(|s| s.0))?;
        let h = side(i.height, ch, crop_size.or(own_size).map(|s| s.1))?;
        let rect = Rect {
            x: even(i.x.on(cw)),
            y: even(i.y.on(ch)),
            width: even(w).max(2),
            height: even(h).max(2),
        };
        if rect.x + rect.width > cw || rect.y + rect.height > ch {
            return Err(MixError::new(
                code::BAD_PARAM,
                format!(
                    "layer {} {:?} at {},{} size {}x{} leaves the {cw}x{ch} canvas",
                    i.layer, i.stream_id, rect.x, rect.y, rect.width, rect.height
                ),
            ));
        }
        layers.push(Layer {
            stream: i.kind.is_stream().then(|| i.stream_id.clone()),
            rect,
            color: i.color.unwrap_or(background),
            crop: i.crop,
        });
    }
    for i in spec.inputs.iter().filter(|i| i.kind.visible()) {
        if let (Some(c), Some((w, h))) = (i.crop, own(&i.stream_id, i.kind)) {
            if c.x + c.width > w || c.y + c.height > h {
                return Err(MixError::new(
                    code::CROP,
                    format!(
                        "the crop {}x{} at {},{} leaves {:?}'s {w}x{h} picture",
                        c.width, c.height, c.x, c.y, i.stream_id
                    ),
                ));
            }
        }
    }
    Ok(Layout {
        canvas: Some((cw, ch)),
        layers,
        audio,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mix::request::{parse, MixCommand};
    use serde_json::{json, Value};

    fn spec(list: Value) -> MixSpec {
        let body = json!({"interface": {"interfaceName": "Mix_StreamV2", "para": {
            "interface": "mix_streamv2.start_mix_stream_advanced",
            "mix_stream_session_id": "s", "output_stream_id": "out",
            "input_stream_list": list}}});
        match parse(body.to_string().as_bytes(), |_| true).unwrap() {
            MixCommand::Start(s) => s,
            c => panic!("{c:?}"),
        }
    }

    fn sizes(name: &str) -> Option<(u32, u32)> {
        match name {
            "a" => Some((1280, 720)),
            "b" => Some((640, 360)),
            _ => None,
        }
    }

    #[test]
    fn a_corner_picture_on_a_stream_canvas() {
        let l = resolve(
            &spec(json!([
                {"input_stream_id": "a", "layout_params": {"image_layer": 1}},
                {"input_stream_id": "b", "layout_params": {"image_layer": 2,
                  "image_width": 320, "image_height": 180, "location_x": 960, "location_y": 540}},
            ])),
            sizes,
        )
        .unwrap();
        assert_eq!(l.canvas, Some((1280, 720)));
        assert_eq!(l.layers[0].rect.width, 1280);
        assert_eq!(
            l.layers[1].rect,
            Rect {
                x: 960,
                y: 540,
                width: 320,
                height: 180
            }
        );
        assert_eq!(l.streams(), vec!["a".to_string(), "b".to_string()]);
    }

    #[test]
    fn a_colour_canvas_with_fractions_and_own_sizes() {
        let l = resolve(
            &spec(json!([
                {"input_stream_id": "canvas1", "layout_params": {"image_layer": 1,
                  "input_type": 3, "image_width": 1000, "image_height": 600, "color": "0x0000ff"}},
                {"input_stream_id": "b", "layout_params": {"image_layer": 2,
                  "location_x": 0.1, "location_y": 0.2}},
                {"input_stream_id": "a", "layout_params": {"image_layer": 3, "input_type": 4}},
            ])),
            sizes,
        )
        .unwrap();
        assert_eq!(l.canvas, Some((1000, 600)));
        assert_eq!(l.layers[0].stream, None);
        assert_eq!(l.layers[0].color, [0, 0, 255]);
        // Its own size, at 10% / 20% of the canvas.
        assert_eq!(
            l.layers[1].rect,
            Rect {
                x: 100,
                y: 120,
                width: 640,
                height: 360
            }
        );
        assert_eq!(l.audio, vec!["b".to_string(), "a".to_string()]);
    }

    #[test]
    fn overflows_unknown_sizes_and_crops_are_refused() {
        let overflow = resolve(
            &spec(json!([
                {"input_stream_id": "a", "layout_params": {"image_layer": 1}},
                {"input_stream_id": "b", "layout_params": {"image_layer": 2,
                  "location_x": 1000, "location_y": 0}},
            ])),
            sizes,
        );
        assert_eq!(overflow.unwrap_err().code, code::BAD_PARAM);
        let no_canvas = resolve(
            &spec(json!([
                {"input_stream_id": "x", "layout_params": {"image_layer": 1}},
                {"input_stream_id": "b", "layout_params": {"image_layer": 2}},
            ])),
            sizes,
        );
        assert_eq!(no_canvas.unwrap_err().code, code::CANVAS_SIZE);
        let no_size = resolve(
            &spec(json!([
                {"input_stream_id": "a", "layout_params": {"image_layer": 1}},
                {"input_stream_id": "x", "layout_params": {"image_layer": 2}},
            ])),
            sizes,
        );
        assert_eq!(no_size.unwrap_err().code, code::INPUT_SIZE);
        let crop = resolve(
            &spec(json!([
                {"input_stream_id": "a", "layout_params": {"image_layer": 1}},
                {"input_stream_id": "b", "layout_params": {"image_layer": 2},
                 "crop_params": {"crop_width": 400, "crop_height": 200,
                   "crop_start_location_x": 300, "crop_start_location_y": 0}},
            ])),
            sizes,
        );
        assert_eq!(crop.unwrap_err().code, code::CROP);
    }

    #[test]
    fn odd_values_are_aligned_even() {
        let l = resolve(
            &spec(json!([
                {"input_stream_id": "a", "layout_params": {"image_layer": 1,
                  "image_width": 641, "image_height": 361}},
                {"input_stream_id": "b", "layout_params": {"image_layer": 2,
                  "image_width": 101, "image_height": 51, "location_x": 33, "location_y": 17}},
            ])),
            sizes,
        )
        .unwrap();
        assert_eq!(l.canvas, Some((640, 360)));
        assert_eq!(
            l.layers[1].rect,
            Rect {
                x: 32,
                y: 16,
                width: 100,
                height: 50
            }
        );
    }

    /// Bodies mutated from a valid one (bytes flipped, numbers swapped for hostile values):
    /// parsing and layout never panic, and every layout they accept stays on its canvas.
    #[test]
    fn mutated_requests_never_panic_and_accepted_layouts_fit() {
        let base = json!({"interface": {"interfaceName": "Mix_StreamV2", "para": {
        "interface": "mix_streamv2.start_mix_stream_advanced",
        "mix_stream_session_id": "s", "output_stream_id": "out",
        "output_stream_bit_rate": 900,
        "input_stream_list": [
            {"input_stream_id": "a", "layout_params": {"image_layer": 1}},
            {"input_stream_id": "b", "layout_params": {"image_layer": 2,
              "image_width": 0.25, "image_height": 180, "location_x": 0.5,
              "location_y": 541}, "crop_params": {"crop_width": 100, "crop_height": 51,
              "crop_start_location_x": 3, "crop_start_location_y": 1}},
            {"input_stream_id": "c", "layout_params": {"image_layer": 3,
              "input_type": 3, "color": "0x102030", "image_width": 64, "image_height": 64}}
        ]}}})
        .to_string();
        let hostile = [
            "0",
            "-1",
            "0.999999",
            "1e308",
            "-1e308",
            "2999.6",
            "16",
            "17",
            "\"x\"",
            "null",
            "[]",
            "{}",
            "true",
            "4294967296",
            "1.5",
        ];
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let (mut accepted, mut refused) = (0, 0);
        for _ in 0..20_000 {
            let mut body = base.clone().into_bytes();
            match next() % 3 {
                0 => {
                    let at = (next() as usize) % body.len();
                    body[at] = next() as u8;
                }
                1 => {
                    // Replace one number with a hostile value.
                    let text = String::from_utf8_lossy(&body).into_owned();
                    let numbers: Vec<usize> = text
                        .char_indices()
                        .filter(|(i, c)| c.is_ascii_digit() && text.as_bytes()[i - 1] == b':')
                        .map(|(i, _)| i)
                        .collect();
                    let at = numbers[(next() as usize) % numbers.len()];
                    let end = text[at..].find([',', '}']).map_or(text.len(), |e| at + e);
                    let v = hostile[(next() as usize) % hostile.len()];
                    body = format!("{}{v}{}", &text[..at], &text[end..]).into_bytes();
                }
                _ => body.truncate((next() as usize) % body.len()),
            }
            let Ok(MixCommand::Start(spec)) = parse(&body, |n| !n.is_empty()) else {
                refused += 1;
                continue;
            };
            match resolve(&spec, sizes) {
                Ok(l) => {
                    accepted += 1;
                    let (cw, ch) = l.canvas.unwrap();
                    for layer in &l.layers {
                        let r = layer.rect;
                        assert!(r.x + r.width <= cw && r.y + r.height <= ch, "{l:?}");
                        assert!(r.width % 2 == 0 && r.height % 2 == 0 && r.x % 2 == 0);
                    }
                }
                Err(e) => assert!(e.code < 0, "{e:?}"),
            }
        }
        assert!(
            accepted > 100 && refused > 100,
            "{accepted} accepted, {refused} refused"
        );
    }

    #[test]
    fn a_sound_only_mix_has_no_canvas() {
        let l = resolve(
            &spec(json!([
                {"input_stream_id": "a", "layout_params": {"image_layer": 1, "input_type": 4}},
                {"input_stream_id": "b", "layout_params": {"image_layer": 2, "input_type": 4}},
            ])),
            sizes,
        )
        .unwrap();
        assert_eq!(l.canvas, None);
        assert_eq!(l.audio.len(), 2);
    }
}
