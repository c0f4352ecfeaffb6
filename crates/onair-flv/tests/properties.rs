//! Property tests: mux -> demux is the identity, payload codecs round-trip, and no parser
//! panics on arbitrary or truncated input.

use bytes::{Bytes, BytesMut};
use onair_flv::avcc::{annexb_to_avcc, split_annexb, split_avcc};
use onair_flv::sei::{build_sei_nal, parse_sei_nal};
use onair_flv::*;
use proptest::prelude::*;

fn tag_strategy() -> impl Strategy<Value = FlvTag> {
    (
        prop_oneof![
            Just(TagType::Audio),
            Just(TagType::Video),
            Just(TagType::Script)
        ],
        any::<u32>(),
        proptest::collection::vec(any::<u8>(), 0..600),
    )
        .prop_map(|(t, ts, data)| FlvTag::new(t, ts, Bytes::from(data)))
}

fn mux(header: FlvHeader, tags: &[FlvTag]) -> Vec<u8> {
    let mut b = BytesMut::from(&header.encode()[..]);
    for t in tags {
        t.encode_into(&mut b);
    }
    b.to_vec()
}

proptest! {
    #[test]
    fn mux_demux_is_identity(
        has_audio in any::<bool>(),
        has_video in any::<bool>(),
        tags in proptest::collection::vec(tag_strategy(), 0..20),
        chunk in 1usize..97,
    ) {
        let header = FlvHeader { has_audio, has_video };
        let bytes = mux(header, &tags);
        let (h, got) = demux_all(&bytes).unwrap();
        prop_assert_eq!(h, header);
        prop_assert_eq!(&got, &tags);
        // Fed in arbitrary chunks, the incremental demuxer gives the same tags.
        let mut d = FlvDemuxer::new();
        let mut inc = Vec::new();
        for c in bytes.chunks(chunk) {
            d.push(c);
            while let Some(t) = d.next_tag().unwrap() {
                inc.push(t);
            }
        }
        prop_assert_eq!(inc, tags);
    }

    #[test]
    fn truncation_is_an_error_not_a_panic(
        tags in proptest::collection::vec(tag_strategy(), 1..6),
        cut in any::<prop::sample::Index>(),
    ) {
        let bytes = mux(FlvHeader::default(), &tags);
        let at = cut.index(bytes.len());
        // A cut at a tag boundary (with or without the PreviousTagSize) is a shorter valid file.
        // (A header without PreviousTagSize0, 9 bytes, is tolerated like any missing final one.)
        let mut boundaries = vec![9usize, 13];
        let mut end = 13;
        for t in &tags {
            end += 11 + t.data.len();
            boundaries.extend([end, end + 4]);
            end += 4;
        }
        match demux_all(&bytes[..at]) {
            Ok((_, got)) => {
                prop_assert!(boundaries.contains(&at), "cut at {} accepted", at);
                prop_assert_eq!(&got[..], &tags[..got.len()]);
            }
            Err(_) => prop_assert!(!boundaries.contains(&at), "cut at boundary {} refused", at),
        }
    }

    #[test]
    fn parsers_never_panic(data in proptest::collection::vec(any::<u8>(), 0..300)) {
        let b = Bytes::from(data.clone());
        let _ = demux_all(&data);
        let _ = VideoTag::parse(&b);
        let _ = AudioTag::parse(&b);
        let _ = AvcDecoderConfig::parse(&data);
        let _ = AudioSpecificConfig::parse(&data);
        let _ = ScriptData::parse(&data);
        let _ = split_avcc(&data, 4);
        let _ = split_annexb(&data);
        let mut sei = vec![6u8];
        sei.extend_from_slice(&data);
        let _ = parse_sei_nal(&sei);
        let mut flv = b"FLV\x01\x05\x00\x00\x00\x09\x00\x00\x00\x00".to_vec();
        flv.extend_from_slice(&data);
        let _ = demux_all(&flv);
    }

    #[test]
    fn avc_config_round_trip(
        sps in proptest::collection::vec(any::<u8>(), 3..40),
        pps in proptest::collection::vec(any::<u8>(), 0..20),
    ) {
        let sps = Bytes::from([&[0x67u8][..], &sps].concat());
        let pps = Bytes::from([&[0x68u8][..], &pps].concat());
        let c = AvcDecoderConfig::from_parameter_sets(sps, pps).unwrap();
        prop_assert_eq!(AvcDecoderConfig::parse(&c.encode()).unwrap(), c.clone());
        let tag = VideoTag::sequence_header(c);
        prop_assert_eq!(VideoTag::parse(&tag.encode()).unwrap(), tag);
    }

    #[test]
    fn annexb_avcc_round_trip(nals in proptest::collection::vec(proptest::collection::vec(1u8..=255, 1..50), 1..8)) {
        // NAL units never end in a zero byte (rbsp trailing bits), so use non-zero bytes.
        let refs: Vec<&[u8]> = nals.iter().map(Vec::as_slice).collect();
        let annexb = onair_flv::avcc::join_annexb(refs.iter().copied());
        let avcc = annexb_to_avcc(&annexb);
        prop_assert_eq!(split_avcc(&avcc, 4).unwrap(), refs.clone());
        prop_assert_eq!(split_annexb(&annexb), refs);
    }

    #[test]
    fn asc_round_trip(rate in 8_000u32..=96_000, channels in 1u8..=7) {
        let c = AudioSpecificConfig::aac_lc(rate, channels).unwrap();
        let p = AudioSpecificConfig::parse(&c.raw).unwrap();
        prop_assert_eq!((p.sample_rate, p.channels, p.object_type), (rate, channels, 2));
    }

    #[test]
    fn sei_round_trip(ty in prop_oneof![Just(5u32), Just(242u32)], data in proptest::collection::vec(any::<u8>(), 0..1000)) {
        let m = SeiMessage::app(ty, &data);
        let parsed = parse_sei_nal(&build_sei_nal(std::slice::from_ref(&m))).unwrap();
        prop_assert_eq!(parsed.len(), 1);
        prop_assert_eq!(&parsed[0].app_data()[..], &data[..]);
    }
}
