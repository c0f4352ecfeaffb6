//! One running mix: a thread that reads its inputs' hub taps, decodes them, composes the
//! canvas at the output frame rate, mixes the sound, encodes (openh264 + AAC) and publishes
//! the result through the hub like any push (so it plays, records, screenshots and calls back).
//!
//! The thread waits on its taps, its control channel and the next frame's deadline at once
//! (`crossbeam_channel::Select`); no polling. An input whose stream ends keeps its last picture
//! for [`INPUT_HOLD`], then its layer shows the background colour; it is looked for again every
//! [`RETAP_EVERY`] and rejoins when it is live again. A session whose inputs have all been gone
//! for [`IDLE_END`] ends itself, as one whose output is banned or cut does.

use super::audio::{AudioMix, CHANNELS, RATE, TARGET_DEPTH_MS};
use super::canvas::Picture;
use super::input::InputDecoder;
use super::layout::Layout;
use crate::hub::{MediaTag, PublishHandle, Tag, TapKind};
use crate::server::Shared;
use crossbeam_channel::{Receiver, Select, Sender};
use futures_util::FutureExt;
use onair_codec::flv_tags::{audio_config_tag, audio_tag, video_tags};
use onair_codec::{AacEncoder, AudioEncoder, EncoderOptions, OpenH264Encoder, VideoEncoder};
use onair_core::{AudioFrame, AudioQuality, EncodeTarget, Size, Timestamp, VideoFrame};
use onair_flv::OnMetaData;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long a dropped input's last picture stays.
pub const INPUT_HOLD: Duration = Duration::from_secs(3);
/// How often a dropped input is looked for.
pub const RETAP_EVERY: Duration = Duration::from_millis(500);
/// A session with no live input for this long ends.
pub const IDLE_END: Duration = Duration::from_secs(30);
/// Tags a tap holds before the hub drops some.
const TAP_CAPACITY: usize = 1024;
/// Updates and stops waiting for a session.
const CONTROL_CAPACITY: usize = 4;
/// Samples per channel of one AAC frame.
const AUDIO_BLOCK: usize = 1024;

/// The output's encoding, defaults applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutputSettings {
    /// Frames per second.
    pub fps: u32,
    /// Video kbps.
    pub bitrate_kbps: u32,
    /// Seconds between keyframes.
    pub gop_seconds: u32,
}

impl OutputSettings {
    /// `params` with defaults for a `canvas`: 25 fps, about 0.07 bit per pixel per frame
    /// (1280x720 at 25 fps: 1613 kbps) within 300..=8000 kbps, 2 s GOP.
    pub fn with_defaults(params: super::request::OutputParams, canvas: Option<(u32, u32)>) -> Self {
        let fps = params.fps.unwrap_or(25);
        let pixels = canvas.map_or(0, |(w, h)| u64::from(w) * u64::from(h));
        let auto = (pixels * u64::from(fps) * 7 / 100_000).clamp(300, 8000) as u32;
        Self {
            fps,
            bitrate_kbps: params.bitrate_kbps.unwrap_or(auto),
            gop_seconds: params.gop_seconds.unwrap_or(2),
        }
    }
}

/// Whether an input is live, and since when it is not.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Presence {
    gone_since: Option<Instant>,
}

impl Presence {
    /// The input's stream ended at `now` (kept if it had already).
    pub fn left(&mut self, now: Instant) {
        self.gone_since.get_or_insert(now);
    }

    /// The input is live again.
    pub fn back(&mut self) {
        self.gone_since = None;
    }

    /// Live now.
    pub fn live(&self) -> bool {
        self.gone_since.is_none()
    }

    /// Its last picture is still shown at `now`.
    pub fn shows_picture(&self, now: Instant) -> bool {
        self.gone_since
            .is_none_or(|g| now.saturating_duration_since(g) < INPUT_HOLD)
    }

    /// Gone for at least `d` at `now`.
    pub fn gone_for(&self, d: Duration, now: Instant) -> bool {
        self.gone_since
            .is_some_and(|g| now.saturating_duration_since(g) >= d)
    }
}

/// Sent to a running session.
#[derive(Debug)]
pub enum Control {
    /// A new layout (same session id and output).
    Update(Layout, OutputSettings),
    /// Cancel: end the output and return.
    Stop,
}

