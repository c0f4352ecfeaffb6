//! `stop_push` / `stop_play`, and dropping the object, from inside every kind of callback:
//! observer events, the process hook (byte buffer and texture), render frames and textures,
//! playout audio. Each must return within 1 s (no deadlock, no self-join), and no callback may
//! arrive after it returned, on any thread. Real pushes and plays through nginx-rtmp.

use onair::*;
use onair_testkit::peers::Nginx;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Stop the object, or drop the app's own handle to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    Stop,
    Drop,
}

/// The callback that ends the session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Trigger {
    PushConnected,
    ProcessBytes,
    ProcessTexture,
    PlayVideoPlaying,
    RenderFrame,
    RenderTexture,
    AudioFrame,
}

/// What every callback of one run checks and records.
struct Probe {
    trigger: Trigger,
    action: Action,
    /// Set once the app's handle is stored, so the trigger can use it.
    armed: AtomicBool,
    fired: AtomicBool,
    /// Set by the triggering callback once stop (or drop) has returned.
    returned: AtomicBool,
    after: AtomicUsize,
    calls: AtomicUsize,
    done: Mutex<Option<mpsc::Sender<Duration>>>,
    pusher: Mutex<Option<V2TXLivePusher>>,
    player: Mutex<Option<V2TXLivePlayer>>,
}

impl Probe {
    fn new(trigger: Trigger, action: Action, done: mpsc::Sender<Duration>) -> Arc<Self> {
        Arc::new(Self {
            trigger,
            action,
            armed: AtomicBool::new(false),
            fired: AtomicBool::new(false),
            returned: AtomicBool::new(false),
            after: AtomicUsize::new(0),
            calls: AtomicUsize::new(0),
            done: Mutex::new(Some(done)),
            pusher: Mutex::new(None),
            player: Mutex::new(None),
        })
    }

    /// Every callback starts here; the triggering one ends the session.
    fn callback(&self, kind: Trigger, player: Option<&V2TXLivePlayer>) {
        if self.returned.load(Ordering::Acquire) {
            self.after.fetch_add(1, Ordering::AcqRel);
        }
        self.calls.fetch_add(1, Ordering::AcqRel);
        if kind != self.trigger
            || !self.armed.load(Ordering::Acquire)
            || self.fired.swap(true, Ordering::AcqRel)
        {
            return;
        }
        let t = Instant::now();
        match (self.action, player) {
            (Action::Stop, Some(p)) => p.stop_play().unwrap(),
            (Action::Stop, None) => {
                // The app's handle, used from inside its own callback.
                let guard = self.pusher.lock().unwrap();
                guard.as_ref().expect("pusher").stop_push().unwrap();
            }
            (Action::Drop, Some(_)) => drop(self.player.lock().unwrap().take()),
            (Action::Drop, None) => drop(self.pusher.lock().unwrap().take()),
        }
        let took = t.elapsed();
        self.returned.store(true, Ordering::Release);
        if let Some(tx) = self.done.lock().unwrap().take() {
            let _ = tx.send(took);
        }
    }
}

impl V2TXLivePusherObserver for Probe {
    fn on_push_status_update(&self, status: PushStatus, _: &str, _: &str) {
        let kind = if status == PushStatus::ConnectSuccess {
            Trigger::PushConnected
        } else {
            Trigger::PlayVideoPlaying // never the pusher's trigger: only counted
        };
        self.callback(kind, None);
    }
    fn on_statistics_update(&self, _: &PusherStatistics) {
        self.callback(Trigger::PlayVideoPlaying, None);
    }
    fn on_capture_first_video_frame(&self) {
        self.callback(Trigger::PlayVideoPlaying, None);
    }
    fn on_gpu_context_created(&self, _: &Arc<GpuContext>) {
        self.callback(Trigger::PlayVideoPlaying, None);
    }
    fn on_process_video_frame(&self, frame: ProcessVideoFrame<'_>) {
        let kind = match frame {
            ProcessVideoFrame::Bytes { src, dst, .. } => {
                dst.copy_from_slice(src);
                Trigger::ProcessBytes
            }
            ProcessVideoFrame::Texture { .. } => Trigger::ProcessTexture,
            _ => return,
        };
        self.callback(kind, None);
    }
}

