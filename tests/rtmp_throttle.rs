//! Publishing through a local TCP proxy shaped to 300 kbit/s: the send queue drops only inter
//! frames (never audio or keyframes), stays within its bound, raises the congestion signal, and
//! recovers when the throttle lifts. An unthrottled player on the same nginx counts what got
//! through.

use onair_core::{AudioQuality, VideoResolution};
use onair_flv::{TagType, VideoData, VideoTag};
use onair_rtmp::send_queue::{classify, TagClass};
use onair_rtmp::{RtmpError, RtmpPlayer, RtmpPublisher, SendQueueConfig, TransportConfig};
use onair_testkit::live_source::encoded_tags;
use onair_testkit::peers::Nginx;
use onair_testkit::throttle::throttling_proxy;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[test]
fn throttled_uplink_drops_only_inter_frames_and_recovers() {
    let nginx = Nginx::start();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let rate = Arc::new(AtomicU64::new(300_000 / 8));
    let tags = encoded_tags(
        VideoResolution::R640x360,
        30,
        900,
        AudioQuality::Speech,
        16,
        2.0,
    );
    let sent_audio = tags
        .iter()
        .filter(|t| classify(t) == TagClass::Audio)
        .count();
    let sent_keys = tags
        .iter()
        .filter(|t| classify(t) == TagClass::Keyframe)
        .count();
    let queue = SendQueueConfig::default();
    rt.block_on(async {
        let proxy = throttling_proxy(nginx.port, Arc::clone(&rate)).await;
        let player_url = nginx.url("thr");
        // The player waits on nginx before the publisher starts, so it sees everything.
        let mut player = RtmpPlayer::connect(&player_url, &TransportConfig::default()).await.unwrap();
        let counter = tokio::spawn(async move {
            let (mut audio, mut keys, mut inter_after_recovery, mut last_ts) = (0, 0, 0, 0);
            loop {
                match player.next_tag().await {
                    Ok(t) if t.tag_type == TagType::Audio && classify(&t) == TagClass::Audio => audio += 1,
                    Ok(t) if t.tag_type == TagType::Video => {
                        if let Ok(VideoTag { data: VideoData::AvcNalus { .. }, .. }) = VideoTag::parse(&t.data) {
                            match classify(&t) {
                                TagClass::Keyframe => keys += 1,
                                TagClass::Inter if t.timestamp_ms > 12_000 => inter_after_recovery += 1,
                                _ => {}
                            }
                            last_ts = t.timestamp_ms;
                        }
                    }
                    Ok(_) => {}
                    Err(RtmpError::Timeout { .. }) | Err(_) => break,
                }
            }
            (audio, keys, inter_after_recovery, last_ts)
        });
        let publisher = RtmpPublisher::connect(&format!("rtmp://127.0.0.1:{proxy}/live/thr"), &TransportConfig::default(), queue).await.unwrap();
        let start = Instant::now();
        let (mut saw_congestion, mut max_bytes, mut max_duration) = (false, 0, Duration::ZERO);
        for t in &tags {
            let due = start + Duration::from_millis(u64::from(t.timestamp_ms));
            tokio::time::sleep_until(due.into()).await;
            // Lift the throttle for the last 4 seconds.
            if t.timestamp_ms >= 12_000 {
                rate.store(0, Ordering::Relaxed);
            }
            publisher.send(t.clone()).unwrap();
            let s = publisher.stats().queue;
            saw_congestion |= s.congested;
            max_bytes = max_bytes.max(s.queued_bytes);
            max_duration = max_duration.max(s.queued_duration);
        }
        assert!(publisher.flush(Duration::from_secs(10)).await, "the queue drains once the link is free");
        let stats = publisher.stats().queue;
        println!("{stats:?}; peak queue {max_bytes} bytes / {max_duration:?}; congestion seen: {saw_congestion}");
        publisher.close().await.unwrap();
        let (audio, keys, inter_after, last_ts) = counter.await.unwrap();
        println!("player got {audio}/{sent_audio} audio, {keys}/{sent_keys} keyframes, {inter_after} inter frames after recovery, last ts {last_ts}");
        assert!(saw_congestion, "the congestion signal fired");
        assert!(stats.dropped_inter > 0, "inter frames were dropped");
        assert_eq!(stats.overflow_dropped, 0, "nothing but inter frames dropped");
        assert!(max_bytes <= queue.max_bytes, "queue past its byte bound");
        assert!(max_duration < Duration::from_secs(3), "queue grew to {max_duration:?}");
        assert!(!stats.congested, "recovered");
        assert_eq!(audio, sent_audio, "every audio frame arrived");
        assert_eq!(keys, sent_keys, "every keyframe arrived");
        assert!(inter_after > 30, "inter frames flow again after the throttle lifts ({inter_after})");
    });
    drop(nginx);
}
