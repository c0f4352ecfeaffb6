//! Cameras through nokhwa (V4L2 on Linux).
//!
//! [`Camera::start`] opens the device on its own capture thread (nokhwa's camera handle stays on
//! the thread that opened it), negotiates the format closest to the wanted size and rate among
//! YUYV, NV12 and MJPEG, and then converts every frame to I420 and hands it to the sink. Frames
//! arriving faster than the wanted rate are skipped (pacing). The open's result comes back to
//! the caller before `start` returns, so a missing or busy camera is a [`CaptureError`] at once.

use crate::camera_format::{camera_frame_to_i420, CameraPixelFormat};
use crate::error::{CaptureError, CaptureResult};
use nokhwa::utils::{
    ApiBackend, CameraFormat, CameraIndex, FrameFormat, RequestedFormat, RequestedFormatType,
};
use onair_core::VideoFrame;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// A camera the system offers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CameraInfo {
    /// What `start_camera` takes: the device index as text (`"0"`).
    pub id: String,
    /// The device's name.
    pub name: String,
    /// The backend's description (driver, bus).
    pub description: String,
}

/// Lists the cameras. No camera is an empty list; a backend that cannot even be queried is
/// an error.
pub fn list_cameras() -> CaptureResult<Vec<CameraInfo>> {
    if cfg!(target_os = "linux") && !any_video_device() {
        return Ok(Vec::new());
    }
    let infos = nokhwa::query(ApiBackend::Auto)
        .map_err(|e| CaptureError::StartFailed(format!("cannot list cameras: {e}")))?;
    Ok(infos
        .into_iter()
        .map(|i| CameraInfo {
            id: i.index().as_string(),
            name: i.human_name(),
            description: i.description().to_string(),
        })
        .collect())
}

/// `true` if /dev has a V4L2 capture node at all.
fn any_video_device() -> bool {
    std::fs::read_dir("/dev").is_ok_and(|d| {
        d.flatten()
            .any(|e| e.file_name().to_string_lossy().starts_with("video"))
    })
}

const WANTED_FORMATS: [FrameFormat; 3] = [FrameFormat::YUYV, FrameFormat::NV12, FrameFormat::MJPEG];

fn to_pixel_format(f: FrameFormat) -> Option<CameraPixelFormat> {
    match f {
        FrameFormat::YUYV => Some(CameraPixelFormat::Yuyv),
        FrameFormat::NV12 => Some(CameraPixelFormat::Nv12),
        FrameFormat::MJPEG => Some(CameraPixelFormat::Mjpeg),
        _ => None,
    }
}

/// Maps nokhwa's open errors to missing / busy / failed, keeping its text.
fn classify(id: &str, e: &nokhwa::NokhwaError) -> CaptureError {
    let text = e.to_string();
    let lower = text.to_lowercase();
    if lower.contains("busy") || lower.contains("ebusy") {
        CaptureError::Occupied(format!("camera {id} is in use by another program: {text}"))
    } else if lower.contains("no such") || lower.contains("not found") || lower.contains("enoent") {
        CaptureError::NotFound(format!("no camera {id}: {text}"))
    } else {
        CaptureError::StartFailed(format!("camera {id} could not be started: {text}"))
    }
}

/// A running camera capture. Dropping it (or [`Camera::stop`]) stops the thread and closes the
/// device; no frame reaches the sink afterwards.
#[derive(Debug)]
pub struct Camera {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
    format: (u32, u32, u32, CameraPixelFormat),
}

