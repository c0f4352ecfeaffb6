//! The demo's PNG plot: video bitrate sent, frames per second sent and rendered, and
//! glass-to-glass latency, over time, drawn with plotters (the font is DejaVu Sans, embedded
//! from `assets/fonts`, so no system font is needed).

use plotters::prelude::*;
use plotters::style::{register_font, FontStyle};
use std::path::Path;

static FONT: &[u8] = include_bytes!("../../../assets/fonts/DejaVuSans.ttf");

/// One second of the demo.
#[derive(Debug, Clone, Copy, Default)]
pub struct Sample {
    /// Seconds since the push started.
    pub t: f64,
    /// Video bitrate the pusher sent, kbps.
    pub video_kbps: f64,
    /// Frames per second the pusher encoded.
    pub sent_fps: f64,
    /// Frames per second the player rendered.
    pub rendered_fps: f64,
    /// Median glass-to-glass latency of that second's pictures, ms (NaN when none; NaN
    /// values are left out of the plot, as are the sent values before the first report).
    pub latency_ms: f64,
}

/// One line: legend, colour, points.
type Line = (&'static str, RGBColor, Vec<(f64, f64)>);
/// One panel: title, unit, y maximum, lines.
type Panel = (&'static str, &'static str, f64, Vec<Line>);

fn range(values: impl Iterator<Item = f64>, floor: f64) -> f64 {
    values.filter(|v| v.is_finite()).fold(floor, f64::max) * 1.15
}

/// Draws the three panels into `path` (PNG, 1000x780).
pub fn draw(samples: &[Sample], path: &Path) -> Result<(), String> {
    let _ = register_font("sans-serif", FontStyle::Normal, FONT);
    let err = |e: &dyn std::fmt::Display| format!("plot {}: {e}", path.display());
    // Drawn into memory and written with the `image` crate the CLI already uses, so plotters
    // needs no image encoder of its own (that was a second, older `image` in the build).
    let (w, h) = (1000u32, 780u32);
    let mut rgb = vec![0u8; (w * h * 3) as usize];
    render(samples, &mut rgb, (w, h), &err)?;
    image::save_buffer(path, &rgb, w, h, image::ExtendedColorType::Rgb8).map_err(|e| err(&e))
}

/// Draws the three panels into `rgb` (`size`, 3 bytes a pixel).
fn render(
    samples: &[Sample],
    rgb: &mut [u8],
    size: (u32, u32),
    err: &dyn Fn(&dyn std::fmt::Display) -> String,
) -> Result<(), String> {
    let root = BitMapBackend::with_buffer(rgb, size).into_drawing_area();
    root.fill(&WHITE).map_err(|e| err(&e))?;
    let panels = root.split_evenly((3, 1));
    let t_max = samples.last().map_or(1.0, |s| s.t).max(1.0);
    let series: [Panel; 3] = [
        (
            "Video bitrate sent",
            "kbps",
            range(samples.iter().map(|s| s.video_kbps), 100.0),
            vec![(
                "sent",
                BLUE,
                samples.iter().map(|s| (s.t, s.video_kbps)).collect(),
            )],
        ),
        (
            "Frames per second",
            "fps",
            range(samples.iter().map(|s| s.sent_fps.max(s.rendered_fps)), 10.0),
            vec![
                (
                    "sent",
                    BLUE,
                    samples.iter().map(|s| (s.t, s.sent_fps)).collect(),
                ),
                (
                    "rendered",
                    RED,
                    samples.iter().map(|s| (s.t, s.rendered_fps)).collect(),
                ),
            ],
        ),
        (
            "Glass-to-glass latency (median per second)",
            "ms",
            range(samples.iter().map(|s| s.latency_ms), 100.0),
            vec![(
                "latency",
                RGBColor(0, 140, 0),
                samples.iter().map(|s| (s.t, s.latency_ms)).collect(),
            )],
        ),
    ];
    for (area, (title, unit, y_max, lines)) in panels.iter().zip(series) {
        let mut chart = ChartBuilder::on(area)
            .caption(title, ("sans-serif", 20))
            .margin(10)
            .x_label_area_size(30)
            .y_label_area_size(55)
            .build_cartesian_2d(0.0..t_max, 0.0..y_max)
            .map_err(|e| err(&e))?;
        chart
            .configure_mesh()
            .x_desc("seconds")
            .y_desc(unit)
            .label_style(("sans-serif", 13))
            .draw()
            .map_err(|e| err(&e))?;
        for (name, color, points) in lines {
            let points: Vec<(f64, f64)> =
                points.into_iter().filter(|(_, y)| y.is_finite()).collect();
            chart
                .draw_series(LineSeries::new(points, color.stroke_width(2)))
                .map_err(|e| err(&e))?
                .label(name)
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(2))
                });
        }
        chart
            .configure_series_labels()
            .label_font(("sans-serif", 13))
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .draw()
            .map_err(|e| err(&e))?;
    }
    root.present().map_err(|e| err(&e))
}
