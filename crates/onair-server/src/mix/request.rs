//! The `Mix_StreamV2` request body (Tencent's cloud-mixing API, seed table "mix_streamv2"):
//! parsing and validation into a [`MixCommand`], with Tencent's negative error codes. Pure
//! logic: what is live and how big it is are checked later ([`super::layout`]).
//!
//! The body: `{"timestamp", "eventId", "interface": {"interfaceName": "Mix_StreamV2", "para":
//! {"interface": "mix_streamv2.start_mix_stream_advanced" | "mix_streamv2.cancel_mix_stream",
//! "mix_stream_session_id", "output_stream_id", "output_stream_type", "input_stream_list":
//! [{"input_stream_id", "layout_params": {"image_layer", "input_type", "image_width",
//! "image_height", "location_x", "location_y", "color"}, "crop_params": {...}}]}}}`.
//! Sizes and positions below 1 are fractions of the canvas, from 1 up pixels (both may be
//! mixed, as in Tencent's examples). See `docs/mixing.md`.

use serde_json::Value;

/// Tencent's codes (the mixing demo's table of errors), plus success.
pub mod code {
    /// Success.
    pub const OK: i64 = 0;
    /// The body is not JSON, names another interface, or has no input list.
    pub const BAD_REQUEST: i64 = -1;
    /// A parameter is missing or the layout overflows the canvas.
    pub const BAD_PARAM: i64 = -2;
    /// More than 16 inputs.
    pub const STREAM_COUNT: i64 = -3;
    /// An input's parameters are invalid (size, id, input type).
    pub const STREAM_PARAM: i64 = -4;
    /// Layers repeat or are outside 1..=16.
    pub const LAYER: i64 = -11;
    /// Parameters that do not fit the interface (templates, colours).
    pub const MISMATCH: i64 = -20;
    /// Fewer than two inputs.
    pub const TOO_FEW: i64 = -21;
    /// The canvas size is unknown.
    pub const CANVAS_SIZE: i64 = -28;
    /// A crop rectangle leaves its input.
    pub const CROP: i64 = -29;
    /// The output stream is taken (another mix's output, or a live publisher's).
    pub const OUTPUT_BUSY: i64 = -300;
    /// An input stream is not live.
    pub const INPUT_MISSING: i64 = -505;
    /// An input's size is unknown (it announced none).
    pub const INPUT_SIZE: i64 = -507;
    /// The session exists with another output stream.
    pub const SESSION_OUTPUT: i64 = -508;
    /// Cancel: no such session.
    pub const NO_SESSION: i64 = -31001;
    /// Cancel: the output stream is not the session's.
    pub const CANCEL_OUTPUT: i64 = -31003;
    /// The output bitrate is outside 1..=50000 kbps.
    pub const BITRATE: i64 = -31004;
}

/// Most inputs of one mix.
pub const MAX_INPUTS: usize = 16;
/// Largest canvas or layer side, pixels (exclusive).
pub const MAX_SIDE: u32 = 3000;

/// A refused request: Tencent's code and a message saying what to change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MixError {
    /// A negative code of [`code`].
    pub code: i64,
    /// What was wrong.
    pub message: String,
}

impl MixError {
    /// An error with `code`.
    pub fn new(code: i64, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }
}

impl std::fmt::Display for MixError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.message, self.code)
    }
}

/// A size or position: pixels, or a fraction of the canvas.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Dim {
    /// Pixels.
    Pixels(u32),
    /// A fraction of the canvas's width or height (0 < f < 1).
    Fraction(f64),
}

impl Dim {
    /// Pixels on a canvas side of `side` pixels.
    pub fn on(self, side: u32) -> u32 {
        match self {
            Dim::Pixels(p) => p,
            Dim::Fraction(f) => (f * f64::from(side)).round() as u32,
        }
    }
}

/// What an input contributes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputKind {
    /// A stream's picture and sound (input_type 0, the default).
    AudioVideo,
    /// A plain colour rectangle, no stream (input_type 3).
    Canvas,
    /// A stream's sound only (input_type 4).
    AudioOnly,
    /// A stream's picture only (input_type 5).
    VideoOnly,
}

impl InputKind {
    /// Drawn on the canvas.
    pub fn visible(self) -> bool {
        !matches!(self, InputKind::AudioOnly)
    }

    /// Its sound is mixed.
    pub fn audible(self) -> bool {
        matches!(self, InputKind::AudioVideo | InputKind::AudioOnly)
    }

    /// Read from a live stream.
    pub fn is_stream(self) -> bool {
        !matches!(self, InputKind::Canvas)
    }
}

