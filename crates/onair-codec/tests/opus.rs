//! Opus through libopus and FFmpeg's decoder: frame timing, priming, the tone surviving, and
//! bad input. FLV framing of the packets is checked against `onair-flv`'s reader.

use onair_codec::{open_audio_decoder, AudioConfig, AudioEncoder, OpusEncoder, Tone};
use onair_core::{AudioCodec, AudioFrame, AudioQuality, Timestamp};

fn tone_frequency(pcm: &[i16], rate: u32) -> f64 {
    let mid = &pcm[pcm.len() / 4..pcm.len() * 3 / 4];
    let crossings = mid.windows(2).filter(|w| (w[0] < 0) != (w[1] < 0)).count();
    crossings as f64 / 2.0 / (mid.len() as f64 / f64::from(rate))
}

#[test]
fn opus_packets_leave_as_soon_as_a_frame_is_full_and_decode_back() {
    for quality in AudioQuality::ALL {
        for frame_ms in [10u32, 20] {
            let (rate, ch) = (quality.sample_rate(), quality.channels());
            let mut enc = OpusEncoder::new(quality, frame_ms).unwrap();
            let per = (rate * frame_ms / 1000) as usize;
            assert_eq!(enc.frame_samples(), per);
            let head = match enc.decoder_config() {
                AudioConfig::Opus(h) => h,
                other => panic!("{other:?}"),
            };
            assert_eq!(head.channels as u16, ch);
            // Low-delay mode: 2.5 ms of look-ahead at 48 kHz.
            assert_eq!(head.pre_skip, 120, "{quality}");
            let mut tone = Tone::new(1000.0, rate, ch);
            let origin = Timestamp::from_millis(5000);
            let mut packets = Vec::new();
            for n in 0..100u64 {
                let ts = origin + Timestamp::from_samples(n * per as u64, rate).as_duration();
                let f = AudioFrame::from_samples(&tone.next_samples(per), rate, ch)
                    .unwrap()
                    .with_timestamp(ts);
                let out = enc.encode(&f).unwrap();
                // One packet per full frame, at once: the encoder holds no frame back.
                assert_eq!(out.len(), 1, "{quality} {frame_ms} ms: frame {n}");
                packets.extend(out);
            }
            // Each packet is stamped with its first sample's time less the priming; the
            // first one's decodable part starts at the origin.
            let skip = Timestamp::from_samples(u64::from(head.pre_skip), 48_000).as_duration();
            assert_eq!(packets[0].pts, origin);
            for (k, p) in packets.iter().enumerate().skip(1) {
                let start =
                    origin + Timestamp::from_samples(k as u64 * per as u64, rate).as_duration();
                assert_eq!(
                    p.pts.as_duration() + skip,
                    start.as_duration(),
                    "packet {k}"
                );
                assert_eq!(p.codec, AudioCodec::Opus);
                assert_eq!(
                    onair_flv::opus::packet_samples(&p.data),
                    Some(48 * frame_ms),
                    "TOC of packet {k}"
                );
            }
            // The FLV body frames the packet without a copy and reads back as Opus.
            let tag = onair_codec::flv_tags::audio_tag(&packets[3]);
            assert_eq!(
                tag.data.as_ptr(),
                packets[3].flv_body.as_ref().unwrap().as_ptr()
            );
            assert!(matches!(onair_flv::audio_payload(&tag.data),
                Some(onair_flv::AudioPayload::Coded { codec, data }) if &codec == b"Opus" && data == packets[3].data));
            // Decode: 48 kHz out, the priming discarded, the tone's frequency kept.
            let mut dec = open_audio_decoder(&enc.decoder_config()).unwrap();
            let mut pcm = Vec::new();
            let mut decoded = 0usize;
            for p in &packets {
                if let Some(f) = dec.decode(&p.data, p.pts).unwrap() {
                    assert_eq!((f.sample_rate(), f.channels()), (48_000, ch));
                    decoded += f.samples().count() / ch as usize;
                    pcm.extend(f.samples().step_by(ch as usize));
                }
            }
            let total = 100 * 48 * frame_ms as usize;
            assert_eq!(
                decoded,
                total - usize::from(head.pre_skip),
                "{quality} {frame_ms} ms"
            );
            let freq = tone_frequency(&pcm, 48_000);
            assert!(
                (freq - 1000.0).abs() < 20.0,
                "{quality}: decoded tone at {freq:.1} Hz"
            );
        }
    }
}

#[test]
fn opus_refuses_other_frame_sizes_and_bad_packets() {
    let e = OpusEncoder::new(AudioQuality::Default, 5)
        .unwrap_err()
        .to_string();
    assert!(e.contains("10 or 20"), "{e}");
    let mut enc = OpusEncoder::new(AudioQuality::Speech, 20).unwrap();
    let f = AudioFrame::from_samples(&[0; 960], 48_000, 1).unwrap();
    assert!(enc.encode(&f).unwrap_err().to_string().contains("16000 Hz"));
    let mut dec = open_audio_decoder(&enc.decoder_config()).unwrap();
    assert!(dec.decode(&[], Timestamp::ZERO).is_err());
    for n in 0..200usize {
        let buf: Vec<u8> = (0..n * 7 % 900 + 1).map(|i| (i * 31 + n) as u8).collect();
        let _ = dec.decode(&buf, Timestamp::ZERO);
    }
}
