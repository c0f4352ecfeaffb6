// A render view: I420 planes (three R8 textures) drawn into the viewport with the layout's
// texture-coordinate map, BT.601 limited range to RGB; and the debug overlay (an RGBA texture
// blended over the picture).

struct Params {
    // u = m0.x * x + m0.y * y + m0.z; v likewise with m1 (x, y in 0..1 across the viewport).
    m0: vec4<f32>,
    m1: vec4<f32>,
};

@group(0) @binding(0) var y_tex: texture_2d<f32>;
@group(0) @binding(1) var u_tex: texture_2d<f32>;
@group(0) @binding(2) var v_tex: texture_2d<f32>;
@group(0) @binding(3) var samp: sampler;
@group(0) @binding(4) var<uniform> params: Params;

struct VsOut {
    @builtin(position) pos: vec4<f32>,
    @location(0) xy: vec2<f32>,
};

// One triangle that covers the viewport; xy runs 0..1 across it, y down.
@vertex
fn vs(@builtin(vertex_index) i: u32) -> VsOut {
    let x = f32((i << 1u) & 2u);
    let y = f32(i & 2u);
    var out: VsOut;
    out.pos = vec4<f32>(x * 2.0 - 1.0, 1.0 - y * 2.0, 0.0, 1.0);
    out.xy = vec2<f32>(x, y);
    return out;
}

@fragment
fn fs_picture(in: VsOut) -> @location(0) vec4<f32> {
    let p = vec3<f32>(in.xy, 1.0);
    let uv = vec2<f32>(dot(params.m0.xyz, p), dot(params.m1.xyz, p));
    let y = textureSample(y_tex, samp, uv).r * 255.0;
    let u = textureSample(u_tex, samp, uv).r * 255.0 - 128.0;
    let v = textureSample(v_tex, samp, uv).r * 255.0 - 128.0;
    let yy = (y - 16.0) * 1.164383;
    let rgb = vec3<f32>(
        yy + 1.596027 * v,
        yy - 0.391762 * u - 0.812968 * v,
        yy + 2.017232 * u,
    );
    return vec4<f32>(clamp(rgb / 255.0, vec3<f32>(0.0), vec3<f32>(1.0)), 1.0);
}

@group(0) @binding(5) var text_tex: texture_2d<f32>;
@group(0) @binding(6) var text_samp: sampler;

@fragment
fn fs_overlay(in: VsOut) -> @location(0) vec4<f32> {
    return textureSample(text_tex, text_samp, in.xy);
}
