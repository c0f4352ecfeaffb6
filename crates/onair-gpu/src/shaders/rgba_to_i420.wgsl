// An RGBA8 texture to I420 planes packed four bytes to a word in one storage buffer, BT.601
// limited range; chroma is the mean of each 2x2 block. Rows are padded to whole words.
struct Params {
    width: u32,
    height: u32,
    y_stride_words: u32,
    c_stride_words: u32,
    u_offset_words: u32,
    v_offset_words: u32,
    _pad0: u32,
    _pad1: u32,
}

@group(0) @binding(0) var src: texture_2d<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<u32>;
@group(0) @binding(2) var<uniform> p: Params;

fn rgb(x: u32, y: u32) -> vec3<f32> {
    return textureLoad(src, vec2<i32>(i32(x), i32(y)), 0).rgb * 255.0;
}

fn to_byte(v: f32) -> u32 {
    return u32(clamp(round(v), 0.0, 255.0));
}

@compute @workgroup_size(8, 8)
fn luma(@builtin(global_invocation_id) id: vec3<u32>) {
    if (id.x >= p.y_stride_words || id.y >= p.height) {
        return;
    }
    var word = 0u;
    for (var i = 0u; i < 4u; i++) {
        let x = id.x * 4u + i;
        if (x < p.width) {
            let c = rgb(x, id.y);
            let y = 16.0 + (65.481 * c.r + 128.553 * c.g + 24.966 * c.b) / 255.0;
            word = word | (to_byte(y) << (8u * i));
        }
    }
    out[id.y * p.y_stride_words + id.x] = word;
}

@compute @workgroup_size(8, 8)
fn chroma(@builtin(global_invocation_id) id: vec3<u32>) {
    let cw = p.width / 2u;
    if (id.x >= p.c_stride_words || id.y >= p.height / 2u) {
        return;
    }
    var uw = 0u;
    var vw = 0u;
    for (var i = 0u; i < 4u; i++) {
        let cx = id.x * 4u + i;
        if (cx < cw) {
            let x = cx * 2u;
            let y = id.y * 2u;
            let c = (rgb(x, y) + rgb(x + 1u, y) + rgb(x, y + 1u) + rgb(x + 1u, y + 1u)) * 0.25;
            let u = 128.0 + (-37.797 * c.r - 74.203 * c.g + 112.0 * c.b) / 255.0;
            let v = 128.0 + (112.0 * c.r - 93.786 * c.g - 18.214 * c.b) / 255.0;
            uw = uw | (to_byte(u) << (8u * i));
            vw = vw | (to_byte(v) << (8u * i));
        }
    }
    out[p.u_offset_words + id.y * p.c_stride_words + id.x] = uw;
    out[p.v_offset_words + id.y * p.c_stride_words + id.x] = vw;
}
