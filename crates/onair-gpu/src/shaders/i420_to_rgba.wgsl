// I420 planes (R8 textures) to an RGBA8 storage texture, BT.601 limited range.
@group(0) @binding(0) var y_tex: texture_2d<f32>;
@group(0) @binding(1) var u_tex: texture_2d<f32>;
@group(0) @binding(2) var v_tex: texture_2d<f32>;
@group(0) @binding(3) var out_tex: texture_storage_2d<rgba8unorm, write>;

@compute @workgroup_size(8, 8)
fn main(@builtin(global_invocation_id) id: vec3<u32>) {
    let size = textureDimensions(y_tex);
    if (id.x >= size.x || id.y >= size.y) {
        return;
    }
    let y = textureLoad(y_tex, vec2<i32>(id.xy), 0).r * 255.0;
    let c = vec2<i32>(id.xy / 2u);
    let u = textureLoad(u_tex, c, 0).r * 255.0 - 128.0;
    let v = textureLoad(v_tex, c, 0).r * 255.0 - 128.0;
    let yy = (y - 16.0) * 1.164383;
    let rgb = vec3<f32>(
        yy + 1.596027 * v,
        yy - 0.391762 * u - 0.812968 * v,
        yy + 2.017232 * u,
    );
    textureStore(out_tex, vec2<i32>(id.xy), vec4<f32>(clamp(rgb / 255.0, vec3<f32>(0.0), vec3<f32>(1.0)), 1.0));
}