/// The API's hold on a running session.
#[derive(Debug)]
pub struct SessionHandle {
    /// The output stream.
    pub output: String,
    /// Its controls.
    pub control: Sender<Control>,
    /// Its thread.
    pub thread: std::thread::JoinHandle<()>,
}

struct Input {
    rx: Option<Receiver<Tag>>,
    decoder: InputDecoder,
    presence: Presence,
    /// The newest picture and its number.
    picture: Option<(u64, VideoFrame)>,
    pictures: u64,
}

impl Input {
    fn new(name: &str) -> Self {
        Self {
            rx: None,
            decoder: InputDecoder::new(name),
            presence: Presence::default(),
            picture: None,
            pictures: 0,
        }
    }
}

struct Video {
    encoder: OpenH264Encoder,
    canvas: Picture,
    /// Per layer: the picture number it was scaled from, and the scaled picture.
    scaled: Vec<Option<(u64, Picture)>>,
}

/// A running mix (owned by its thread).
struct Session {
    shared: Arc<Shared>,
    id: String,
    layout: Layout,
    settings: OutputSettings,
    publish: PublishHandle,
    inputs: HashMap<String, Input>,
    audio: AudioMix,
    audio_encoder: Option<AacEncoder>,
    video: Option<Video>,
    start: Instant,
    frames_out: u64,
    audio_frames_out: u64,
    next_retap: Instant,
    /// The taps selected on, by input name (see `run`).
    taps: Option<Vec<(String, Receiver<Tag>)>>,
    /// An input's tap came or went since `taps` was built.
    taps_changed: bool,
}

/// Starts a session's thread. `publish` is the output, already claimed in the hub; when no
/// thread can be started it is handed back (for the caller to end).
pub fn spawn(
    shared: Arc<Shared>,
    id: String,
    layout: Layout,
    settings: OutputSettings,
    publish: PublishHandle,
) -> Result<SessionHandle, Box<(std::io::Error, PublishHandle)>> {
    // Bounded: an app calling start again and again waits for the session to take each
    // update rather than queueing without limit.
    let (control, rx) = crossbeam_channel::bounded(CONTROL_CAPACITY);
    let output = publish.name.clone();
    // The handle goes to the thread once it runs, so a failed spawn does not lose it.
    let (give, take) = crossbeam_channel::bounded::<PublishHandle>(1);
    let spawned = std::thread::Builder::new()
        .name(format!("mix-{id}"))
        .spawn(move || {
            let Ok(publish) = take.recv() else {
                return;
            };
            let now = Instant::now();
            let mut s = Session {
                shared,
                id,
                layout: Layout {
                    canvas: None,
                    layers: Vec::new(),
                    audio: Vec::new(),
                },
                settings,
                publish,
                inputs: HashMap::new(),
                audio: AudioMix::default(),
                audio_encoder: None,
                video: None,
                start: now,
                frames_out: 0,
                audio_frames_out: 0,
                next_retap: now,
                taps: None,
                taps_changed: true,
            };
            let reason = match s.apply(layout, settings) {
                Ok(()) => s.run(&rx),
                Err(e) => format!("mix could not start: {e}"),
            };
            s.end(&reason);
        });
    match spawned {
        Ok(thread) => {
            // The thread holds `take` until it receives: this cannot fail.
            let _ = give.send(publish);
            Ok(SessionHandle {
                output,
                control,
                thread,
            })
        }
        Err(e) => Err(Box::new((e, publish))),
    }
}

