//! The server session (RTMP 1.0 §7.2-7.3, see `docs/rtmp.md`): answers connect (after the
//! application decided), releaseStream / FCPublish / FCUnpublish, createStream, publish and
//! play (after the application decided), deleteStream / closeStream; turns audio, video and
//! `@setDataFrame` messages into FLV tags; sends media to players, either encoded here or as
//! chunk bytes encoded once for every player ([`ServerSession::send_shared`]).
//!
//! Sans-I/O: bytes in through [`ServerSession::handle_input`], events out through
//! [`ServerSession::poll_event`], bytes to write through [`ServerSession::take_output`].

use super::chunk_decoder::Limits;
use super::chunk_encoder::MessageHeader;
use super::client::strip_set_data_frame;
use super::command::{fourcc_list, object, prop_str, string, Command};
use super::error::EngineError;
use super::link::{
    Link, CSID_AUDIO, CSID_COMMAND, CSID_CONTROL, CSID_DATA, CSID_STREAM, CSID_VIDEO,
};
use super::message::{split_aggregate, type_id, Message, UserControl};
use bytes::Bytes;
use onair_flv::{FlvTag, TagType};
use rml_amf0::Amf0Value;
use std::collections::VecDeque;

/// Server session settings.
#[derive(Debug, Clone, PartialEq)]
pub struct ServerConfig {
    /// Outbound chunk size, announced when connect is accepted.
    pub chunk_size: u32,
    /// Window Acknowledgement Size and Set Peer Bandwidth sent on connect.
    pub window_ack_size: u32,
    /// Caps on what a client may make the session hold.
    pub limits: Limits,
    /// Enhanced RTMP FourCCs the server announces in connect's `_result` (the server passes
    /// any codec through; empty: answer like a legacy server).
    pub fourcc_list: Vec<String>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            chunk_size: 4096,
            window_ack_size: 2_500_000,
            limits: Limits::default(),
            fourcc_list: Vec::new(),
        }
    }
}