impl Camera {
    /// Opens camera `id` (an index from [`list_cameras`], `""` for the first) near
    /// `width` x `height` at `fps`, and sends every converted frame to `sink`.
    pub fn start(
        id: &str,
        width: u32,
        height: u32,
        fps: u32,
        mut sink: impl FnMut(VideoFrame) + Send + 'static,
    ) -> CaptureResult<Self> {
        let cameras = list_cameras()?;
        let id = if id.is_empty() { "0" } else { id };
        let Some(info) = cameras.iter().find(|c| c.id == id || c.name == id) else {
            return Err(CaptureError::NotFound(if cameras.is_empty() {
                format!("no camera {id}: this machine has no camera")
            } else {
                let ids: Vec<_> = cameras
                    .iter()
                    .map(|c| format!("{} ({})", c.id, c.name))
                    .collect();
                format!("no camera {id}; cameras here: {}", ids.join(", "))
            }));
        };
        let index = match info.id.parse::<u32>() {
            Ok(n) => CameraIndex::Index(n),
            Err(_) => CameraIndex::String(info.id.clone()),
        };
        let label = info.id.clone();
        let stop = Arc::new(AtomicBool::new(false));
        let (opened_tx, opened_rx) = std::sync::mpsc::sync_channel(1);
        let stop_flag = Arc::clone(&stop);
        let thread = std::thread::Builder::new()
            .name("onair-camera".into())
            .spawn(move || {
                let wanted = CameraFormat::new_from(width, height, FrameFormat::YUYV, fps.max(1));
                let request = RequestedFormat::with_formats(
                    RequestedFormatType::Closest(wanted),
                    &WANTED_FORMATS,
                );
                let mut cam = match nokhwa::Camera::new(index, request)
                    .and_then(|mut c| c.open_stream().map(|()| c))
                {
                    Ok(c) => c,
                    Err(e) => {
                        let _ = opened_tx.send(Err(classify(&label, &e)));
                        return;
                    }
                };
                let got = cam.camera_format();
                let Some(pixel) = to_pixel_format(got.format()) else {
                    let _ = opened_tx.send(Err(CaptureError::StartFailed(format!(
                        "camera {label} offers {} only; onair reads YUYV, NV12 and MJPEG",
                        got.format()
                    ))));
                    return;
                };
                let _ = opened_tx.send(Ok((got.width(), got.height(), got.frame_rate(), pixel)));
                let interval = Duration::from_micros(1_000_000 / u64::from(fps.max(1)));
                let mut next_due = Instant::now();
                let mut warned = false;
                while !stop_flag.load(Ordering::Acquire) {
                    let raw = match cam.frame_raw() {
                        Ok(r) => r,
                        Err(e) => {
                            tracing::warn!("camera {label}: {e}");
                            std::thread::sleep(Duration::from_millis(10));
                            continue;
                        }
                    };
                    let now = Instant::now();
                    if now < next_due {
                        continue; // faster than the wanted rate: skip
                    }
                    next_due = (next_due + interval).max(now - interval);
                    match camera_frame_to_i420(pixel, got.width(), got.height(), &raw) {
                        Ok(frame) => sink(frame),
                        Err(e) if !warned => {
                            warned = true;
                            tracing::warn!("camera {label}: frame dropped: {e}");
                        }
                        Err(_) => {}
                    }
                }
                let _ = cam.stop_stream();
            })
            .map_err(|e| {
                CaptureError::StartFailed(format!("cannot start the camera thread: {e}"))
            })?;
        match opened_rx.recv() {
            Ok(Ok(format)) => Ok(Self {
                stop,
                thread: Some(thread),
                format,
            }),
            Ok(Err(e)) => {
                let _ = thread.join();
                Err(e)
            }
            Err(_) => {
                let _ = thread.join();
                Err(CaptureError::StartFailed(format!(
                    "camera {id}: the capture thread ended"
                )))
            }
        }
    }

    /// The negotiated width, height, frame rate and pixel format.
    pub fn format(&self) -> (u32, u32, u32, CameraPixelFormat) {
        self.format
    }

    /// Stops capturing and closes the device (joins the capture thread).
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        self.stop.store(true, Ordering::Release);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Camera {
    fn drop(&mut self) {
        self.shutdown();
    }
}
