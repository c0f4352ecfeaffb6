//! `onair sources [--json] [--thumbnails DIR]`: the screens, windows, cameras and microphones
//! this machine offers, with the ids `onair push --source` and `--microphone` take. Each list
//! is independent: a machine without a display still lists its microphones (and says why the
//! screens are missing).

use clap::Args;
use serde_json::{json, Value};
use std::process::ExitCode;

/// Sources arguments.
#[derive(Debug, Args)]
pub struct SourcesArgs {
    /// Print JSON (`{"screens": [...], "windows": [...], "cameras": [...], "microphones":
    /// [...]}`, each list with `error` when it could not be read).
    #[arg(long)]
    pub json: bool,
    /// Write each screen's and window's thumbnail (320x180 at most) as PNG into this folder.
    #[arg(long)]
    pub thumbnails: Option<std::path::PathBuf>,
}

/// Runs `onair sources`.
pub fn run(args: &SourcesArgs) -> ExitCode {
    let pusher = onair::V2TXLivePusher::new();
    let thumb = if args.thumbnails.is_some() {
        (320, 180)
    } else {
        (0, 0)
    };
    let (mut screens, mut windows, mut errors) = (Vec::new(), Vec::new(), json!({}));
    match pusher.get_screen_capture_sources(thumb, (0, 0)) {
        Ok(list) => {
            for s in list {
                if let (Some(dir), Some(t)) = (&args.thumbnails, &s.thumbnail) {
                    let name = s.id.to_string().replace(':', "_");
                    let path = dir.join(format!("{name}.png"));
                    let saved = std::fs::create_dir_all(dir).is_ok()
                        && image::RgbaImage::from_raw(t.width, t.height, t.data.clone())
                            .is_some_and(|img| img.save(&path).is_ok());
                    if !saved {
                        eprintln!("warning: could not write {}", path.display());
                    }
                }
                let entry = json!({
                    "id": s.id.to_string(),
                    "name": s.name,
                    "x": s.rect.x, "y": s.rect.y, "width": s.rect.width, "height": s.rect.height,
                    "minimized": s.minimized,
                });
                match s.id {
                    onair::SourceId::Screen(_) => screens.push(entry),
                    onair::SourceId::Window(_) => windows.push(entry),
                }
            }
        }
        Err(e) => errors["screens"] = Value::from(e.message),
    }
    let cameras: Vec<Value> = match onair::list_cameras() {
        Ok(list) => list
            .into_iter()
            .map(|c| json!({"id": c.id, "name": c.name, "description": c.description}))
            .collect(),
        Err(e) => {
            errors["cameras"] = Value::from(e.to_string());
            Vec::new()
        }
    };
    let microphones: Vec<Value> = match onair::list_microphones() {
        Ok(list) => list
            .into_iter()
            .map(|m| json!({"id": m.id, "name": m.id, "default": m.is_default}))
            .collect(),
        Err(e) => {
            errors["microphones"] = Value::from(e.to_string());
            Vec::new()
        }
    };
    if args.json {
        let mut out = json!({
            "screens": screens, "windows": windows, "cameras": cameras,
            "microphones": microphones,
        });
        if errors.as_object().is_some_and(|o| !o.is_empty()) {
            out["errors"] = errors;
        }
        println!("{out:#}");
        return ExitCode::SUCCESS;
    }
    let section = |title: &str, items: &[Value], key: &str| {
        println!("{title}:");
        if let Some(e) = errors[key].as_str() {
            println!("  (unavailable: {e})");
        } else if items.is_empty() {
            println!("  (none)");
        }
        for i in items {
            let mut line = format!("  {:<20} {}", i["id"].as_str().unwrap_or(""), i["name"]);
            if i["width"].is_number() {
                line.push_str(&format!(
                    "  {}x{} at {},{}",
                    i["width"], i["height"], i["x"], i["y"]
                ));
            }
            if i["minimized"] == true {
                line.push_str("  (minimised)");
            }
            println!("{line}");
        }
    };
    section("screens", &screens, "screens");
    section("windows", &windows, "screens");
    section("cameras", &cameras, "cameras");
    section("microphones", &microphones, "microphones");
    ExitCode::SUCCESS
}