impl V2TXLivePlayerObserver for Probe {
    fn on_video_playing(&self, player: &V2TXLivePlayer, _: bool, _: &str) {
        self.callback(Trigger::PlayVideoPlaying, Some(player));
    }
    fn on_connected(&self, player: &V2TXLivePlayer, _: &str) {
        self.callback(Trigger::PushConnected, Some(player));
    }
    fn on_statistics_update(&self, player: &V2TXLivePlayer, _: &PlayerStatistics) {
        self.callback(Trigger::PushConnected, Some(player));
    }
    fn on_render_video_frame(&self, player: &V2TXLivePlayer, _: &VideoFrame) {
        self.callback(Trigger::RenderFrame, Some(player));
    }
    fn on_render_video_texture(&self, player: &V2TXLivePlayer, _: &wgpu::Texture, _: Timestamp) {
        self.callback(Trigger::RenderTexture, Some(player));
    }
    fn on_playout_audio_frame(&self, player: &V2TXLivePlayer, _: &AudioFrame) {
        self.callback(Trigger::AudioFrame, Some(player));
    }
}

fn small_quality() -> VideoEncoderParam {
    VideoEncoderParam::new(
        VideoResolution::R320x240,
        ResolutionMode::Landscape,
        15,
        300,
        0,
    )
    .unwrap()
}

/// Waits for the triggering callback's report, then watches for late callbacks.
fn assert_clean_end(probe: &Probe, done: mpsc::Receiver<Duration>, what: &str) {
    let took = done
        .recv_timeout(Duration::from_secs(20))
        .unwrap_or_else(|_| panic!("{what}: the triggering callback never ran or stop hung"));
    assert!(took < Duration::from_secs(1), "{what}: stop took {took:?}");
    // An observation window: anything still running on another thread would call in now.
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(
        probe.after.load(Ordering::Acquire),
        0,
        "{what}: callbacks arrived after stop returned"
    );
}

fn push_case(nginx: &Nginx, trigger: Trigger, action: Action) {
    let what = format!("pusher {trigger:?} {action:?}");
    let (tx, rx) = mpsc::channel();
    let probe = Probe::new(trigger, action, tx);
    let pusher = V2TXLivePusher::new();
    pusher.set_video_quality(small_quality()).unwrap();
    pusher.set_observer(Some(probe.clone()));
    match trigger {
        Trigger::ProcessBytes => pusher
            .enable_custom_video_process(true, PixelFormat::I420, BufferType::ByteBuffer)
            .unwrap(),
        Trigger::ProcessTexture => pusher
            .enable_custom_video_process(true, PixelFormat::Texture2D, BufferType::Texture)
            .unwrap_or_else(|e| panic!("{what}: no wgpu adapter ({e}); `cargo xtask setup` installs mesa-vulkan-drivers (lavapipe)")),
        _ => {}
    }
    pusher
        .start_push(&nginx.url(&format!("stop-{trigger:?}-{action:?}")))
        .unwrap();
    *probe.pusher.lock().unwrap() = Some(pusher);
    probe.armed.store(true, Ordering::Release);
    assert_clean_end(&probe, rx, &what);
    // After a stop from inside, the app's handle is still usable and idle.
    let handle = probe.pusher.lock().unwrap().take();
    if let Some(p) = handle {
        assert!(!p.is_pushing(), "{what}");
        p.stop_push().unwrap();
    }
}

fn play_case(nginx: &Nginx, trigger: Trigger, action: Action) {
    let what = format!("player {trigger:?} {action:?}");
    let (tx, rx) = mpsc::channel();
    let probe = Probe::new(trigger, action, tx);
    let player = V2TXLivePlayer::new();
    player.set_observer(Some(probe.clone()));
    match trigger {
        Trigger::RenderFrame => player
            .enable_observe_video_frame(true, PixelFormat::I420, BufferType::ByteBuffer)
            .unwrap(),
        Trigger::RenderTexture => player
            .enable_observe_video_frame(true, PixelFormat::Texture2D, BufferType::Texture)
            .unwrap_or_else(|e| panic!("{what}: no wgpu adapter ({e}); `cargo xtask setup` installs mesa-vulkan-drivers (lavapipe)")),
        Trigger::AudioFrame => player.enable_observe_audio_frame(true).unwrap(),
        _ => {}
    }
    player.start_play(&nginx.url("stop-source")).unwrap();
    *probe.player.lock().unwrap() = Some(player);
    probe.armed.store(true, Ordering::Release);
    assert_clean_end(&probe, rx, &what);
    let handle = probe.player.lock().unwrap().take();
    if let Some(p) = handle {
        assert!(!p.is_playing(), "{what}");
    }
}