impl Session {
    /// Takes a layout: new inputs are tapped, dropped ones forgotten; a new canvas size or
    /// frame rate restarts the video encoder (a new sequence header and metadata).
    fn apply(&mut self, layout: Layout, settings: OutputSettings) -> Result<(), String> {
        self.taps_changed = true;
        let streams = layout.streams();
        self.inputs.retain(|name, _| streams.contains(name));
        for name in &streams {
            if !layout.audio.contains(name) {
                self.audio.remove(name);
            }
            if !self.inputs.contains_key(name) {
                let mut input = Input::new(name);
                input.rx = self.shared.hub.tap(name, TAP_CAPACITY, TapKind::Mix);
                if input.rx.is_none() {
                    input.presence.left(Instant::now());
                }
                self.inputs.insert(name.clone(), input);
            }
        }
        let restart_video = self.video.is_none()
            || layout.canvas != self.layout.canvas
            || settings != self.settings;
        self.settings = settings;
        self.layout = layout;
        if self.audio_encoder.is_none() && !self.layout.audio.is_empty() {
            let enc = AacEncoder::new(AudioQuality::Music).map_err(|e| e.to_string())?;
            let ts = self.output_ms();
            self.push(audio_config_tag(&enc.config(), ts));
            self.audio_encoder = Some(enc);
        }
        if restart_video {
            self.video = None;
            if let Some((w, h)) = self.layout.canvas {
                let size = Size {
                    width: w,
                    height: h,
                };
                let target = EncodeTarget {
                    size,
                    picture: size,
                    fps: settings.fps,
                    bitrate_kbps: settings.bitrate_kbps,
                    min_bitrate_kbps: settings.bitrate_kbps,
                };
                let options = EncoderOptions {
                    gop_seconds: settings.gop_seconds as f32,
                };
                let encoder = OpenH264Encoder::new(target, options).map_err(|e| e.to_string())?;
                self.video = Some(Video {
                    encoder,
                    canvas: Picture::filled(w, h, [0, 0, 0]),
                    scaled: Vec::new(),
                });
                // The frame clock goes on: the next frame is the first one due from now.
                let interval = self.frame_interval().as_micros().max(1);
                self.frames_out = self.start.elapsed().as_micros().div_ceil(interval) as u64;
            }
            self.push_metadata();
        }
        if let Some(v) = self.video.as_mut() {
            v.scaled = vec![None; self.layout.layers.len()];
        }
        Ok(())
    }

    /// Output time now, ms since the session's clock started.
    fn output_ms(&self) -> u32 {
        self.start.elapsed().as_millis().min(u128::from(u32::MAX)) as u32
    }

    fn push(&self, tag: onair_flv::FlvTag) {
        let t = match tag.tag_type {
            onair_flv::TagType::Video => MediaTag::video(tag.timestamp_ms, tag.data),
            onair_flv::TagType::Audio => MediaTag::audio(tag.timestamp_ms, tag.data),
            onair_flv::TagType::Script => match MediaTag::script(tag.timestamp_ms, tag.data) {
                Some(t) => t,
                None => return,
            },
            _ => return,
        };
        self.publish.push(t);
    }

    fn push_metadata(&self) {
        let mut md = OnMetaData {
            encoder: Some(format!("onair-server mix {}", self.id)),
            ..Default::default()
        };
        if let Some((w, h)) = self.layout.canvas {
            md.width = Some(f64::from(w));
            md.height = Some(f64::from(h));
            md.framerate = Some(f64::from(self.settings.fps));
            md.videocodecid = Some(7.0);
            md.videodatarate = Some(f64::from(self.settings.bitrate_kbps));
        }
        if !self.layout.audio.is_empty() {
            md.audiocodecid = Some(10.0);
            md.audiosamplerate = Some(f64::from(RATE));
            md.audiosamplesize = Some(16.0);
            md.stereo = Some(true);
            md.audiodatarate = Some(f64::from(AudioQuality::Music.bitrate_kbps()));
        }
        self.publish.push(MediaTag::metadata(self.output_ms(), md));
    }

    fn frame_interval(&self) -> Duration {
        Duration::from_secs(1) / self.settings.fps.max(1)
    }

    fn next_video_due(&self) -> Option<Instant> {
        self.video
            .as_ref()
            .map(|_| self.start + self.frame_interval() * self.frames_out as u32)
    }

    fn next_audio_due(&self) -> Option<Instant> {
        self.audio_encoder.as_ref().map(|_| {
            let played = Duration::from_micros(self.audio_frames_out * 1_000_000 / u64::from(RATE));
            self.start + Duration::from_millis(TARGET_DEPTH_MS) + played
        })
    }

