#!/usr/bin/env python3
"""Seeds fuzz/corpus/<target>/ from the recorded RTMP conversations in tests/captures/rtmp/:
client bytes (after the 3073-byte handshake) for rtmp_server_inbound, server bytes for
rtmp_inbound, both for rtmp_chunks, handshakes for rtmp_handshake, and video/audio tag bodies
for flv_enhanced. Slices of 16 KiB so libFuzzer's -max_len keeps them whole."""
import pathlib

root = pathlib.Path(__file__).resolve().parent.parent
caps = root / "tests" / "captures" / "rtmp"
corpus = root / "fuzz" / "corpus"
HS = 3073
SLICE = 16 * 1024


def put(target, name, data):
    d = corpus / target
    d.mkdir(parents=True, exist_ok=True)
    (d / name).write_bytes(data)


for c2s in sorted(caps.glob("*.c2s")):
    name = c2s.stem
    for direction, target in (("c2s", "rtmp_server_inbound"), ("s2c", "rtmp_inbound")):
        data = (caps / f"{name}.{direction}").read_bytes()
        put("rtmp_handshake", f"{name}-{direction}", data[:HS])
        body = data[HS:]
        for i in range(0, min(len(body), 8 * SLICE), SLICE):
            put(target, f"{name}-{i}", body[i:i + SLICE])
            put("rtmp_chunks", f"{name}-{direction}-{i}", body[i:i + SLICE])
    # Tag bodies for flv_enhanced: the first bytes after each type-0 video/audio header.
    data = c2s.read_bytes()[HS:]
    for i in range(0, len(data) - 12):
        if data[i] & 0xC0 == 0 and data[i + 7] in (8, 9) and i % 7 == 0:
            put("flv_enhanced", f"{name}-{i}", data[i + 12:i + 12 + 64])
print("seeded", ", ".join(sorted(p.name + f" ({len(list(p.iterdir()))})" for p in corpus.iterdir())))
