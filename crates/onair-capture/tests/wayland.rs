//! The Wayland screen backend against real peers: a PipeWire daemon with a GStreamer video
//! source node (what the screen-cast portal hands out is such a node), a private D-Bus session
//! bus, and the xdg-desktop-portal frontend on it.

use onair_capture::screen::pipewire::{PipeWireVideo, Remote};
use onair_capture::screen::{CaptureTarget, GrabError, Rect, ScreenCapture, SourceId, StopReason};
use onair_testkit::wayland::{PipeWire, Portal, SessionBus};
use std::time::Duration;

#[test]
fn a_pipewire_video_node_is_read_as_bgra_frames_and_its_end_is_reported() {
    let daemon = PipeWire::start();
    std::env::set_var("PIPEWIRE_RUNTIME_DIR", daemon.runtime_dir());
    // R 32, G 64, B 192 as the compositor's BGRx.
    let (mut source, node) = daemon.video_source("onair-test-screen", [32, 64, 192], (320, 240));
    let video = PipeWireVideo::start(Remote::Default, Some(node)).expect("stream connects");
    // No session manager runs here: link the ports as one would.
    daemon.link("onair-test-screen", "onair-screen");
    let frame = video
        .latest(Duration::from_secs(10))
        .unwrap_or_else(|e| panic!("no picture: {e:?}\n{}", daemon.log()));
    assert_eq!((frame.width(), frame.height()), (320, 240));
    let centre = (120 * 320 + 160) * 4;
    assert_eq!(&frame.data()[centre..centre + 4], &[192, 64, 32, 255]);
    assert!(frame.data().chunks(4).all(|p| p == [192, 64, 32, 255]));

    // The shared source goes away (the user stops sharing): the stream ends.
    source.kill();
    let why = video.wait_ended(Duration::from_secs(10));
    assert!(
        why.is_some(),
        "the end of the source was not reported\n{}",
        daemon.log()
    );
    assert!(matches!(
        video.latest(Duration::ZERO),
        Err(GrabError::Gone(_))
    ));
    drop(video); // joins the stream thread
}

/// A Wayland session end to end: with no portal on the bus the backend says what to install;
/// with the xdg-desktop-portal frontend (and a backend sharing a PipeWire node, as a
/// compositor's does once its dialog is answered) a screen capture asks for a monitor with the
/// cursor embedded, reads the shared picture through the remote the portal opened, cuts the
/// region, and reports the end of sharing.
#[test]
fn a_wayland_session_captures_through_the_screen_cast_portal() {
    let bus = SessionBus::start();
    std::env::set_var("DBUS_SESSION_BUS_ADDRESS", bus.address());
    std::env::remove_var("DISPLAY");
    std::env::set_var("WAYLAND_DISPLAY", "wayland-onair-test");
    let err = match onair_capture::screen::open_backend() {
        Ok(_) => panic!("a portal backend without a portal"),
        Err(e) => e.to_string(),
    };
    assert!(err.contains("no xdg-desktop-portal answers"), "{err}");
    assert!(
        err.contains("xdg-desktop-portal-gnome, -kde or -wlr"),
        "{err}"
    );

    let daemon = PipeWire::start();
    let (mut source, node) = daemon.video_source("onair-shared-screen", [200, 40, 90], (320, 240));
    let portal = Portal::start(&bus, &daemon, node, (320, 240));
    let backend = onair_capture::screen::open_backend().expect("the portal answers");
    let sources = {
        let mut b = onair_capture::screen::open_backend().expect("the portal answers");
        b.sources(None, None).expect("sources")
    };
    assert_eq!(
        sources.iter().map(|s| s.id).collect::<Vec<_>>(),
        [SourceId::Screen(0), SourceId::Window(0)]
    );

    let (frames_tx, frames) = std::sync::mpsc::channel();
    let (stops_tx, stops) = std::sync::mpsc::channel();
    let capture = std::thread::scope(|s| {
        // No session manager runs here: link the shared node to onair's stream once it exists.
        s.spawn(|| daemon.link("onair-shared-screen", "onair-screen"));
        ScreenCapture::start(
            backend,
            CaptureTarget {
                source: SourceId::Screen(0),
                region: Rect {
                    x: 100,
                    y: 50,
                    width: 160,
                    height: 120,
                },
                cursor: true,
                highlight: None,
            },
            30,
            move |f| {
                let _ = frames_tx.send(f);
            },
            move |r| {
                let _ = stops_tx.send(r);
            },
        )
    })
    .unwrap_or_else(|e| panic!("capture through the portal: {e}\n{}", portal.log()));
    assert_eq!(
        portal.calls(),
        [
            "CreateSession",
            "SelectSources types=1 cursor_mode=2",
            "Start"
        ]
    );
    let frame = frames
        .recv_timeout(Duration::from_secs(10))
        .expect("a frame");
    assert_eq!((frame.width(), frame.height()), (160, 120));
    assert!(
        frame.data().chunks(4).all(|p| p == [90, 40, 200, 255]),
        "the shared colour"
    );

    // The compositor stops sharing: reported once, the capture repeats the last picture.
    source.kill();
    assert_eq!(
        stops.recv_timeout(Duration::from_secs(10)),
        Ok(StopReason::DisplayChanged)
    );
    assert!(frames.recv_timeout(Duration::from_secs(5)).is_ok());
    capture.stop();
    portal.stop();
}