    /// The loop; returns why it ended.
    fn run(&mut self, control: &Receiver<Control>) -> String {
        loop {
            let now = Instant::now();
            if self.publish.info.kick.notified().now_or_never().is_some() {
                return "the output was cut (banned or disabled)".into();
            }
            let all_gone = !self.inputs.is_empty()
                && self
                    .inputs
                    .values()
                    .all(|i| i.presence.gone_for(IDLE_END, now));
            if all_gone {
                return format!("no input was live for {} s", IDLE_END.as_secs());
            }
            self.due_work(now);
            let deadline = [
                self.next_video_due(),
                self.next_audio_due(),
                Some(self.next_retap),
            ]
            .into_iter()
            .flatten()
            .min()
            .unwrap_or(now + RETAP_EVERY);
            // The receivers selected on (shared handles, cloned from the inputs): rebuilt only
            // when an input's tap changed, not per tag.
            let taps = match self.taps.take() {
                Some(t) if !self.taps_changed => t,
                _ => {
                    self.taps_changed = false;
                    self.inputs
                        .iter()
                        .filter_map(|(n, i)| Some((n.clone(), i.rx.clone()?)))
                        .collect()
                }
            };
            let mut sel = Select::new();
            for (_, rx) in &taps {
                sel.recv(rx);
            }
            let control_index = sel.recv(control);
            let Ok(op) = sel.select_deadline(deadline) else {
                self.taps = Some(taps);
                continue;
            };
            let index = op.index();
            if index == control_index {
                match op.recv(control) {
                    Ok(Control::Update(layout, settings)) => {
                        if let Err(e) = self.apply(layout, settings) {
                            return format!("mix update failed: {e}");
                        }
                    }
                    Ok(Control::Stop) | Err(_) => return "mix cancelled".into(),
                }
                self.taps = Some(taps);
                continue;
            }
            let received = op.recv(&taps[index].1);
            self.on_tap(&taps[index].0, received);
            self.taps = Some(taps);
        }
    }

    /// One tag from an input's tap, or the tap's end (the stream ended).
    fn on_tap(&mut self, name: &str, received: Result<Tag, crossbeam_channel::RecvError>) {
        let Some(input) = self.inputs.get_mut(name) else {
            return;
        };
        match received {
            Ok(tag) => {
                let audible = self.layout.audio.iter().any(|a| a == name);
                let d = input.decoder.tag(&tag, audible);
                if let Some(p) = d.picture {
                    input.pictures += 1;
                    input.picture = Some((input.pictures, p));
                }
                if !d.pcm.is_empty() {
                    self.audio.push(name, &d.pcm);
                }
            }
            Err(_) => {
                tracing::info!(mix = %self.id, input = %name, "mix input ended");
                input.rx = None;
                input.presence.left(Instant::now());
                self.audio.remove(name);
                self.taps_changed = true;
            }
        }
    }

    /// Frames and sound blocks whose time has come, and the look for dropped inputs.
    fn due_work(&mut self, now: Instant) {
        if now >= self.next_retap {
            self.next_retap = now + RETAP_EVERY;
            for (name, input) in self.inputs.iter_mut().filter(|(_, i)| i.rx.is_none()) {
                if let Some(rx) = self.shared.hub.tap(name, TAP_CAPACITY, TapKind::Mix) {
                    tracing::info!(mix = %self.id, input = %name, "mix input back");
                    input.rx = Some(rx);
                    input.decoder = InputDecoder::new(name);
                    input.presence.back();
                    self.taps_changed = true;
                }
            }
        }
        // Behind by more than a second (a stalled machine): skip ahead rather than burst.
        if let Some(due) = self.next_video_due() {
            if now.saturating_duration_since(due) > Duration::from_secs(1) {
                let behind = now.saturating_duration_since(self.start);
                self.frames_out = (behind.as_micros() / self.frame_interval().as_micros()) as u64;
            }
        }
        while self.next_video_due().is_some_and(|d| d <= now) {
            self.video_frame(now);
        }
        if let Some(due) = self.next_audio_due() {
            if now.saturating_duration_since(due) > Duration::from_secs(1) {
                let behind = now
                    .saturating_duration_since(self.start + Duration::from_millis(TARGET_DEPTH_MS));
                let samples = behind.as_micros() as u64 * u64::from(RATE) / 1_000_000;
                self.audio_frames_out = samples / AUDIO_BLOCK as u64 * AUDIO_BLOCK as u64;
            }
        }
        while self.next_audio_due().is_some_and(|d| d <= now) {
            self.audio_block();
        }
    }

