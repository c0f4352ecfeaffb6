//! The client session (RTMP 1.0 §7.2-7.3, see `docs/rtmp.md`): connect with the tcUrl and the
//! Enhanced RTMP `fourCcList`, then createStream and publish (after releaseStream / FCPublish,
//! as OBS and FFmpeg do) or play; media out (publish) or in (play, whatever the message stream
//! id: node-media-server sends media on stream id 0); pings for RTT; deleteStream on close.
//!
//! Sans-I/O in str0m's shape: [`ClientSession::handle_input`] takes `now` and received bytes,
//! [`ClientSession::poll_event`] yields what happened, [`ClientSession::take_output`] the bytes
//! to write. Nothing here reads a clock or a socket.

use super::chunk_decoder::Limits;
use super::chunk_encoder::MessageHeader;
use super::command::{fourcc_list, object, string, Command};
use super::error::EngineError;
use super::link::{
    Link, CSID_AUDIO, CSID_COMMAND, CSID_CONTROL, CSID_DATA, CSID_STREAM, CSID_VIDEO,
};
use super::message::{split_aggregate, type_id, Message, UserControl};
use bytes::{BufMut, Bytes, BytesMut};
use onair_flv::{FlvTag, TagType};
use rml_amf0::Amf0Value;
use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// Connection settings of a client session.
#[derive(Debug, Clone, PartialEq)]
pub struct ClientConfig {
    /// The RTMP application (`live`).
    pub app: String,
    /// The tcUrl (`rtmp://host:port/app?query`).
    pub tc_url: String,
    /// The flashVer sent in connect.
    pub flash_ver: String,
    /// Outbound chunk size, announced right after the handshake.
    pub chunk_size: u32,
    /// Enhanced RTMP FourCCs announced in connect (empty: a legacy client).
    pub fourcc_list: Vec<String>,
    /// Caps on what the server may make the session hold.
    pub limits: Limits,
    /// Buffer length announced to the server when playing, ms.
    pub buffer_ms: u32,
}

impl ClientConfig {
    /// Settings for `app` at `tc_url` with onair's defaults.
    pub fn new(app: &str, tc_url: &str) -> Self {
        Self {
            app: app.to_string(),
            tc_url: tc_url.to_string(),
            flash_ver: "FMLE/3.0 (compatible; onair)".into(),
            chunk_size: 4096,
            fourcc_list: Vec::new(),
            limits: Limits::default(),
            buffer_ms: 1000,
        }
    }
}

/// What the client wants to do once connected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientRole {
    /// Publish live.
    Publish,
    /// Play.
    Play,
}

/// An `onStatus` or `_error` information object.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Status {
    /// `status`, `warning` or `error`.
    pub level: String,
    /// e.g. `NetStream.Publish.Start`.
    pub code: String,
    /// The server's description.
    pub description: String,
}

impl Status {
    fn from_command(c: &Command) -> Self {
        Self {
            level: c.info_str("level").unwrap_or_default().to_string(),
            code: c.info_str("code").unwrap_or_default().to_string(),
            description: c.info_str("description").unwrap_or_default().to_string(),
        }
    }
}

/// What a client session reports.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum ClientEvent {
    /// connect succeeded; the server's Enhanced RTMP FourCCs (empty for a legacy server).
    Connected {
        /// FourCCs from the server's `_result`.
        fourcc_list: Vec<String>,
    },
    /// The server accepted publish (NetStream.Publish.Start) or play (NetStream.Play.Start, or
    /// the first media).
    Started,
    /// A refusal before [`ClientEvent::Started`]: `_error` or an error-level onStatus.
    Rejected {
        /// Which command: `connect`, `createStream`, `publish` or `play`.
        stage: &'static str,
        /// The status.
        status: Status,
    },
    /// Any other onStatus (after start, or non-error before it).
    Status(Status),
    /// Audio, video or script data (play).
    Media(FlvTag),
    /// The server's answer to a ping.
    Rtt(Duration),
    /// Stream EOF from the server (user control 1).
    StreamEof,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Connecting,
    CreatingStream,
    Starting,
    Started,
    Closed,
}

const TID_CONNECT: f64 = 1.0;