/// A crop of an input's picture, in its pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Crop {
    /// Left edge.
    pub x: u32,
    /// Top edge.
    pub y: u32,
    /// Width.
    pub width: u32,
    /// Height.
    pub height: u32,
}

/// One entry of `input_stream_list`.
#[derive(Debug, Clone, PartialEq)]
pub struct InputSpec {
    /// `input_stream_id`: the stream name (a label for a canvas).
    pub stream_id: String,
    /// `image_layer`: 1 is the bottom (the canvas), 16 the top.
    pub layer: u8,
    /// `input_type`.
    pub kind: InputKind,
    /// `image_width`.
    pub width: Option<Dim>,
    /// `image_height`.
    pub height: Option<Dim>,
    /// `location_x`.
    pub x: Dim,
    /// `location_y`.
    pub y: Dim,
    /// `color` (`0xRRGGBB`): a canvas's colour.
    pub color: Option<[u8; 3]>,
    /// `crop_params`.
    pub crop: Option<Crop>,
}

/// The output's encoding (`output_stream_frame_rate`, `output_stream_bit_rate` in kbps,
/// `output_stream_gop` in seconds: the names of Tencent's later mixing API); absent ones get
/// defaults from the canvas.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct OutputParams {
    /// Frames per second, 1..=60.
    pub fps: Option<u32>,
    /// Video kbps, 1..=50000.
    pub bitrate_kbps: Option<u32>,
    /// Seconds between keyframes, 1..=10.
    pub gop_seconds: Option<u32>,
}

/// A start (or an update of a running session with the same id and output).
#[derive(Debug, Clone, PartialEq)]
pub struct MixSpec {
    /// `mix_stream_session_id`.
    pub session_id: String,
    /// `output_stream_id`: the stream the mix is published as.
    pub output_stream_id: String,
    /// The inputs, bottom layer first.
    pub inputs: Vec<InputSpec>,
    /// Output encoding.
    pub output: OutputParams,
}

/// What a request asks.
#[derive(Debug, Clone, PartialEq)]
pub enum MixCommand {
    /// `mix_streamv2.start_mix_stream_advanced`.
    Start(MixSpec),
    /// `mix_streamv2.cancel_mix_stream`.
    Cancel {
        /// `mix_stream_session_id`.
        session_id: String,
        /// `output_stream_id`, when given: must be the session's.
        output_stream_id: Option<String>,
    },
}

const START: &str = "mix_streamv2.start_mix_stream_advanced";
const CANCEL: &str = "mix_streamv2.cancel_mix_stream";

/// Parses a request body. `valid_name` says whether a stream name is one the server takes.
pub fn parse(body: &[u8], valid_name: impl Fn(&str) -> bool) -> Result<MixCommand, MixError> {
    let v: Value = serde_json::from_slice(body)
        .map_err(|e| MixError::new(code::BAD_REQUEST, format!("the body is not JSON: {e}")))?;
    let iface = &v["interface"];
    if iface["interfaceName"] != "Mix_StreamV2" {
        return Err(MixError::new(
            code::BAD_REQUEST,
            "interface.interfaceName must be \"Mix_StreamV2\"",
        ));
    }
    let para = &iface["para"];
    let session_id = id_field(para, "mix_stream_session_id")?;
    match para["interface"].as_str() {
        Some(START) => start(para, session_id, &valid_name).map(MixCommand::Start),
        Some(CANCEL) => Ok(MixCommand::Cancel {
            session_id,
            output_stream_id: para["output_stream_id"].as_str().map(str::to_string),
        }),
        other => Err(MixError::new(
            code::BAD_REQUEST,
            format!("interface.para.interface must be {START:?} or {CANCEL:?}, not {other:?}"),
        )),
    }
}

fn id_field(para: &Value, name: &str) -> Result<String, MixError> {
    match para[name].as_str() {
        Some(s) if !s.is_empty() && s.chars().count() <= 80 => Ok(s.to_string()),
        Some(s) => Err(MixError::new(
            code::BAD_PARAM,
            format!(
                "{name} must be 1 to 80 characters, not {}",
                s.chars().count()
            ),
        )),
        None => Err(MixError::new(code::BAD_PARAM, format!("{name} is missing"))),
    }
}

/// An optional integer field within `range`; `err` is the code for a bad value.
fn int_field(
    obj: &Value,
    name: &str,
    range: std::ops::RangeInclusive<i64>,
    err: i64,
) -> Result<Option<i64>, MixError> {
    let v = &obj[name];
    if v.is_null() {
        return Ok(None);
    }
    match v.as_f64() {
        Some(n) if n.fract() == 0.0 && range.contains(&(n as i64)) => Ok(Some(n as i64)),
        _ => Err(MixError::new(
            err,
            format!(
                "{name} must be an integer in {}..={}, not {v}",
                range.start(),
                range.end()
            ),
        )),
    }
}

