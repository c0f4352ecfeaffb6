//! The pusher's local preview: the render view (`set_render_view`, mirror, rotation, fill mode,
//! debug overlay) and `on_render_video_frame`, while pushing and before.
//!
//! While a push runs, its video thread shows each frame as the encoder gets it (after the
//! process hook and the watermark). Before `start_push` and between pushes, a preview session
//! of two threads stands in, so the app sees its camera, screen or test pattern with nothing
//! sent: a source thread (the same test pattern / still image source a push uses; cameras and
//! screen captures send into its channel through the routes) and a preview thread that scales
//! and pads the frames to the preset's picture, applies the watermark and shows them. The
//! process hook runs with the encoder only (it belongs to the push's GPU context). The preview
//! session runs while a view is set or custom render is on and no push runs; it stops with its
//! own callback gate, so no `on_render_video_frame` arrives after the call that ended it.
//!
//! Mirror: the view shows the capture mirrored as `set_render_mirror` says (Auto: cameras are
//! mirrored, as a front camera is, screens and the test pattern not), independently of
//! `set_encoder_mirror`, which changes only what viewers and `on_render_video_frame` get.

use super::devices::Routes;
use super::observer::{PusherEvent, V2TXLivePusherObserver};
use super::Settings;
use crate::error::LiveResult;
use crate::render::ViewSlot;
use crate::session::{CallbackGate, Threads};
use onair_codec::convert::{to_encoder_i420_fitted, AspectFit, RenderBuffers};
use onair_core::channel::{video_channel, VideoSender};
use onair_core::{MirrorType, VideoFrame};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// The preview settings and the view, shared by the pusher, its push sessions and the preview
/// session.
#[derive(Debug, Default)]
pub(crate) struct PreviewShared {
    pub(crate) view: ViewSlot,
    pub(crate) render_mirror: Mutex<MirrorType>,
}

impl PreviewShared {
    /// Whether the view mirrors a frame: the render mirror for this source, undoing the encoder
    /// mirror already in the frame (`encoder_mirrored`).
    pub(crate) fn view_mirror(&self, camera: bool, encoder_mirrored: bool) -> bool {
        let wanted = match *self
            .render_mirror
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
        {
            MirrorType::Enable => true,
            MirrorType::Disable => false,
            // Auto: a (front) camera is mirrored, other sources not.
            _ => camera,
        };
        wanted != encoder_mirrored
    }

    /// Shows `frame` in the view (with the mirror for this source); `pushing` says what the
    /// overlay shows before the first statistics.
    pub(crate) fn show(
        &self,
        frame: &VideoFrame,
        camera: bool,
        encoder_mirrored: bool,
        pushing: bool,
    ) {
        self.view
            .set_mirror(self.view_mirror(camera, encoder_mirrored));
        self.view.show(frame);
        if self.view.debug_needs_text() {
            let note = if pushing {
                "statistics every 2 s"
            } else {
                "preview, not pushing"
            };
            self.view.set_debug_text(crate::render::first_text(
                frame.width(),
                frame.height(),
                note,
            ));
        }
    }
}

/// A running preview session.
pub(crate) struct Preview {
    controls: Arc<super::Controls>,
    gate: Arc<CallbackGate>,
    threads: Threads,
    tx: Arc<VideoSender>,
}

impl std::fmt::Debug for Preview {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Preview")
    }
}

impl Preview {
    /// Starts previewing with `settings` (frames from the routes' devices, else the built-in
    /// source).
    pub(crate) fn start(
        settings: &Settings,
        observer: Option<Arc<dyn V2TXLivePusherObserver>>,
        routes: &Arc<Routes>,
        shared: &Arc<PreviewShared>,
    ) -> LiveResult<Self> {
        let target = settings.video.resolve(settings.alignment);
        let watermark = settings
            .watermark
            .as_ref()
            .and_then(|w| w.render(target.picture))
            .map(Arc::new);
        let (tx, rx) = video_channel(3);
        let tx = Arc::new(tx);
        let gate = Arc::new(CallbackGate::default());
        let mut threads = Threads::default();
        *super::lock(&routes.video) = Some(Arc::clone(&tx));
        // The built-in source's controls; their stop flag is the preview's.
        let controls = Arc::new(super::Controls::default());
        {
            let (source, tx, c, r) = (
                settings.source.clone(),
                Arc::clone(&tx),
                Arc::clone(&controls),
                Arc::clone(routes),
            );
            // Source warnings (a still image that does not load) surface when the push starts.
            let (events, _callbacks, _stop) = crate::session::lanes::<PusherEvent>();
            threads.spawn("onair-preview-source", move || {
                super::pipeline::video_source(source, target, &tx, &c, &events, &r, Instant::now());
            })?;
        }
        {
            let (controls, gate, routes, shared) = (
                Arc::clone(&controls),
                Arc::clone(&gate),
                Arc::clone(routes),
                Arc::clone(shared),
            );
            let format = settings.render_format;
            threads.spawn("onair-preview", move || {
                let mut render_buffers = RenderBuffers::default();
                while let Some(frame) = rx.recv() {
                    if controls.stopped() {
                        return;
                    }
                    let screen = routes.screen_on.load(Ordering::Acquire);
                    let camera = routes.camera_on.load(Ordering::Acquire) && !screen;
                    let fit = if screen {
                        AspectFit::Letterbox
                    } else {
                        AspectFit::Stretch
                    };
                    let Ok(i420) =
                        to_encoder_i420_fitted(&frame, target.picture, target.size, false, fit)
                    else {
                        continue;
                    };
                    let i420 = match &watermark {
                        Some(w) => w.apply(&i420),
                        None => i420,
                    };
                    shared.show(&i420, camera, false, false);
                    if let (Some(format), Some(o)) = (format, observer.as_ref()) {
                        let shown = render_buffers.convert(&i420, format);
                        if let Ok(f) = shown {
                            gate.deliver(|| o.on_render_video_frame(&f));
                        }
                    }
                }
            })?;
        }
        Ok(Self {
            controls,
            gate,
            threads,
            tx,
        })
    }

    /// Stops the preview: its frames leave the routes, no callback runs once this returns,
    /// every thread is joined (but the caller's own, from inside a callback).
    pub(crate) fn stop(self, routes: &Routes) {
        {
            let mut video = super::lock(&routes.video);
            if video.as_ref().is_some_and(|v| Arc::ptr_eq(v, &self.tx)) {
                video.take();
            }
        }
        self.controls.stop.stop();
        self.gate.close();
        drop(self.tx);
        self.threads.join();
        self.gate.finish(true);
    }
}
