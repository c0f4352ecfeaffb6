//! The pusher's screen capture API with LiteAV's names, under Xvfb, judged by FFmpeg: two
//! windows (red and blue colour bars); `get_screen_capture_sources` lists both with their
//! titles, thumbnails and icons; `set_screen_capture_source` switches from one to the other
//! while capturing and pushing (no restart); `on_screen_capture_started` and
//! `on_screen_capture_stopped(0)` arrive in order, the second before `stop_screen_capture`
//! returns; the local preview (`on_render_video_frame`) shows the captured window before
//! `start_push`.
//!
//! One test in this file: it points `DISPLAY` at its Xvfb for the whole process.

use onair::pusher::Rect;
use onair::{
    ResolutionMode, ScreenCaptureProperty, SourceId, V2TXLivePusher, V2TXLivePusherObserver,
    VideoEncoderParam, VideoResolution,
};
use onair_testkit::desktop::Xvfb;
use onair_testkit::peers::{embedded_server, require, wait_live_flv};
use onair_testkit::x11_window::{Content, PatternWindow};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Default)]
struct Events(
    Mutex<Vec<String>>,
    Mutex<Option<[u8; 3]>>,
    std::sync::Condvar,
);

impl V2TXLivePusherObserver for Events {
    // The local preview (RGBA32): the centre pixel of the newest frame.
    fn on_render_video_frame(&self, frame: &onair::VideoFrame) {
        let (w, h, stride) = (
            frame.width() as usize,
            frame.height() as usize,
            frame.stride() as usize,
        );
        let i = h / 2 * stride + w / 2 * 4;
        let px = &frame.data()[i..i + 3];
        *self.1.lock().unwrap() = Some([px[0], px[1], px[2]]);
        self.2.notify_all();
    }
    fn on_screen_capture_started(&self) {
        self.0.lock().unwrap().push("started".into());
    }
    fn on_screen_capture_stopped(&self, reason: i32) {
        self.0.lock().unwrap().push(format!("stopped {reason}"));
    }
}

/// RGB at the centre of one picture FFmpeg decodes from `url`, `skip` pictures in.
fn centre_rgb(url: &str, skip: u32) -> [u8; 3] {
    let out = Command::new(require("ffmpeg"))
        .args(["-v", "error", "-rw_timeout", "10000000", "-i", url])
        .args([
            "-vf",
            &format!("select=gte(n\\,{skip}),crop=2:2"),
            "-frames:v",
            "1",
        ])
        .args(["-f", "rawvideo", "-pix_fmt", "rgb24", "-"])
        .output()
        .expect("run ffmpeg");
    assert!(out.stdout.len() >= 3, "FFmpeg decoded nothing of {url}");
    [out.stdout[0], out.stdout[1], out.stdout[2]]
}

fn near(got: [u8; 3], want: [u8; 3]) -> bool {
    got.iter()
        .zip(want)
        .all(|(&g, w)| (i16::from(g) - i16::from(w)).abs() <= 24)
}

#[test]
fn sources_switch_while_capturing_and_events_come_in_order() {
    let x = Xvfb::start(800, 600);
    std::env::set_var("DISPLAY", x.display());
    let red = PatternWindow::open(
        x.display(),
        "onair red",
        (0, 0),
        (320, 180),
        Content::Bars(vec![[255, 0, 0]]),
    );
    let blue = PatternWindow::open(
        x.display(),
        "onair blue",
        (400, 300),
        (320, 180),
        Content::Bars(vec![[0, 0, 255]]),
    );
    let pusher = V2TXLivePusher::new();
    let sources = pusher
        .get_screen_capture_sources((160, 90), (32, 32))
        .expect("sources");
    let listed = |id: u32| sources.iter().find(|s| s.id == SourceId::Window(id));
    let r = listed(red.id).expect("the red window is listed");
    assert_eq!(r.name, "onair red");
    assert!(!r.minimized);
    let thumb = r.thumbnail.as_ref().expect("a thumbnail");
    assert_eq!((thumb.width, thumb.height), (160, 90));
    assert_eq!(&thumb.data[..4], &[255, 0, 0, 255], "the thumbnail is red");
    let icon = r.icon.as_ref().expect("its _NET_WM_ICON");
    assert_eq!(
        (icon.width, icon.height),
        (16, 16),
        "icons are not scaled up"
    );
    assert_eq!(&icon.data[..4], &[0, 200, 0, 255]);
    assert!(listed(blue.id).is_some(), "the blue window is listed");
    assert!(sources
        .iter()
        .any(|s| s.id == SourceId::Screen(0) && s.is_main_screen));

    let events = Arc::new(Events::default());
    pusher.set_observer(Some(events.clone()));
    pusher
        .set_video_quality(
            VideoEncoderParam::new(
                VideoResolution::R320x180,
                ResolutionMode::Landscape,
                15,
                0,
                0,
            )
            .unwrap(),
        )
        .unwrap();
    pusher
        .set_screen_capture_source(
            SourceId::Window(red.id),
            Rect::default(),
            ScreenCaptureProperty::default(),
        )
        .unwrap();
    pusher
        .start_screen_capture()
        .expect("screen capture starts");
    // The preview shows the captured window before anything is pushed.
    pusher
        .enable_custom_video_render(
            true,
            onair::PixelFormat::Rgba32,
            onair::BufferType::ByteBuffer,
        )
        .unwrap();
    {
        let seen = events.1.lock().unwrap();
        let (seen, _) = events
            .2
            .wait_timeout_while(seen, Duration::from_secs(10), |p| {
                !p.is_some_and(|[r, g, b]| r > 200 && g < 60 && b < 60)
            })
            .unwrap();
        assert!(
            seen.is_some_and(|[r, g, b]| r > 200 && g < 60 && b < 60),
            "the preview before start_push shows {seen:?}, not the red window"
        );
    }
    assert!(!pusher.is_pushing());
    let data = tempfile::tempdir().unwrap();
    let server = embedded_server(data.path());
    pusher
        .start_push(&format!("rtmp://{}/live/switch", server.rtmp_addr()))
        .unwrap();
    wait_live_flv(server.http_addr().port(), "switch", Duration::from_secs(15));
    let flv = format!("{}/live/switch.flv", server.http_base());
    let before = centre_rgb(&flv, 20);
    pusher
        .set_screen_capture_source(
            SourceId::Window(blue.id),
            Rect::default(),
            ScreenCaptureProperty::default(),
        )
        .unwrap();
    // Past the start burst (a 2 s GOP at 15 fps) into pictures captured after the switch.
    let after = centre_rgb(&flv, 40);
    println!("centre before the switch {before:?}, after {after:?}");
    assert!(near(before, [255, 0, 0]), "{before:?}");
    assert!(near(after, [0, 0, 255]), "{after:?}");
    assert!(pusher.is_pushing(), "the push went on through the switch");
    pusher.stop_screen_capture().unwrap();
    let seen = events.0.lock().unwrap().clone();
    assert_eq!(seen, vec!["started".to_string(), "stopped 0".to_string()]);
    pusher.stop_push().unwrap();
    assert_eq!(events.0.lock().unwrap().len(), 2, "nothing after the stop");
}