/// A client session.
#[derive(Debug)]
pub struct ClientSession {
    link: Link,
    config: ClientConfig,
    role: ClientRole,
    stream: String,
    state: State,
    stream_id: u32,
    next_tid: f64,
    create_tid: f64,
    events: VecDeque<ClientEvent>,
    epoch: Instant,
}

fn ms_since(epoch: Instant, now: Instant) -> u32 {
    now.saturating_duration_since(epoch).as_millis() as u32
}

impl ClientSession {
    /// A session that will `role` the stream `stream` (with its query, e.g. `?txSecret=..`).
    /// Queues Set Chunk Size and connect right away.
    pub fn new(config: ClientConfig, role: ClientRole, stream: &str, now: Instant) -> Self {
        let mut link = Link::new(config.limits);
        link.set_chunk_size(config.chunk_size);
        let mut props = vec![
            ("app", string(&config.app)),
            ("type", string("nonprivate")),
            ("flashVer", string(&config.flash_ver)),
            ("tcUrl", string(&config.tc_url)),
        ];
        if role == ClientRole::Play {
            props.extend([
                ("fpad", Amf0Value::Boolean(false)),
                ("capabilities", Amf0Value::Number(15.0)),
                ("audioCodecs", Amf0Value::Number(4071.0)),
                ("videoCodecs", Amf0Value::Number(252.0)),
                ("videoFunction", Amf0Value::Number(1.0)),
            ]);
        }
        if !config.fourcc_list.is_empty() {
            props.push((
                "fourCcList",
                Amf0Value::StrictArray(config.fourcc_list.iter().map(|s| string(s)).collect()),
            ));
        }
        let connect = Command::new("connect", TID_CONNECT, object(props), vec![]);
        link.send(CSID_COMMAND, 0, 0, &Message::Command(connect));
        Self {
            link,
            config,
            role,
            stream: stream.to_string(),
            state: State::Connecting,
            stream_id: 0,
            next_tid: 2.0,
            create_tid: 0.0,
            events: VecDeque::new(),
            epoch: now,
        }
    }

    fn tid(&mut self) -> f64 {
        let t = self.next_tid;
        self.next_tid += 1.0;
        t
    }

    fn command(&mut self, csid: u32, stream_id: u32, name: &str, tid: f64, args: Vec<Amf0Value>) {
        let c = Command::new(name, tid, Amf0Value::Null, args);
        self.link.send(csid, 0, stream_id, &Message::Command(c));
    }

    /// Feeds received bytes (copied; see [`ClientSession::handle_bytes`]).
    pub fn handle_input(&mut self, now: Instant, data: &[u8]) -> Result<(), EngineError> {
        self.link.push_input(data);
        self.process(now)
    }

    /// Feeds received bytes without copying them: media that arrived in one chunk comes out
    /// as a slice of `data`.
    pub fn handle_bytes(&mut self, now: Instant, data: Bytes) -> Result<(), EngineError> {
        self.link.push_input_bytes(data);
        self.process(now)
    }