/// What a server session reports.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum ServerEvent {
    /// connect: answer with [`ServerSession::accept_connect`] or `reject_connect`.
    ConnectRequested {
        /// The application.
        app: String,
        /// The tcUrl as sent (may be empty).
        tc_url: String,
        /// The client's Enhanced RTMP FourCCs (empty for a legacy client).
        fourcc_list: Vec<String>,
    },
    /// publish: answer with `accept_publish` or `reject_publish`.
    PublishRequested {
        /// The message stream.
        stream_id: u32,
        /// The stream name with its query (`name?txSecret=..`).
        name: String,
        /// `live`, `record` or `append`.
        mode: String,
    },
    /// play: answer with `accept_play` or `reject_play`.
    PlayRequested {
        /// The message stream.
        stream_id: u32,
        /// The stream name with its query.
        name: String,
    },
    /// Audio, video or script data from a publisher.
    Media {
        /// The message stream it came on.
        stream_id: u32,
        /// The tag (script bodies without `@setDataFrame`).
        tag: FlvTag,
    },
    /// The publisher ended (FCUnpublish, closeStream or deleteStream).
    PublishFinished {
        /// The message stream.
        stream_id: u32,
    },
    /// The player ended (closeStream or deleteStream).
    PlayFinished {
        /// The message stream.
        stream_id: u32,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum StreamState {
    Created,
    Publishing,
    Playing,
}

/// A server session for one connection.
#[derive(Debug)]
pub struct ServerSession {
    link: Link,
    config: ServerConfig,
    connect_tid: Option<f64>,
    connected: bool,
    streams: Vec<(u32, StreamState)>,
    next_stream_id: u32,
    events: VecDeque<ServerEvent>,
    /// A connect, publish or play waits for the application's answer: later messages stay
    /// in the decoder until then (a client may send them before it got the answer).
    awaiting: bool,
    /// An error met while resuming after an answer, returned by the next `handle_input`.
    error: Option<EngineError>,
}

const MAX_STREAMS: usize = 8;

fn status(level: &str, code: &str, description: &str) -> Amf0Value {
    object([
        ("level", string(level)),
        ("code", string(code)),
        ("description", string(description)),
    ])
}

impl ServerSession {
    /// A session for a connection whose handshake just completed.
    pub fn new(config: ServerConfig) -> Self {
        Self {
            link: Link::new(config.limits),
            config,
            connect_tid: None,
            connected: false,
            streams: Vec::new(),
            next_stream_id: 1,
            events: VecDeque::new(),
            awaiting: false,
            error: None,
        }
    }

    /// The error that stopped the session while it resumed after an answer, if any.
    pub fn error(&self) -> Option<&EngineError> {
        self.error.as_ref()
    }

    /// Called by every accept / reject: processes what arrived meanwhile.
    fn answered(&mut self) {
        self.awaiting = false;
        if self.error.is_none() {
            if let Err(e) = self.process() {
                self.error = Some(e);
            }
        }
    }

    fn state(&self, id: u32) -> Option<StreamState> {
        self.streams
            .iter()
            .find(|(s, _)| *s == id)
            .map(|(_, st)| *st)
    }

    fn set_state(&mut self, id: u32, st: Option<StreamState>) {
        self.streams.retain(|(s, _)| *s != id);
        if let Some(st) = st {
            self.streams.push((id, st));
        }
    }

    fn result(&mut self, tid: f64, args: Vec<Amf0Value>) {
        let c = Command::new("_result", tid, Amf0Value::Null, args);
        self.link.send(CSID_COMMAND, 0, 0, &Message::Command(c));
    }

    fn on_status(&mut self, stream_id: u32, info: Amf0Value) {
        let c = Command::new("onStatus", 0.0, Amf0Value::Null, vec![info]);
        self.link
            .send(CSID_STREAM, 0, stream_id, &Message::Command(c));
    }

    /// Feeds received bytes. Messages after a connect, publish or play are held until the
    /// application answered it.
    pub fn handle_input(&mut self, data: &[u8]) -> Result<(), EngineError> {
        if let Some(e) = &self.error {
            return Err(e.clone());
        }
        self.link.push_input(data);
        self.process()
    }

    /// Feeds received bytes without copying them (media in one chunk is a slice of `data`).
    pub fn handle_bytes(&mut self, data: Bytes) -> Result<(), EngineError> {
        if let Some(e) = &self.error {
            return Err(e.clone());
        }
        self.link.push_input_bytes(data);
        self.process()
    }

    fn process(&mut self) -> Result<(), EngineError> {
        while !self.awaiting {
            let Some((raw, msg)) = self.link.next()? else {
                break;
            };
            let sid = raw.stream_id;
            match msg {
                Message::Command(c) => self.on_command(sid, c),
                Message::Audio(b) => self.media(sid, TagType::Audio, raw.timestamp, b),
                Message::Video(b) => self.media(sid, TagType::Video, raw.timestamp, b),
                Message::Data(b) => {
                    let body = strip_set_data_frame(b);
                    if !body.is_empty() {
                        self.media(sid, TagType::Script, raw.timestamp, body);
                    }
                }
                Message::Aggregate(b) => {
                    for (t, ts, body) in split_aggregate(raw.timestamp, &b) {
                        let kind = match t {
                            type_id::AUDIO => TagType::Audio,
                            type_id::VIDEO => TagType::Video,
                            _ => continue,
                        };
                        self.media(sid, kind, ts, body);
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }

    fn media(&mut self, stream_id: u32, kind: TagType, timestamp: u32, body: Bytes) {
        // Media on a stream that is not publishing (or on stream 0 from a client that
        // publishes on one stream only) goes to the publishing stream.
        let sid = if self.state(stream_id) == Some(StreamState::Publishing) {
            stream_id
        } else if let Some((s, _)) = self
            .streams
            .iter()
            .find(|(_, st)| *st == StreamState::Publishing)
        {
            *s
        } else {
            return;
        };
        self.events.push_back(ServerEvent::Media {
            stream_id: sid,
            tag: FlvTag::new(kind, timestamp, body),
        });
    }

    fn on_command(&mut self, msg_stream: u32, c: Command) {
        let tid = c.transaction_id;
        match c.name.as_str() {
            "connect" if self.connect_tid.is_none() => {
                self.connect_tid = Some(tid);
                self.awaiting = true;
                self.events.push_back(ServerEvent::ConnectRequested {
                    app: prop_str(&c.object, "app")
                        .unwrap_or_default()
                        .trim_end_matches('/')
                        .to_string(),
                    tc_url: prop_str(&c.object, "tcUrl").unwrap_or_default().to_string(),
                    fourcc_list: fourcc_list(&c.object),
                });
            }
            _ if !self.connected => {}
            "releaseStream" | "FCPublish" | "getStreamLength" if tid > 0.0 => {
                self.result(tid, vec![Amf0Value::Undefined]);
            }
            "createStream" => {
                if self.streams.len() >= MAX_STREAMS {
                    let c = Command::new(
                        "_error",
                        tid,
                        Amf0Value::Null,
                        vec![status(
                            "error",
                            "NetConnection.Call.Failed",
                            "too many streams",
                        )],
                    );
                    self.link.send(CSID_COMMAND, 0, 0, &Message::Command(c));
                    return;
                }
                let id = self.next_stream_id;
                self.next_stream_id += 1;
                self.set_state(id, Some(StreamState::Created));
                self.result(tid, vec![Amf0Value::Number(f64::from(id))]);
            }
            "publish" => {
                let id = self.stream_for(msg_stream);
                if self.state(id) != Some(StreamState::Created) {
                    return;
                }
                self.awaiting = true;
                self.events.push_back(ServerEvent::PublishRequested {
                    stream_id: id,
                    name: c.arg_str(0).unwrap_or_default().to_string(),
                    mode: c.arg_str(1).unwrap_or("live").to_string(),
                });
            }
            "play" => {
                let id = self.stream_for(msg_stream);
                if self.state(id) != Some(StreamState::Created) {
                    return;
                }
                self.awaiting = true;
                self.events.push_back(ServerEvent::PlayRequested {
                    stream_id: id,
                    name: c.arg_str(0).unwrap_or_default().to_string(),
                });
            }
            "FCUnpublish" => {
                if let Some(id) = self.publishing_stream() {
                    self.finish(id);
                }
                if tid > 0.0 {
                    self.result(tid, vec![Amf0Value::Undefined]);
                }
            }
            "deleteStream" | "closeStream" => {
                let id = match c.args.first() {
                    Some(Amf0Value::Number(n)) if *n >= 1.0 && *n < 1e9 => *n as u32,
                    _ => msg_stream,
                };
                self.finish(id);
                self.set_state(id, None);
            }
            _ => {}
        }
    }

    /// The stream a stream-level command addresses: its message stream id, or the only
    /// created stream for clients that send it on stream 0.
    fn stream_for(&self, msg_stream: u32) -> u32 {
        if self.state(msg_stream).is_some() {
            return msg_stream;
        }
        self.streams.first().map_or(msg_stream, |(s, _)| *s)
    }

    fn publishing_stream(&self) -> Option<u32> {
        self.streams
            .iter()
            .find(|(_, st)| *st == StreamState::Publishing)
            .map(|(s, _)| *s)
    }

    fn finish(&mut self, id: u32) {
        match self.state(id) {
            Some(StreamState::Publishing) => self
                .events
                .push_back(ServerEvent::PublishFinished { stream_id: id }),
            Some(StreamState::Playing) => self
                .events
                .push_back(ServerEvent::PlayFinished { stream_id: id }),
            _ => return,
        }
        self.set_state(id, Some(StreamState::Created));
    }

    /// Accepts connect: Window Acknowledgement Size, Set Peer Bandwidth, Set Chunk Size, then
    /// `_result` with NetConnection.Connect.Success (and the server's `fourCcList`).
    pub fn accept_connect(&mut self) {
        let Some(tid) = self.connect_tid else { return };
        if self.connected {
            return self.answered();
        }
        self.connected = true;
        let w = self.config.window_ack_size;
        self.link
            .send(CSID_CONTROL, 0, 0, &Message::WindowAckSize(w));
        self.link.send(
            CSID_CONTROL,
            0,
            0,
            &Message::SetPeerBandwidth { size: w, limit: 2 },
        );
        self.link.set_chunk_size(self.config.chunk_size);
        let mut props = vec![
            ("fmsVer", string("FMS/3,0,1,123")),
            ("capabilities", Amf0Value::Number(31.0)),
        ];
        if !self.config.fourcc_list.is_empty() {
            props.push((
                "fourCcList",
                Amf0Value::StrictArray(self.config.fourcc_list.iter().map(|s| string(s)).collect()),
            ));
        }
        let info = object([
            ("level", string("status")),
            ("code", string("NetConnection.Connect.Success")),
            ("description", string("Connection succeeded.")),
            ("objectEncoding", Amf0Value::Number(0.0)),
        ]);
        let c = Command::new("_result", tid, object(props), vec![info]);
        self.link.send(CSID_COMMAND, 0, 0, &Message::Command(c));
        self.answered();
    }

    /// Refuses connect with `_error` NetConnection.Connect.Rejected.
    pub fn reject_connect(&mut self, description: &str) {
        let Some(tid) = self.connect_tid else { return };
        let c = Command::new(
            "_error",
            tid,
            Amf0Value::Null,
            vec![status(
                "error",
                "NetConnection.Connect.Rejected",
                description,
            )],
        );
        self.link.send(CSID_COMMAND, 0, 0, &Message::Command(c));
        self.answered();
    }

    /// Moves a created stream to `state` and sends Stream Begin; `false` (nothing sent) when
    /// the stream is not waiting for an answer.
    fn begin_stream(&mut self, stream_id: u32, state: StreamState) -> bool {
        if self.state(stream_id) != Some(StreamState::Created) {
            return false;
        }
        self.set_state(stream_id, Some(state));
        self.link.send(
            CSID_CONTROL,
            0,
            0,
            &Message::UserControl(UserControl::StreamBegin(stream_id)),
        );
        true
    }

    /// Accepts publish on `stream_id`: Stream Begin, onStatus NetStream.Publish.Start.
    pub fn accept_publish(&mut self, stream_id: u32) {
        if !self.begin_stream(stream_id, StreamState::Publishing) {
            return self.answered();
        }
        self.on_status(
            stream_id,
            status("status", "NetStream.Publish.Start", "Start publishing"),
        );
        self.answered();
    }

    /// Refuses publish with an error-level onStatus (`code`, e.g. NetStream.Publish.BadName).
    pub fn reject_publish(&mut self, stream_id: u32, code: &str, description: &str) {
        self.on_status(stream_id, status("error", code, description));
        self.answered();
    }

    /// Accepts play: Stream Begin, onStatus Play.Reset and Play.Start, |RtmpSampleAccess.
    pub fn accept_play(&mut self, stream_id: u32) {
        if !self.begin_stream(stream_id, StreamState::Playing) {
            return self.answered();
        }
        self.on_status(
            stream_id,
            status("status", "NetStream.Play.Reset", "Playing and resetting"),
        );
        self.on_status(
            stream_id,
            status("status", "NetStream.Play.Start", "Started playing"),
        );
        let access = rml_amf0::serialize(&vec![
            string("|RtmpSampleAccess"),
            Amf0Value::Boolean(true),
            Amf0Value::Boolean(true),
        ])
        .unwrap_or_default();
        self.link
            .send(CSID_DATA, 0, stream_id, &Message::Data(Bytes::from(access)));
        self.answered();
    }

    /// Refuses play with an error-level onStatus (e.g. NetStream.Play.StreamNotFound).
    pub fn reject_play(&mut self, stream_id: u32, code: &str, description: &str) {
        self.on_status(stream_id, status("error", code, description));
        self.answered();
    }

    /// Sends any onStatus on a stream (e.g. NetStream.Play.UnpublishNotify).
    pub fn send_status(&mut self, stream_id: u32, level: &str, code: &str, description: &str) {
        self.on_status(stream_id, status(level, code, description));
    }

    /// Encodes one tag for a player here (per connection).
    pub fn send_media(&mut self, stream_id: u32, tag: &FlvTag) {
        let h = media_header(stream_id, tag.tag_type, tag.timestamp_ms);
        self.link.send_raw(&h, &tag.data);
    }

    /// Queues chunk bytes that [`encode_shared`] built once for every player.
    pub fn send_shared(&mut self, stream_id: u32, tag: &FlvTag, bytes: Bytes) {
        let h = media_header(stream_id, tag.tag_type, tag.timestamp_ms);
        self.link.send_shared(bytes, &h, tag.data.len());
    }

    /// The chunk size shared encodings must use on this connection.
    pub fn chunk_size(&self) -> u32 {
        self.link.chunk_size()
    }

    /// The next event.
    pub fn poll_event(&mut self) -> Option<ServerEvent> {
        self.events.pop_front()
    }

    /// Moves the bytes to write into `into`, in order.
    pub fn take_output(&mut self, into: &mut VecDeque<Bytes>) {
        self.link.take_output(into);
    }

    /// Bytes waiting in [`ServerSession::take_output`].
    pub fn output_len(&self) -> usize {
        self.link.output_len()
    }
}

/// The chunk stream, type and stream id a media tag goes out with.
pub fn media_header(stream_id: u32, kind: TagType, timestamp: u32) -> MessageHeader {
    let (csid, type_id) = match kind {
        TagType::Audio => (CSID_AUDIO, type_id::AUDIO),
        TagType::Video => (CSID_VIDEO, type_id::VIDEO),
        _ => (CSID_DATA, type_id::DATA_AMF0),
    };
    MessageHeader {
        csid,
        timestamp,
        type_id,
        stream_id,
    }
}

/// A player-bound tag as chunk bytes at `chunk_size` on `stream_id`, built once and shared by
/// every connection with that chunk size and play stream id.
pub fn encode_shared(chunk_size: u32, stream_id: u32, tag: &FlvTag) -> Bytes {
    let h = media_header(stream_id, tag.tag_type, tag.timestamp_ms);
    super::chunk_encoder::encode_standalone(chunk_size, &h, &tag.data)
}
