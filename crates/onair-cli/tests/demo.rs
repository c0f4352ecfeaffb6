//! `onair demo` as a newcomer runs it (shorter): exit 0, a snapshot PNG that shows the test
//! pattern, a plot PNG, and a summary with real numbers (first frame, latency, frames).

use onair_codec::read_stamp;
use serde_json::Value;

#[test]
fn onair_demo_writes_the_snapshot_the_plot_and_a_real_summary() {
    let onair = std::path::PathBuf::from(env!("CARGO_BIN_EXE_onair"));
    let out = tempfile::tempdir().unwrap();
    let run = std::process::Command::new(onair)
        .args([
            "demo",
            "--seconds",
            "6",
            "--preset",
            "640x360",
            "--json",
            "--out",
        ])
        .arg(out.path())
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "demo failed: {}",
        String::from_utf8_lossy(&run.stderr)
    );
    let summary: Value = serde_json::from_slice(&run.stdout).expect("--json prints the summary");
    let rendered = summary["frames_rendered"].as_u64().unwrap();
    let sent = summary["frames_sent"].as_u64().unwrap();
    assert!(rendered > 100, "{summary}");
    assert!(
        rendered + summary["frames_dropped"].as_u64().unwrap() == sent,
        "{summary}"
    );
    let p50 = summary["latency_ms_p50"].as_f64().unwrap();
    assert!(p50 > 0.0 && p50 < 1000.0, "{summary}");
    assert!(
        summary["first_frame_ms"].as_f64().unwrap() < 2000.0,
        "{summary}"
    );
    assert_eq!(
        summary["recordings"].as_array().map(Vec::len),
        Some(1),
        "{summary}"
    );
    assert!(
        summary["errors"].as_array().unwrap().is_empty(),
        "{summary}"
    );

    // The snapshot is the test pattern: its stamp reads back.
    let snap = image::open(out.path().join("snapshot.png"))
        .unwrap()
        .to_rgba8();
    assert_eq!(snap.dimensions(), (640, 360));
    let frame = onair_core::VideoFrame::new(
        onair_core::PixelFormat::Rgba32,
        640,
        360,
        bytes::Bytes::from(snap.into_raw()),
    )
    .unwrap();
    let i420 = onair_codec::convert::to_i420(&frame).unwrap();
    assert!(
        read_stamp(&i420).is_some(),
        "the snapshot carries the pattern's stamp"
    );
    // The plot has three panels with coloured lines.
    let plot = image::open(out.path().join("plot.png")).unwrap().to_rgb8();
    assert_eq!(plot.dimensions(), (1000, 780));
    let count = |c: [u8; 3]| plot.pixels().filter(|p| p.0 == c).count();
    assert!(count([0, 0, 255]) > 500, "bitrate/fps lines drawn");
    assert!(count([0, 140, 0]) > 300, "latency line drawn");
    assert!(out.path().join("summary.json").is_file());
}