    fn process(&mut self, now: Instant) -> Result<(), EngineError> {
        while let Some((raw, msg)) = self.link.next()? {
            match msg {
                Message::Command(c) => self.on_command(c),
                Message::UserControl(UserControl::PingResponse(t)) => {
                    let rtt = ms_since(self.epoch, now).wrapping_sub(t);
                    if rtt < 60_000 {
                        self.events
                            .push_back(ClientEvent::Rtt(Duration::from_millis(u64::from(rtt))));
                    }
                }
                Message::UserControl(UserControl::StreamEof(_)) => {
                    self.events.push_back(ClientEvent::StreamEof)
                }
                Message::Audio(b) => self.media(TagType::Audio, raw.timestamp, b),
                Message::Video(b) => self.media(TagType::Video, raw.timestamp, b),
                Message::Data(b) => {
                    let body = strip_set_data_frame(b);
                    if is_script_to_deliver(&body) {
                        self.media(TagType::Script, raw.timestamp, body);
                    }
                }
                Message::Aggregate(b) => {
                    for (t, ts, body) in split_aggregate(raw.timestamp, &b) {
                        let kind = match t {
                            type_id::AUDIO => TagType::Audio,
                            type_id::VIDEO => TagType::Video,
                            type_id::DATA_AMF0 => TagType::Script,
                            _ => continue,
                        };
                        self.media(kind, ts, body);
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }

    fn media(&mut self, kind: TagType, timestamp: u32, body: Bytes) {
        if self.role != ClientRole::Play || matches!(self.state, State::Connecting | State::Closed)
        {
            return;
        }
        if self.state != State::Started && kind != TagType::Script {
            // Media before Play.Start: some servers skip the status.
            self.state = State::Started;
            self.events.push_back(ClientEvent::Started);
        }
        self.events
            .push_back(ClientEvent::Media(FlvTag::new(kind, timestamp, body)));
    }

    fn reject(&mut self, stage: &'static str, status: Status) {
        self.state = State::Closed;
        self.events
            .push_back(ClientEvent::Rejected { stage, status });
    }

    fn on_command(&mut self, c: Command) {
        match (c.name.as_str(), self.state) {
            ("_result", State::Connecting) if c.transaction_id == TID_CONNECT => {
                let fourccs = fourcc_list(&c.object);
                self.events.push_back(ClientEvent::Connected {
                    fourcc_list: fourccs,
                });
                self.state = State::CreatingStream;
                if self.role == ClientRole::Publish {
                    let name = string(&self.stream);
                    let t = self.tid();
                    self.command(CSID_COMMAND, 0, "releaseStream", t, vec![name.clone()]);
                    let t = self.tid();
                    self.command(CSID_COMMAND, 0, "FCPublish", t, vec![name]);
                }
                self.create_tid = self.tid();
                self.command(CSID_COMMAND, 0, "createStream", self.create_tid, vec![]);
            }
            ("_error", State::Connecting) if c.transaction_id == TID_CONNECT => {
                self.reject("connect", Status::from_command(&c))
            }
            ("_result", State::CreatingStream) if c.transaction_id == self.create_tid => {
                let id = c.args.iter().find_map(|a| match a {
                    Amf0Value::Number(n) => Some(*n),
                    _ => None,
                });
                self.stream_id = id.filter(|n| *n >= 0.0 && *n < 1e9).map_or(1, |n| n as u32);
                self.state = State::Starting;
                let name = string(&self.stream);
                match self.role {
                    ClientRole::Publish => {
                        let t = self.tid();
                        self.command(
                            CSID_STREAM,
                            self.stream_id,
                            "publish",
                            t,
                            vec![name, string("live")],
                        );
                    }
                    ClientRole::Play => {
                        let t = self.tid();
                        self.command(
                            CSID_STREAM,
                            self.stream_id,
                            "play",
                            t,
                            vec![name, Amf0Value::Number(-2000.0)],
                        );
                        let buffer = UserControl::SetBufferLength {
                            stream_id: self.stream_id,
                            ms: self.config.buffer_ms,
                        };
                        self.link
                            .send(CSID_CONTROL, 0, 0, &Message::UserControl(buffer));
                    }
                }
            }
            ("_error", State::CreatingStream) if c.transaction_id == self.create_tid => {
                self.reject("createStream", Status::from_command(&c))
            }
            ("onStatus", _) => {
                let status = Status::from_command(&c);
                let started = match self.role {
                    ClientRole::Publish => status.code == "NetStream.Publish.Start",
                    ClientRole::Play => status.code == "NetStream.Play.Start",
                };
                if self.state == State::Starting && started {
                    self.state = State::Started;
                    self.events.push_back(ClientEvent::Started);
                } else if self.state == State::Starting && status.level == "error" {
                    let stage = match self.role {
                        ClientRole::Publish => "publish",
                        ClientRole::Play => "play",
                    };
                    self.reject(stage, status);
                } else {
                    self.events.push_back(ClientEvent::Status(status));
                }
            }
            _ => {}
        }
    }

    /// The next event.
    pub fn poll_event(&mut self) -> Option<ClientEvent> {
        self.events.pop_front()
    }

    /// Moves the bytes to write into `into`, in order.
    pub fn take_output(&mut self, into: &mut VecDeque<Bytes>) {
        self.link.take_output(into);
    }

    /// Bytes waiting in [`ClientSession::take_output`].
    pub fn output_len(&self) -> usize {
        self.link.output_len()
    }

    /// `true` once publish or play was accepted (and before close).
    pub fn is_started(&self) -> bool {
        self.state == State::Started
    }

    /// The message stream id createStream returned (0 before).
    pub fn stream_id(&self) -> u32 {
        self.stream_id
    }

    /// Bytes received from the server.
    pub fn bytes_received(&self) -> u64 {
        self.link.received()
    }

    /// Queues one FLV tag for the server (publish only, after start); returns the bytes it
    /// takes on the wire. Script tags go out as `@setDataFrame` data messages.
    pub fn send_media(&mut self, tag: &FlvTag) -> Result<usize, EngineError> {
        if self.role != ClientRole::Publish || self.state != State::Started {
            return Err(EngineError::InvalidState(
                "media can be sent only once publishing has started".into(),
            ));
        }
        let before = self.link.output_len();
        let media = match tag.tag_type {
            TagType::Audio => Some((CSID_AUDIO, type_id::AUDIO)),
            TagType::Video => Some((CSID_VIDEO, type_id::VIDEO)),
            _ => None,
        };
        if let Some((csid, type_id)) = media {
            // The tag body itself goes out (sliced into chunks, not copied).
            let header = MessageHeader {
                csid,
                timestamp: tag.timestamp_ms,
                type_id,
                stream_id: self.stream_id,
            };
            self.link.send_bytes(&header, &tag.data);
            return Ok(self.link.output_len() - before);
        }
        let mut b = BytesMut::with_capacity(16 + tag.data.len());
        b.put_slice(SET_DATA_FRAME);
        b.put_slice(&tag.data);
        let msg = Message::Data(b.freeze());
        self.link
            .send(CSID_DATA, tag.timestamp_ms, self.stream_id, &msg);
        Ok(self.link.output_len() - before)
    }

    /// Queues a ping; the answer comes as [`ClientEvent::Rtt`].
    pub fn ping(&mut self, now: Instant) {
        let t = ms_since(self.epoch, now);
        self.link.send(
            CSID_CONTROL,
            0,
            0,
            &Message::UserControl(UserControl::PingRequest(t)),
        );
    }

    /// Queues FCUnpublish (publish) and deleteStream; the session accepts nothing more.
    pub fn close(&mut self) {
        if self.state == State::Closed {
            return;
        }
        if matches!(self.state, State::Starting | State::Started) {
            if self.role == ClientRole::Publish {
                let name = string(&self.stream);
                let t = self.tid();
                self.command(CSID_COMMAND, 0, "FCUnpublish", t, vec![name]);
            }
            let t = self.tid();
            let id = Amf0Value::Number(f64::from(self.stream_id));
            self.command(CSID_COMMAND, 0, "deleteStream", t, vec![id]);
        }
        self.state = State::Closed;
    }

    /// The outbound chunk size.
    pub fn chunk_size(&self) -> u32 {
        self.link.chunk_size()
    }
}

/// `@setDataFrame` as an AMF0 string.
pub(crate) const SET_DATA_FRAME: &[u8] = b"\x02\x00\x0d@setDataFrame";

/// A data message body without a leading `@setDataFrame` string.
pub(crate) fn strip_set_data_frame(b: Bytes) -> Bytes {
    if b.starts_with(SET_DATA_FRAME) {
        b.slice(SET_DATA_FRAME.len()..)
    } else {
        b
    }
}

/// Script data worth passing on as a tag: anything but `|RtmpSampleAccess` and friends
/// (`onMetaData`, `onTextData`, `onCuePoint`...).
fn is_script_to_deliver(body: &[u8]) -> bool {
    !body.starts_with(b"\x02\x00\x11|RtmpSampleAccess") && !body.is_empty()
}

#[cfg(test)]
mod tests {
    use super::super::server::{ServerConfig, ServerEvent, ServerSession};
    use super::*;

    fn pump(c: &mut ClientSession, s: &mut ServerSession, now: Instant) {
        for _ in 0..10 {
            let mut q = VecDeque::new();
            c.take_output(&mut q);
            for b in q {
                s.handle_input(&b).unwrap();
            }
            let mut q = VecDeque::new();
            s.take_output(&mut q);
            for b in q {
                c.handle_input(now, &b).unwrap();
            }
        }
    }

    #[test]
    fn publish_and_play_against_the_server_session() {
        let now = Instant::now();
        let mut cfg = ClientConfig::new("live", "rtmp://h/live");
        cfg.fourcc_list = vec!["hvc1".into()];
        let mut c = ClientSession::new(cfg, ClientRole::Publish, "cam?x=1", now);
        let mut s = ServerSession::new(ServerConfig {
            fourcc_list: vec!["av01".into(), "hvc1".into()],
            ..ServerConfig::default()
        });
        pump(&mut c, &mut s, now);
        let Some(ServerEvent::ConnectRequested {
            app, fourcc_list, ..
        }) = s.poll_event()
        else {
            panic!("no connect")
        };
        assert_eq!(
            (app.as_str(), fourcc_list),
            ("live", vec!["hvc1".to_string()])
        );
        s.accept_connect();
        pump(&mut c, &mut s, now);
        let Some(ServerEvent::PublishRequested {
            stream_id, name, ..
        }) = s.poll_event()
        else {
            panic!("no publish")
        };
        assert_eq!(name, "cam?x=1");
        s.accept_publish(stream_id);
        pump(&mut c, &mut s, now);
        assert!(matches!(
            c.poll_event(),
            Some(ClientEvent::Connected { .. })
        ));
        assert_eq!(c.poll_event(), Some(ClientEvent::Started));
        for i in 0..5u32 {
            let body = Bytes::from(vec![0x17; 5000 + i as usize]);
            c.send_media(&FlvTag::new(TagType::Video, i * 33, body))
                .unwrap();
        }
        c.send_media(&FlvTag::new(
            TagType::Script,
            0,
            Bytes::from_static(b"\x02\x00\x0aonMetaData\x05"),
        ))
        .unwrap();
        c.ping(now);
        pump(&mut c, &mut s, now + Duration::from_millis(7));
        let mut sizes = Vec::new();
        while let Some(e) = s.poll_event() {
            if let ServerEvent::Media { tag, .. } = e {
                sizes.push((tag.tag_type, tag.timestamp_ms, tag.data.len()));
            }
        }
        assert_eq!(
            sizes[..5].iter().map(|x| x.2).collect::<Vec<_>>(),
            [5000, 5001, 5002, 5003, 5004]
        );
        assert_eq!(sizes[4].1, 132);
        assert_eq!(sizes[5], (TagType::Script, 0, 14));
        assert_eq!(
            c.poll_event(),
            Some(ClientEvent::Rtt(Duration::from_millis(7)))
        );
        c.close();
        pump(&mut c, &mut s, now);
        assert!(matches!(
            s.poll_event(),
            Some(ServerEvent::PublishFinished { .. })
        ));
    }

    #[test]
    fn refusals_before_start_are_rejections() {
        let now = Instant::now();
        let mut c = ClientSession::new(
            ClientConfig::new("live", "rtmp://h/live"),
            ClientRole::Play,
            "x",
            now,
        );
        let mut s = ServerSession::new(ServerConfig::default());
        pump(&mut c, &mut s, now);
        assert!(matches!(
            s.poll_event(),
            Some(ServerEvent::ConnectRequested { .. })
        ));
        s.accept_connect();
        pump(&mut c, &mut s, now);
        let Some(ServerEvent::PlayRequested { stream_id, .. }) = s.poll_event() else {
            panic!()
        };
        s.reject_play(stream_id, "NetStream.Play.StreamNotFound", "no such stream");
        pump(&mut c, &mut s, now);
        assert!(matches!(
            c.poll_event(),
            Some(ClientEvent::Connected { .. })
        ));
        let Some(ClientEvent::Rejected {
            stage: "play",
            status,
        }) = c.poll_event()
        else {
            panic!()
        };
        assert_eq!(status.code, "NetStream.Play.StreamNotFound");

        let mut c = ClientSession::new(
            ClientConfig::new("live", "rtmp://h/live"),
            ClientRole::Publish,
            "x",
            now,
        );
        let mut s = ServerSession::new(ServerConfig::default());
        pump(&mut c, &mut s, now);
        let _ = s.poll_event();
        s.reject_connect("go away");
        pump(&mut c, &mut s, now);
        assert!(matches!(
            c.poll_event(),
            Some(ClientEvent::Rejected {
                stage: "connect",
                ..
            })
        ));
    }
}
