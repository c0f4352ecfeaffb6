//! The Wayland screen backend against real peers: a PipeWire daemon with a GStreamer video
//! source node (what the screen-cast portal hands out is such a node), and a D-Bus session bus
//! on which no portal answers.

use onair_capture::screen::pipewire::{PipeWireVideo, Remote};
use onair_capture::screen::GrabError;
use onair_testkit::wayland::{PipeWire, SessionBus};
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

#[test]
fn a_wayland_session_without_a_portal_says_what_to_install() {
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
}
