//! Opus over Enhanced RTMP v2 (facts in `docs/rtmp.md`, "Opus"): the ExAudioTagHeader bodies
//! a publisher sends (SoundFormat 9, AudioPacketType, FourCC `Opus`) and the OpusHead
//! identification header (RFC 7845 §5.1) that the SequenceStart carries, with the pre-skip
//! (encoder priming) a decoder discards.

use crate::enhanced::{FOURCC_OPUS, SOUND_FORMAT_EX_HEADER};
use crate::error::{FlvError, Reader, TagKind};
use bytes::{BufMut, Bytes, BytesMut};

/// AudioPacketType values of the ExAudioTagHeader.
pub mod audio_packet {
    /// Decoder configuration (AudioSpecificConfig, OpusHead).
    pub const SEQUENCE_START: u8 = 0;
    /// One coded frame.
    pub const CODED_FRAMES: u8 = 1;
    /// End of sequence.
    pub const SEQUENCE_END: u8 = 2;
    /// Channel order (FFmpeg sends one after the SequenceStart).
    pub const MULTICHANNEL_CONFIG: u8 = 4;
    /// Several tracks in one message.
    pub const MULTITRACK: u8 = 5;
}

/// The 5 bytes in front of one Opus packet in a CodedFrames body, for a caller that lays the
/// packet out behind them itself (the encoder does, so the body needs no copy).
pub const OPUS_CODED_HEADER: [u8; 5] = [
    SOUND_FORMAT_EX_HEADER << 4 | audio_packet::CODED_FRAMES,
    FOURCC_OPUS[0],
    FOURCC_OPUS[1],
    FOURCC_OPUS[2],
    FOURCC_OPUS[3],
];

/// An Enhanced RTMP audio body: the header byte, the FourCC, the payload.
pub fn ex_audio_body(packet_type: u8, fourcc: [u8; 4], payload: &[u8]) -> Bytes {
    let mut b = BytesMut::with_capacity(5 + payload.len());
    b.put_u8(SOUND_FORMAT_EX_HEADER << 4 | (packet_type & 0x0f));
    b.put_slice(&fourcc);
    b.put_slice(payload);
    b.freeze()
}

/// The Opus identification header (channel mapping family 0: mono or stereo).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpusHead {
    /// 1 or 2.
    pub channels: u8,
    /// Samples at 48 kHz the decoder discards at the start (the encoder's priming).
    pub pre_skip: u16,
    /// The rate the encoder was fed (informative; Opus always decodes at 48 kHz).
    pub input_sample_rate: u32,
    /// Gain to apply on output, Q7.8 dB.
    pub output_gain: i16,
}

impl OpusHead {
    /// The magic signature.
    pub const MAGIC: &'static [u8; 8] = b"OpusHead";

    /// Parses an OpusHead. Mapping families other than 0 (more than two channels) are refused
    /// with a clear error: the engine plays mono and stereo.
    pub fn parse(data: &[u8]) -> Result<Self, FlvError> {
        let mut r = Reader::new(data, "OpusHead", TagKind::Audio);
        if r.bytes(8, "magic")? != Self::MAGIC {
            return Err(r.error("not an OpusHead (magic differs)".to_string()));
        }
        let version = r.u8("version")?;
        if version >> 4 != 0 {
            return Err(r.error(format!("OpusHead version {version}, expected 0x0n")));
        }
        let channels = r.u8("channel count")?;
        let pre_skip = u16::from_le_bytes(r.bytes(2, "pre-skip")?.try_into().unwrap_or([0; 2]));
        let input_sample_rate = u32::from_le_bytes(
            r.bytes(4, "input sample rate")?
                .try_into()
                .unwrap_or([0; 4]),
        );
        let output_gain =
            i16::from_le_bytes(r.bytes(2, "output gain")?.try_into().unwrap_or([0; 2]));
        let family = r.u8("channel mapping family")?;
        if family != 0 || !(1..=2).contains(&channels) {
            return Err(r.error(format!(
                "channel mapping family {family} with {channels} channels (mono and stereo are played)"
            )));
        }
        Ok(Self {
            channels,
            pre_skip,
            input_sample_rate,
            output_gain,
        })
    }

    /// The header a decoder assumes for a stream whose OpusHead never came: the channel
    /// count `packet`'s TOC byte gives, no pre-skip, 48 kHz, no gain (RFC 7845's defaults
    /// for a mapping-family-0 stream).
    pub fn for_packet(packet: &[u8]) -> Self {
        Self {
            channels: if packet_is_stereo(packet) { 2 } else { 1 },
            pre_skip: 0,
            input_sample_rate: 48_000,
            output_gain: 0,
        }
    }

    /// The 19-byte header.
    pub fn encode(&self) -> Bytes {
        let mut b = BytesMut::with_capacity(19);
        b.put_slice(Self::MAGIC);
        b.put_u8(1);
        b.put_u8(self.channels);
        b.put_u16_le(self.pre_skip);
        b.put_u32_le(self.input_sample_rate);
        b.put_i16_le(self.output_gain);
        b.put_u8(0);
        b.freeze()
    }
}