fn dim_field(obj: &Value, name: &str, zero_ok: bool) -> Result<Option<Dim>, MixError> {
    let v = &obj[name];
    if v.is_null() {
        return Ok(None);
    }
    let bad = || {
        MixError::new(
            code::STREAM_PARAM,
            format!(
                "{name} must be a fraction of the canvas below 1 or pixels below {MAX_SIDE}, not {v}"
            ),
        )
    };
    let n = v.as_f64().ok_or_else(bad)?;
    if n == 0.0 && zero_ok {
        return Ok(Some(Dim::Pixels(0)));
    }
    if n > 0.0 && n < 1.0 {
        Ok(Some(Dim::Fraction(n)))
    } else if n >= 1.0 && n < f64::from(MAX_SIDE) {
        Ok(Some(Dim::Pixels(n.round() as u32)))
    } else {
        Err(bad())
    }
}

/// `0xRRGGBB`, `#RRGGBB` or `RRGGBB`.
pub fn parse_color(s: &str) -> Option<[u8; 3]> {
    let hex = s
        .strip_prefix("0x")
        .or_else(|| s.strip_prefix("0X"))
        .or_else(|| s.strip_prefix('#'))
        .unwrap_or(s);
    if hex.len() != 6 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let n = u32::from_str_radix(hex, 16).ok()?;
    Some([(n >> 16) as u8, (n >> 8) as u8, n as u8])
}

fn start(
    para: &Value,
    session_id: String,
    valid_name: &impl Fn(&str) -> bool,
) -> Result<MixSpec, MixError> {
    let output_stream_id = id_field(para, "output_stream_id")?;
    if !valid_name(&output_stream_id) {
        return Err(MixError::new(
            code::STREAM_PARAM,
            format!("output_stream_id {output_stream_id:?} is not a valid stream name"),
        ));
    }
    if let Some(t) = int_field(para, "mix_stream_template_id", 0..=i64::MAX, code::MISMATCH)? {
        if t != 0 {
            return Err(MixError::new(
                code::MISMATCH,
                format!(
                    "layout template {t} is not supported: give each input's layout_params \
                     (template 0)"
                ),
            ));
        }
    }
    // output_stream_type 0 names an input as the output, 1 a new stream: onair takes a new
    // stream either way (an input named as the output is refused below).
    int_field(para, "output_stream_type", 0..=1, code::BAD_PARAM)?;
    let output = OutputParams {
        fps: int_field(para, "output_stream_frame_rate", 1..=60, code::STREAM_PARAM)?
            .map(|n| n as u32),
        bitrate_kbps: int_field(para, "output_stream_bit_rate", 1..=50_000, code::BITRATE)?
            .map(|n| n as u32),
        gop_seconds: int_field(para, "output_stream_gop", 1..=10, code::STREAM_PARAM)?
            .map(|n| n as u32),
    };
    let list = match para["input_stream_list"].as_array() {
        Some(l) if !l.is_empty() => l,
        _ => {
            return Err(MixError::new(
                code::BAD_REQUEST,
                "input_stream_list is missing or empty",
            ))
        }
    };
    if list.len() > MAX_INPUTS {
        return Err(MixError::new(
            code::STREAM_COUNT,
            format!("{} inputs; at most {MAX_INPUTS}", list.len()),
        ));
    }
    if list.len() < 2 {
        return Err(MixError::new(
            code::TOO_FEW,
            "a mix needs at least two inputs (the first layer is the canvas)",
        ));
    }
    let mut inputs = Vec::with_capacity(list.len());
    for entry in list {
        inputs.push(input(entry, valid_name)?);
    }
    inputs.sort_by_key(|i| i.layer);
    if let Some(w) = inputs.windows(2).find(|w| w[0].layer == w[1].layer) {
        return Err(MixError::new(
            code::LAYER,
            format!(
                "image_layer {} is given to both {:?} and {:?}",
                w[0].layer, w[0].stream_id, w[1].stream_id
            ),
        ));
    }
    let is_input = inputs
        .iter()
        .any(|i| i.kind.is_stream() && i.stream_id == output_stream_id);
    if is_input {
        return Err(MixError::new(
            code::BAD_PARAM,
            format!(
                "output_stream_id {output_stream_id:?} is one of the inputs: onair publishes a \
                 mix as a new stream only (output_stream_type 1 with a new output_stream_id)"
            ),
        ));
    }
    Ok(MixSpec {
        session_id,
        output_stream_id,
        inputs,
        output,
    })
}