#[test]
fn stop_and_drop_from_inside_every_pusher_callback() {
    let nginx = Nginx::start();
    for trigger in [
        Trigger::PushConnected,
        Trigger::ProcessBytes,
        Trigger::ProcessTexture,
    ] {
        for action in [Action::Stop, Action::Drop] {
            push_case(&nginx, trigger, action);
        }
    }
}

#[test]
fn stop_and_drop_from_inside_every_player_callback() {
    let nginx = Nginx::start();
    // The stream the players watch: onair's own pusher (test pattern and tone).
    let source = V2TXLivePusher::new();
    source.set_video_quality(small_quality()).unwrap();
    source.start_push(&nginx.url("stop-source")).unwrap();
    for trigger in [
        Trigger::PlayVideoPlaying,
        Trigger::RenderFrame,
        Trigger::RenderTexture,
        Trigger::AudioFrame,
    ] {
        for action in [Action::Stop, Action::Drop] {
            play_case(&nginx, trigger, action);
        }
    }
    source.stop_push().unwrap();
}

/// Two threads inside callbacks of the same player stop it at once: neither waits for the
/// other, both return, nothing arrives afterwards.
#[test]
fn concurrent_stops_from_two_callback_threads_do_not_deadlock() {
    let nginx = Nginx::start();
    let source = V2TXLivePusher::new();
    source.set_video_quality(small_quality()).unwrap();
    source.start_push(&nginx.url("stop-concurrent")).unwrap();

    /// The first two threads to call in meet, then both stop the player at once.
    struct Both {
        arrived: Mutex<Vec<std::thread::ThreadId>>,
        met: std::sync::Condvar,
        returned: AtomicUsize,
        after: AtomicUsize,
        done: Mutex<Option<mpsc::Sender<()>>>,
    }
    impl Both {
        fn hit(&self, p: &V2TXLivePlayer) {
            if self.returned.load(Ordering::Acquire) == 2 {
                self.after.fetch_add(1, Ordering::AcqRel);
            }
            let me = std::thread::current().id();
            let mut arrived = self.arrived.lock().unwrap();
            if arrived.len() >= 2 || arrived.contains(&me) {
                return;
            }
            arrived.push(me);
            self.met.notify_all();
            let (arrived, timeout) = self
                .met
                .wait_timeout_while(arrived, Duration::from_secs(10), |a| a.len() < 2)
                .unwrap();
            assert!(
                !timeout.timed_out(),
                "a second callback thread never called in"
            );
            drop(arrived);
            p.stop_play().unwrap();
            if self.returned.fetch_add(1, Ordering::AcqRel) == 1 {
                if let Some(tx) = self.done.lock().unwrap().take() {
                    let _ = tx.send(());
                }
            }
        }
    }
    impl V2TXLivePlayerObserver for Both {
        fn on_render_video_frame(&self, p: &V2TXLivePlayer, _: &VideoFrame) {
            self.hit(p);
        }
        fn on_statistics_update(&self, p: &V2TXLivePlayer, _: &PlayerStatistics) {
            self.hit(p);
        }
        fn on_video_playing(&self, p: &V2TXLivePlayer, _: bool, _: &str) {
            self.hit(p);
        }
    }
    let (tx, rx) = mpsc::channel();
    let both = Arc::new(Both {
        arrived: Mutex::new(Vec::new()),
        met: std::sync::Condvar::new(),
        returned: AtomicUsize::new(0),
        after: AtomicUsize::new(0),
        done: Mutex::new(Some(tx)),
    });
    let player = V2TXLivePlayer::new();
    player.set_observer(Some(both.clone()));
    player
        .enable_observe_video_frame(true, PixelFormat::I420, BufferType::ByteBuffer)
        .unwrap();
    player.start_play(&nginx.url("stop-concurrent")).unwrap();
    rx.recv_timeout(Duration::from_secs(20))
        .expect("both stops returned");
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(both.after.load(Ordering::Acquire), 0);
    drop(player);
    source.stop_push().unwrap();
}