/// The duration of one Opus packet in 48 kHz samples, from its TOC byte and frame count
/// (RFC 6716 §3.1); `None` for an empty or malformed packet.
pub fn packet_samples(packet: &[u8]) -> Option<u32> {
    let toc = *packet.first()?;
    let config = toc >> 3;
    let frame = match config {
        0..=11 => [480, 960, 1920, 2880][(config & 3) as usize],
        12..=15 => [480, 960][(config & 1) as usize],
        _ => [120, 240, 480, 960][(config & 3) as usize],
    };
    let frames = match toc & 3 {
        0 => 1,
        1 | 2 => 2,
        _ => u32::from(*packet.get(1)? & 0x3f),
    };
    let total = frame * frames;
    // RFC 6716: a packet holds at most 120 ms.
    (frames > 0 && total <= 5760).then_some(total)
}

/// Whether the packet's TOC byte says stereo.
pub fn packet_is_stereo(packet: &[u8]) -> bool {
    packet.first().is_some_and(|t| t & 0x04 != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_head_for_a_bare_packet_takes_the_tocs_channels() {
        // TOC 0xfc: config 31 (CELT FB 20 ms), stereo, one frame; 0x78: SILK WB 20 ms, mono.
        assert_eq!(OpusHead::for_packet(&[0xfc, 0xff]).channels, 2);
        assert_eq!(OpusHead::for_packet(&[0x78, 0x01]).channels, 1);
        assert_eq!(OpusHead::for_packet(&[]).channels, 1);
        let head = OpusHead::for_packet(&[0xfc]);
        assert_eq!(OpusHead::parse(&head.encode()).unwrap(), head);
    }
    use crate::payload::{audio_payload, AudioPayload};

    #[test]
    fn opus_head_round_trips_and_matches_ffmpegs_bytes() {
        // The SequenceStart payload FFmpeg 9's flv muxer writes for libopus, 48 kHz mono.
        let ffmpeg = b"OpusHead\x01\x01\x38\x01\x80\xbb\x00\x00\x00\x00\x00";
        let head = OpusHead::parse(ffmpeg).unwrap();
        assert_eq!(
            head,
            OpusHead {
                channels: 1,
                pre_skip: 312,
                input_sample_rate: 48_000,
                output_gain: 0
            }
        );
        assert_eq!(&head.encode()[..], &ffmpeg[..]);
    }

    #[test]
    fn bad_opus_heads_are_clear_errors() {
        assert!(OpusHead::parse(b"OpusHea").is_err());
        assert!(OpusHead::parse(b"OpusTags\x01\x01\x38\x01\x80\xbb\x00\x00\x00\x00\x00").is_err());
        let e = OpusHead::parse(b"OpusHead\x01\x06\x38\x01\x80\xbb\x00\x00\x00\x00\x01")
            .unwrap_err()
            .to_string();
        assert!(e.contains("mapping family 1"), "{e}");
    }

    #[test]
    fn bodies_read_back_as_opus_payloads() {
        let head = OpusHead {
            channels: 2,
            pre_skip: 120,
            input_sample_rate: 48_000,
            output_gain: 0,
        };
        let start = ex_audio_body(audio_packet::SEQUENCE_START, FOURCC_OPUS, &head.encode());
        assert!(matches!(audio_payload(&start),
            Some(AudioPayload::Config { codec, record }) if codec == FOURCC_OPUS && OpusHead::parse(&record) == Ok(head)));
        let mut coded = OPUS_CODED_HEADER.to_vec();
        coded.extend_from_slice(&[0xfc, 1, 2]);
        assert!(matches!(audio_payload(&Bytes::from(coded)),
            Some(AudioPayload::Coded { codec, data }) if codec == FOURCC_OPUS && data[..] == [0xfc, 1, 2]));
    }

    #[test]
    fn packet_durations_follow_the_toc() {
        // CELT fullband 10 ms (config 30), one frame; 20 ms (config 31); SILK 20 ms x2.
        assert_eq!(packet_samples(&[30 << 3]), Some(480));
        assert_eq!(packet_samples(&[31 << 3 | 4]), Some(960));
        assert!(packet_is_stereo(&[31 << 3 | 4]));
        assert_eq!(packet_samples(&[1 << 3 | 1]), Some(1920));
        // Code 3: the frame count is in the second byte; 0 frames or over 120 ms is malformed.
        assert_eq!(packet_samples(&[31 << 3 | 3, 6]), Some(5760));
        assert_eq!(packet_samples(&[31 << 3 | 3, 7]), None);
        assert_eq!(packet_samples(&[31 << 3 | 3, 0]), None);
        assert_eq!(packet_samples(&[]), None);
    }
}