fn input(entry: &Value, valid_name: &impl Fn(&str) -> bool) -> Result<InputSpec, MixError> {
    let stream_id = match entry["input_stream_id"].as_str() {
        Some(s) if !s.is_empty() && s.chars().count() <= 80 => s.to_string(),
        _ => {
            return Err(MixError::new(
                code::STREAM_PARAM,
                format!("input_stream_id must be 1 to 80 characters: {entry}"),
            ))
        }
    };
    let layout = &entry["layout_params"];
    if !layout.is_object() {
        return Err(MixError::new(
            code::STREAM_PARAM,
            format!("input {stream_id:?} has no layout_params"),
        ));
    }
    let layer = int_field(layout, "image_layer", 1..=16, code::LAYER)?.ok_or_else(|| {
        MixError::new(
            code::LAYER,
            format!("input {stream_id:?}: image_layer (1..=16) is required"),
        )
    })? as u8;
    let kind = match int_field(layout, "input_type", 0..=i64::MAX, code::STREAM_PARAM)? {
        None | Some(0) => InputKind::AudioVideo,
        Some(3) => InputKind::Canvas,
        Some(4) => InputKind::AudioOnly,
        Some(5) => InputKind::VideoOnly,
        Some(2) => {
            return Err(MixError::new(
                code::STREAM_PARAM,
                format!(
                    "input {stream_id:?}: input_type 2 (a picture by watermark id) is not \
                     supported: onair has no picture store; push the picture as a stream"
                ),
            ))
        }
        Some(n) => {
            return Err(MixError::new(
                code::STREAM_PARAM,
                format!("input {stream_id:?}: input_type {n} is not one of 0, 3, 4, 5"),
            ))
        }
    };
    if kind.is_stream() && !valid_name(&stream_id) {
        return Err(MixError::new(
            code::STREAM_PARAM,
            format!("input_stream_id {stream_id:?} is not a valid stream name"),
        ));
    }
    let color = match &layout["color"] {
        Value::Null => None,
        Value::String(s) => Some(parse_color(s).ok_or_else(|| {
            MixError::new(
                code::MISMATCH,
                format!("input {stream_id:?}: color {s:?} is not 0xRRGGBB"),
            )
        })?),
        other => {
            return Err(MixError::new(
                code::MISMATCH,
                format!("input {stream_id:?}: color {other} is not a \"0xRRGGBB\" string"),
            ))
        }
    };
    let crop = match &entry["crop_params"] {
        Value::Null => None,
        c => {
            let field = |n| int_field(c, n, 0..=i64::from(MAX_SIDE), code::CROP);
            let (w, h) = (field("crop_width")?, field("crop_height")?);
            let (x, y) = (
                field("crop_start_location_x")?,
                field("crop_start_location_y")?,
            );
            match (w, h) {
                (Some(w), Some(h)) if w > 0 && h > 0 => Some(Crop {
                    x: x.unwrap_or(0) as u32,
                    y: y.unwrap_or(0) as u32,
                    width: w as u32,
                    height: h as u32,
                }),
                _ => {
                    return Err(MixError::new(
                        code::CROP,
                        format!("input {stream_id:?}: crop_width and crop_height must be > 0"),
                    ))
                }
            }
        }
    };
    Ok(InputSpec {
        stream_id,
        layer,
        kind,
        width: dim_field(layout, "image_width", false)?,
        height: dim_field(layout, "image_height", false)?,
        x: dim_field(layout, "location_x", true)?.unwrap_or(Dim::Pixels(0)),
        y: dim_field(layout, "location_y", true)?.unwrap_or(Dim::Pixels(0)),
        color,
        crop,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn body(para: Value) -> Vec<u8> {
        json!({"timestamp": 1, "eventId": 2,
               "interface": {"interfaceName": "Mix_StreamV2", "para": para}})
        .to_string()
        .into_bytes()
    }

    fn valid(name: &str) -> bool {
        !name.contains(' ')
    }

    fn two_inputs() -> Value {
        json!({
            "interface": START,
            "mix_stream_session_id": "room",
            "output_stream_id": "mixed",
            "output_stream_type": 1,
            "input_stream_list": [
                {"input_stream_id": "b", "layout_params": {"image_layer": 2,
                  "image_width": 320, "image_height": 0.25, "location_x": 0.75, "location_y": 540}},
                {"input_stream_id": "a", "layout_params": {"image_layer": 1}},
            ]
        })
    }

    fn err(para: Value) -> i64 {
        parse(&body(para), valid).unwrap_err().code
    }

    #[test]
    fn a_two_input_start_parses_bottom_layer_first() {
        let MixCommand::Start(s) = parse(&body(two_inputs()), valid).unwrap() else {
            panic!("not a start")
        };
        assert_eq!(s.session_id, "room");
        assert_eq!(s.output_stream_id, "mixed");
        assert_eq!(s.inputs[0].stream_id, "a");
        assert_eq!(s.inputs[0].kind, InputKind::AudioVideo);
        let b = &s.inputs[1];
        assert_eq!(b.width, Some(Dim::Pixels(320)));
        assert_eq!(b.height, Some(Dim::Fraction(0.25)));
        assert_eq!(b.x.on(1280), 960);
        assert_eq!(b.y, Dim::Pixels(540));
    }

    #[test]
    fn cancel_parses() {
        let c = parse(
            &body(json!({"interface": CANCEL, "mix_stream_session_id": "room",
                         "output_stream_id": "mixed"})),
            valid,
        )
        .unwrap();
        assert_eq!(
            c,
            MixCommand::Cancel {
                session_id: "room".into(),
                output_stream_id: Some("mixed".into())
            }
        );
    }

    #[test]
    fn tencents_codes_for_bad_requests() {
        assert_eq!(parse(b"{", valid).unwrap_err().code, code::BAD_REQUEST);
        let mut p = two_inputs();
        p["interface"] = json!("mix_streamv2.other");
        assert_eq!(err(p), code::BAD_REQUEST);
        let mut p = two_inputs();
        p["input_stream_list"] = json!([]);
        assert_eq!(err(p), code::BAD_REQUEST);
        let mut p = two_inputs();
        p["input_stream_list"] = json!([p["input_stream_list"][0]]);
        assert_eq!(err(p), code::TOO_FEW);
        let mut p = two_inputs();
        let one = p["input_stream_list"][0].clone();
        p["input_stream_list"] = Value::Array(vec![one; 17]);
        assert_eq!(err(p), code::STREAM_COUNT);
        let mut p = two_inputs();
        p["input_stream_list"][1]["layout_params"]["image_layer"] = json!(2);
        assert_eq!(err(p), code::LAYER);
        let mut p = two_inputs();
        p["input_stream_list"][1]["layout_params"]["image_layer"] = json!(17);
        assert_eq!(err(p), code::LAYER);
        let mut p = two_inputs();
        p["input_stream_list"][1]["layout_params"]["input_type"] = json!(2);
        assert_eq!(err(p), code::STREAM_PARAM);
        let mut p = two_inputs();
        p["input_stream_list"][0]["layout_params"]["image_width"] = json!(3000);
        assert_eq!(err(p), code::STREAM_PARAM);
        let mut p = two_inputs();
        p["input_stream_list"][0]
            .as_object_mut()
            .unwrap()
            .remove("layout_params");
        assert_eq!(err(p), code::STREAM_PARAM);
        let mut p = two_inputs();
        p["input_stream_list"][0]["input_stream_id"] = json!("bad name");
        assert_eq!(err(p), code::STREAM_PARAM);
        let mut p = two_inputs();
        p["mix_stream_template_id"] = json!(10);
        assert_eq!(err(p), code::MISMATCH);
        let mut p = two_inputs();
        p["input_stream_list"][1]["layout_params"]["color"] = json!("red");
        assert_eq!(err(p), code::MISMATCH);
        let mut p = two_inputs();
        p["output_stream_bit_rate"] = json!(50_001);
        assert_eq!(err(p), code::BITRATE);
        let mut p = two_inputs();
        p["output_stream_id"] = json!("a");
        assert_eq!(err(p), code::BAD_PARAM);
        let mut p = two_inputs();
        p.as_object_mut().unwrap().remove("mix_stream_session_id");
        assert_eq!(err(p), code::BAD_PARAM);
        let mut p = two_inputs();
        p["input_stream_list"][0]["crop_params"] = json!({"crop_width": 0, "crop_height": 10});
        assert_eq!(err(p), code::CROP);
    }

    #[test]
    fn colours_parse() {
        assert_eq!(parse_color("0xcc0033"), Some([0xcc, 0x00, 0x33]));
        assert_eq!(parse_color("#FFFFFF"), Some([255, 255, 255]));
        assert_eq!(parse_color("0x12345"), None);
        assert_eq!(parse_color("0xgg0000"), None);
    }
}