    fn video_frame(&mut self, now: Instant) {
        let pts = Timestamp::from_micros(
            self.frames_out * 1_000_000 / u64::from(self.settings.fps.max(1)),
        );
        self.frames_out += 1;
        let Some(video) = self.video.as_mut() else {
            return;
        };
        for (i, layer) in self.layout.layers.iter().enumerate() {
            let input = layer
                .stream
                .as_ref()
                .and_then(|s| self.inputs.get(s))
                .filter(|inp| inp.presence.shows_picture(now));
            let drawn = input
                .and_then(|inp| inp.picture.as_ref())
                .and_then(|(n, frame)| {
                    let slot = video.scaled.get_mut(i)?;
                    if slot.as_ref().map(|(m, _)| *m) != Some(*n) {
                        let r = layer.rect;
                        match Picture::fit(frame, layer.crop, r.width, r.height) {
                            Ok(p) => *slot = Some((*n, p)),
                            Err(e) => {
                                tracing::warn!(mix = %self.id, "layer {i} not scaled: {e}");
                                return None;
                            }
                        }
                    }
                    slot.as_ref().map(|(_, p)| p)
                });
            match drawn {
                Some(p) => video.canvas.draw(p, layer.rect.x, layer.rect.y),
                None => video.canvas.fill_rect(layer.rect, layer.color),
            }
        }
        let frame = match video.canvas.to_frame(pts) {
            Ok(f) => f,
            Err(e) => {
                tracing::warn!(mix = %self.id, "mix frame: {e}");
                return;
            }
        };
        match video.encoder.encode(&frame) {
            Ok(Some(encoded)) => {
                for tag in video_tags(&encoded) {
                    self.push(tag);
                }
            }
            Ok(None) => {}
            Err(e) => tracing::warn!(mix = %self.id, "mix frame not encoded: {e}"),
        }
    }

    fn audio_block(&mut self) {
        let pts = Timestamp::from_samples(self.audio_frames_out, RATE);
        self.audio_frames_out += AUDIO_BLOCK as u64;
        let pcm = self.audio.take(AUDIO_BLOCK);
        let Some(enc) = self.audio_encoder.as_mut() else {
            return;
        };
        let encoded = AudioFrame::from_samples(&pcm, RATE, CHANNELS as u16)
            .map_err(|e| e.to_string())
            .map(|f| f.with_timestamp(pts))
            .and_then(|f| enc.encode(&f).map_err(|e| e.to_string()));
        match encoded {
            Ok(frames) => {
                for a in frames {
                    self.push(audio_tag(&a));
                }
            }
            Err(e) => tracing::warn!(mix = %self.id, "mix sound not encoded: {e}"),
        }
    }

    /// Ends the output like any push ends (recordings finalised, callback sent).
    fn end(self, reason: &str) {
        tracing::info!(mix = %self.id, output = %self.publish.name, "mix ended: {reason}");
        let shared = self.shared.clone();
        shared
            .runtime()
            .block_on(shared.end_publish(self.publish, reason));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dropped_input_holds_its_picture_then_shows_the_background() {
        let t0 = Instant::now();
        let mut p = Presence::default();
        assert!(p.live() && p.shows_picture(t0));
        p.left(t0);
        assert!(!p.live());
        assert!(p.shows_picture(t0 + INPUT_HOLD - Duration::from_millis(1)));
        assert!(!p.shows_picture(t0 + INPUT_HOLD));
        // Leaving again does not restart the hold.
        p.left(t0 + Duration::from_secs(1));
        assert!(!p.shows_picture(t0 + INPUT_HOLD));
        assert!(!p.gone_for(IDLE_END, t0 + IDLE_END - Duration::from_millis(1)));
        assert!(p.gone_for(IDLE_END, t0 + IDLE_END));
        p.back();
        assert!(p.live() && p.shows_picture(t0 + IDLE_END));
    }

    #[test]
    fn output_defaults_follow_the_canvas() {
        let d = OutputSettings::with_defaults(Default::default(), Some((1280, 720)));
        assert_eq!((d.fps, d.bitrate_kbps, d.gop_seconds), (25, 1612, 2));
        let small = OutputSettings::with_defaults(Default::default(), Some((160, 90)));
        assert_eq!(small.bitrate_kbps, 300);
        let given = OutputSettings::with_defaults(
            super::super::request::OutputParams {
                fps: Some(15),
                bitrate_kbps: Some(900),
                gop_seconds: Some(4),
            },
            Some((1280, 720)),
        );
        assert_eq!(
            (given.fps, given.bitrate_kbps, given.gop_seconds),
            (15, 900, 4)
        );
    }
}
