//! The recorded RTMP conversations of `tests/captures/rtmp/` (see its README): both byte
//! streams of each and the TCP read sizes they arrived in, for the replay tests and the parsing
//! bench.

/// C0 + C1 + C2 (and S0 + S1 + S2): the bytes before the chunk stream starts.
pub const HANDSHAKE: usize = 1 + 1536 + 1536;

/// One recorded conversation.
#[derive(Debug, Clone)]
pub struct Capture {
    /// Every byte the client sent.
    pub c2s: Vec<u8>,
    /// Every byte the server sent.
    pub s2c: Vec<u8>,
    /// The reads as they arrived: (direction `c2s` / `s2c`, length).
    pub segments: Vec<(String, usize)>,
}

impl Capture {
    /// Loads capture `name`; panics with the path when a file is missing or malformed.
    pub fn load(name: &str) -> Self {
        let dir = crate::workspace_root().join("tests/captures/rtmp");
        let read = |ext: &str| {
            let p = dir.join(format!("{name}.{ext}"));
            std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
        };
        let json: serde_json::Value = serde_json::from_slice(&read("json")).expect("capture JSON");
        let segments = json
            .as_object()
            .and_then(|o| o.values().next())
            .and_then(|v| v.as_array())
            .expect("a list of segments")
            .iter()
            .map(|s| {
                (
                    s[1].as_str().unwrap_or_default().to_string(),
                    s[3].as_u64().unwrap_or(0) as usize,
                )
            })
            .collect();
        Self {
            c2s: read("c2s"),
            s2c: read("s2c"),
            segments,
        }
    }

    /// The chunk stream of one direction (`c2s` or `s2c`), the handshake removed.
    pub fn chunks(&self, dir: &str) -> &[u8] {
        let data = if dir == "c2s" { &self.c2s } else { &self.s2c };
        &data[HANDSHAKE.min(data.len())..]
    }

    /// The recorded read sizes of one direction, with the handshake bytes removed.
    pub fn recorded_cuts(&self, dir: &str) -> Vec<usize> {
        let mut skip = HANDSHAKE;
        let mut cuts = Vec::new();
        for (_, len) in self.segments.iter().filter(|(d, _)| d == dir) {
            let drop = skip.min(*len);
            skip -= drop;
            if len - drop > 0 {
                cuts.push(len - drop);
            }
        }
        cuts
    }
}

/// `data` cut into pieces of the sizes in `cuts` (the rest, if any, as a last piece).
pub fn pieces<'a>(data: &'a [u8], cuts: &[usize]) -> Vec<&'a [u8]> {
    let mut at = 0;
    let mut out = Vec::new();
    for &c in cuts {
        let end = (at + c).min(data.len());
        out.push(&data[at..end]);
        at = end;
    }
    if at < data.len() {
        out.push(&data[at..]);
    }
    out
}
