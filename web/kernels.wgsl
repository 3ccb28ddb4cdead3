// The kernels of gg_ops (src/ops.h) as WebGPU compute shaders.
//
// Each entry point is one pass of one kernel; web/gpu.js says which passes
// a kernel call makes, over how many threads. They compute what the C
// reference kernels (src/ops_ref.c) compute, in the same order wherever one
// thread owns an output, so that most results agree with the CPU's to the
// last bit or two.
//
// Memory: every arena of the model lives in one storage buffer, `mem`, of
// 32-bit words: floats, and token ids read through bitcast. A call's
// arguments arrive as a uniform of 64 words: argument j in words 2j and
// 2j + 1 (a buffer as its offset in mem, in elements, or NONE for NULL; a
// number as its bits; a 64-bit number as its low and high words), and the
// pass's own numbers from word EXTRA on. `scratch` holds what a kernel passes
// from one of its passes to the next.

struct Args {
    w: array<vec4<u32>, 16>,
}

@group(0) @binding(0) var<storage, read_write> mem: array<f32>;
@group(0) @binding(1) var<storage, read_write> scratch: array<f32>;
@group(0) @binding(2) var<uniform> args: Args;

// gpu.js puts before this file the numbers it shares: WG, the threads of
// a one-dimensional pass's workgroup; EXTRA, the word where a pass's own
// numbers start; TILE, the side of gemm's tiles.
const NONE: u32 = 0xffffffffu;
const LOWEST: f32 = -3.40282346e38;  // the least float, where a maximum starts

fn word(j: u32) -> u32 { return args.w[j >> 2u][j & 3u]; }
// argument j of the call: a buffer's offset, an int or a size
fn arg(j: u32) -> u32 { return word(2u * j); }
fn argf(j: u32) -> f32 { return bitcast<f32>(word(2u * j)); }
// argument j as a 64-bit number: (low, high)
fn arg64(j: u32) -> vec2<u32> { return vec2<u32>(word(2u * j), word(2u * j + 1u)); }
// the pass's own number j
fn extra(j: u32) -> u32 { return word(EXTRA + j); }

fn token(i: u32) -> u32 { return bitcast<u32>(mem[i]); }

// This thread's index among the pass's threads (gpu.js spreads workgroups
// over y when there are more than 65535).
fn thread(gid: vec3<u32>, groups: vec3<u32>) -> u32 { return gid.y * groups.x * WG + gid.x; }

// ---- the arithmetic of ops_rows.h ----

// gg_expf_neg: e^x for x <= 0, as x = n ln2 + r, a degree-6 polynomial for
// e^r, and 2^n (n >= -126, a normal float) put into the exponent bits.
fn expf_neg(x0: f32) -> f32 {
    let x = clamp(x0, -87.33654, 0.0);
    let n = round(x * 1.44269504088896341);  // ties to even, as C's rounding trick
    var r = x - n * 0.693359375;
    r = r - n * -2.12194440e-4;
    var y = 1.9875691500e-4;
    y = y * r + 1.3981999507e-3;
    y = y * r + 8.3334519073e-3;
    y = y * r + 4.1665795894e-2;
    y = y * r + 1.6666665459e-1;
    y = y * r + 5.0000001201e-1;
    y = y * (r * r) + r + 1.0;
    return y * bitcast<f32>(u32(i32(n) + 127) << 23u);
}

fn tanh_via_exp(u: f32) -> f32 {
    let t = expf_neg(-2.0 * abs(u));
    let r = (1.0 - t) / (1.0 + t);
    return select(-r, r, u >= 0.0);
}

const GELU_S: f32 = 0.7978845608028654;  // sqrt(2 / pi)
const GELU_C: f32 = 0.044715;
const GELU_3C: f32 = 3.0 * GELU_C;

fn gelu(x: f32) -> f32 {
    return 0.5 * x * (1.0 + tanh_via_exp(GELU_S * (x + GELU_C * x * x * x)));
}

fn gelu_grad(x: f32) -> f32 {
    let u = GELU_S * (x + GELU_C * x * x * x);
    let th = tanh_via_exp(u);
    let sech2 = 1.0 - th * th;
    // 3 * 0.044715 as C computes it, in float (a WGSL constant expression of
    // two literals would be computed exactly, then rounded)
    return 0.5 * (1.0 + th) + 0.5 * x * sech2 * GELU_S * (1.0 + GELU_3C * x * x);
}

// softmax_row: out[0 .. n-1] = the softmax of x[0 .. n-1], max-subtracted,
// the exponentials first, then their sum in order (out may be x)
fn softmax_row(out: u32, x: u32, n: u32) {
    var maxval = LOWEST;
    for (var i = 0u; i < n; i++) { maxval = max(maxval, mem[x + i]); }
    for (var i = 0u; i < n; i++) { mem[out + i] = expf_neg(mem[x + i] - maxval); }
    var sum = 0.0;
    for (var i = 0u; i < n; i++) { sum = sum + mem[out + i]; }
    let inv = 1.0 / sum;
    for (var i = 0u; i < n; i++) { mem[out + i] = mem[out + i] * inv; }
}

// 64-bit unsigned arithmetic in pairs of words (low, high), for dropout's
// splitmix64 (rng.h): WGSL has no 64-bit integers.
fn add64(a: vec2<u32>, b: vec2<u32>) -> vec2<u32> {
    let lo = a.x + b.x;
    return vec2<u32>(lo, a.y + b.y + select(0u, 1u, lo < a.x));
}

// a * b, all 64 bits, of two 32-bit numbers
fn wide_mul(a: u32, b: u32) -> vec2<u32> {
    let a0 = a & 0xffffu;
    let a1 = a >> 16u;
    let b0 = b & 0xffffu;
    let b1 = b >> 16u;
    let p00 = a0 * b0;
    let p01 = a0 * b1;
    let p10 = a1 * b0;
    let mid = (p00 >> 16u) + (p01 & 0xffffu) + (p10 & 0xffffu);
    return vec2<u32>((p00 & 0xffffu) | (mid << 16u), a1 * b1 + (p01 >> 16u) + (p10 >> 16u) + (mid >> 16u));
}

// the low 64 bits of a * b
fn mul64(a: vec2<u32>, b: vec2<u32>) -> vec2<u32> {
    let p = wide_mul(a.x, b.x);
    return vec2<u32>(p.x, p.y + a.x * b.y + a.y * b.x);
}

// a ^ (a >> s), 0 < s < 32
fn xorshift64(a: vec2<u32>, s: u32) -> vec2<u32> {
    return a ^ vec2<u32>((a.x >> s) | (a.y << (32u - s)), a.y >> s);
}

// gg_mix64(seed, k): splitmix64's k-th number of seed
fn mix64(seed: vec2<u32>, k: vec2<u32>) -> vec2<u32> {
    var z = add64(seed, mul64(add64(k, vec2<u32>(1u, 0u)), vec2<u32>(0x7f4a7c15u, 0x9e3779b9u)));
    z = mul64(xorshift64(z, 30u), vec2<u32>(0x1ce4e5b9u, 0xbf58476du));
    z = mul64(xorshift64(z, 27u), vec2<u32>(0x133111ebu, 0x94d049bbu));
    return xorshift64(z, 31u);
}

// ---- encoder ----

// encoder_forward(out, tokens, wte, wpe, N, T, C): a thread per element
@compute @workgroup_size(WG)
fn encoder_forward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let id = thread(gid, groups);
    let N = arg(4u); let T = arg(5u); let C = arg(6u);
    if (id >= N * C) { return; }
    let n = id / C; let i = id % C;
    let tok = token(arg(1u) + n);
    mem[arg(0u) + id] = mem[arg(2u) + tok * C + i] + mem[arg(3u) + (n % T) * C + i];
}

// encoder_backward(dwte, dwpe, dout, tokens, N, T, C), the token table's
// part: a thread per column, over the rows in order (a token may repeat)
@compute @workgroup_size(WG)
fn encoder_backward_wte(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = thread(gid, groups);
    let N = arg(4u); let C = arg(6u);
    if (i >= C) { return; }
    for (var n = 0u; n < N; n++) {
        let at = arg(0u) + token(arg(3u) + n) * C + i;
        mem[at] = mem[at] + mem[arg(2u) + n * C + i];
    }
}

// the position table's part: a thread per element of it, over the rows
// at its position
@compute @workgroup_size(WG)
fn encoder_backward_wpe(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let id = thread(gid, groups);
    let N = arg(4u); let T = arg(5u); let C = arg(6u);
    if (id >= T * C) { return; }
    let t = id / C; let i = id % C;
    let at = arg(1u) + id;
    var acc = mem[at];
    for (var n = t; n < N; n += T) { acc = acc + mem[arg(2u) + n * C + i]; }
    mem[at] = acc;
}

// ---- layer norm ----

// layernorm_forward(out, mean, rstd, inp, w, b, N, C): a thread per row
@compute @workgroup_size(WG)
fn layernorm_forward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let n = thread(gid, groups);
    let N = arg(6u); let C = arg(7u);
    if (n >= N) { return; }
    let x = arg(3u) + n * C;
    var m = 0.0;
    for (var i = 0u; i < C; i++) { m = m + mem[x + i]; }
    m = m / f32(C);
    var v = 0.0;
    for (var i = 0u; i < C; i++) { let d = mem[x + i] - m; v = v + d * d; }
    v = v / f32(C);
    let rstd = 1.0 / sqrt(v + 1e-5);
    let out = arg(0u) + n * C;
    for (var i = 0u; i < C; i++) {
        mem[out + i] = (mem[x + i] - m) * rstd * mem[arg(4u) + i] + mem[arg(5u) + i];
    }
    if (arg(1u) != NONE) { mem[arg(1u) + n] = m; }
    if (arg(2u) != NONE) { mem[arg(2u) + n] = rstd; }
}

// layernorm_backward(dinp, dw, db, dout, inp, w, mean, rstd, N, C), the
// input's part: a thread per row
@compute @workgroup_size(WG)
fn layernorm_backward_inp(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let n = thread(gid, groups);
    let N = arg(8u); let C = arg(9u);
    if (n >= N) { return; }
    let d = arg(3u) + n * C; let x = arg(4u) + n * C; let w = arg(5u);
    let mean = mem[arg(6u) + n]; let rstd = mem[arg(7u) + n];
    var s1 = 0.0; var s2 = 0.0;
    for (var i = 0u; i < C; i++) {
        let norm = (mem[x + i] - mean) * rstd;
        let dnorm = mem[w + i] * mem[d + i];
        s1 = s1 + dnorm;
        s2 = s2 + dnorm * norm;
    }
    let dnorm_mean = s1 / f32(C);
    let dnorm_norm_mean = s2 / f32(C);
    let dx = arg(0u) + n * C;
    for (var i = 0u; i < C; i++) {
        let norm = (mem[x + i] - mean) * rstd;
        let dnorm = mem[w + i] * mem[d + i];
        mem[dx + i] = mem[dx + i] + (dnorm - dnorm_mean - norm * dnorm_norm_mean) * rstd;
    }
}

// the weights' part: a thread per column, over the rows in order
@compute @workgroup_size(WG)
fn layernorm_backward_wb(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = thread(gid, groups);
    let N = arg(8u); let C = arg(9u);
    if (i >= C) { return; }
    var dw = mem[arg(1u) + i]; var db = mem[arg(2u) + i];
    for (var n = 0u; n < N; n++) {
        let d = mem[arg(3u) + n * C + i];
        let norm = (mem[arg(4u) + n * C + i] - mem[arg(6u) + n]) * mem[arg(7u) + n];
        db = db + d;
        dw = dw + norm * d;
    }
    mem[arg(1u) + i] = dw;
    mem[arg(2u) + i] = db;
}

// ---- matrix products ----

// out[m, n] = (accumulate ? out[m, n] : 0) + ((bias ? bias[n] : 0) + the sum
// over k of A[m, k] B[k, n]), through tiles of A and B in workgroup memory;
// with blocks, each block of that many k summed apart and added to out in
// turn (matmul_backward's dw: GG_DW_ROWS in ops.h). extra: M, N, K; A's
// offset, row stride, column stride; B's; out's offset and row stride;
// bias (or NONE); accumulate (0 or 1); block (a multiple of TILE, or 0).
var<workgroup> tile_a: array<array<f32, TILE>, TILE>;
var<workgroup> tile_b: array<array<f32, TILE>, TILE>;

@compute @workgroup_size(TILE, TILE)
fn gemm(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let M = extra(0u); let N = extra(1u); let K = extra(2u);
    let a = extra(3u); let a_rs = extra(4u); let a_cs = extra(5u);
    let b = extra(6u); let b_rs = extra(7u); let b_cs = extra(8u);
    let c = extra(9u); let c_rs = extra(10u); let bias = extra(11u);
    let block = select(K, extra(13u), extra(13u) != 0u);
    let m = wid.y * TILE + lid.y;
    let n = wid.x * TILE + lid.x;
    let inside = m < M && n < N;
    let at = c + m * c_rs + n;
    var total = 0.0;
    var started = extra(12u) != 0u;  // total holds out's value
    if (started && inside) { total = mem[at]; }
    // the bias first, then the products in order, as matmul_forward adds them
    var acc = 0.0;
    if (bias != NONE && n < N) { acc = mem[bias + n]; }
    for (var k0 = 0u; k0 < K; k0 += TILE) {
        // this thread loads A[m, k0 + x] and B[k0 + y, n]
        let ka = k0 + lid.x;
        let kb = k0 + lid.y;
        tile_a[lid.y][lid.x] = select(0.0, mem[a + m * a_rs + ka * a_cs], m < M && ka < K);
        tile_b[lid.y][lid.x] = select(0.0, mem[b + kb * b_rs + n * b_cs], kb < K && n < N);
        workgroupBarrier();
        let kn = min(TILE, K - k0);
        for (var k = 0u; k < kn; k++) { acc = acc + tile_a[lid.y][k] * tile_b[k][lid.x]; }
        workgroupBarrier();
        if ((k0 + TILE) % block == 0u || k0 + TILE >= K) {  // a block's end
            total = select(acc, total + acc, started);
            started = true;
            acc = 0.0;
        }
    }
    if (inside) { mem[at] = select(acc, total, started); }
}

// gemm, the same sums in the same order, with no workgroup memory: a
// thread per 4 x 4 outputs, reading A and B where they are. For a GPU
// emulated on the CPU, where a workgroup barrier costs a switch of every
// thread. Rows and columns past the end read the first ones again, and are
// not written.
@compute @workgroup_size(WG)
fn gemm_direct(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let id = thread(gid, groups);
    let M = extra(0u); let N = extra(1u); let K = extra(2u);
    let quads = (N + 3u) / 4u;
    if (id >= ((M + 3u) / 4u) * quads) { return; }
    let m0 = (id / quads) * 4u; let n0 = (id % quads) * 4u;
    let a_cs = extra(5u); let b_rs = extra(7u);
    let bias = extra(11u);
    let block = select(K, extra(13u), extra(13u) != 0u);
    var a4: vec4<u32>;
    var b4: vec4<u32>;
    for (var j = 0u; j < 4u; j++) {
        a4[j] = extra(3u) + select(m0, m0 + j, m0 + j < M) * extra(4u);
        b4[j] = extra(6u) + select(n0, n0 + j, n0 + j < N) * extra(8u);
    }
    var total: mat4x4<f32>;  // total[r]: row m0 + r
    var acc: mat4x4<f32>;
    var started = extra(12u) != 0u;
    var first = vec4<f32>(0.0);
    if (bias != NONE) { for (var j = 0u; j < 4u && n0 + j < N; j++) { first[j] = mem[bias + n0 + j]; } }
    for (var r = 0u; r < 4u; r++) {
        acc[r] = first;
        if (started && m0 + r < M) {
            for (var j = 0u; j < 4u && n0 + j < N; j++) { total[r][j] = mem[extra(9u) + (m0 + r) * extra(10u) + n0 + j]; }
        }
    }
    for (var k0 = 0u; k0 < K; k0 += block) {
        let k1 = min(K, k0 + block);
        for (var k = k0; k < k1; k++) {
            let row = k * b_rs;
            let bk = vec4<f32>(mem[b4.x + row], mem[b4.y + row], mem[b4.z + row], mem[b4.w + row]);
            let col = k * a_cs;
            acc[0] = acc[0] + mem[a4.x + col] * bk;
            acc[1] = acc[1] + mem[a4.y + col] * bk;
            acc[2] = acc[2] + mem[a4.z + col] * bk;
            acc[3] = acc[3] + mem[a4.w + col] * bk;
        }
        for (var r = 0u; r < 4u; r++) { total[r] = select(acc[r], total[r] + acc[r], started); }
        started = true;
        acc = mat4x4<f32>();
    }
    if (!started) { total = acc; }
    for (var r = 0u; r < 4u && m0 + r < M; r++) {
        for (var j = 0u; j < 4u && n0 + j < N; j++) { mem[extra(9u) + (m0 + r) * extra(10u) + n0 + j] = total[r][j]; }
    }
}

// out[n] += the sum of column n of x (rows, n_cols), in row order
// (matmul_backward's bias). extra: rows, columns, x, out.
@compute @workgroup_size(WG)
fn column_sums(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let n = thread(gid, groups);
    let rows = extra(0u); let cols = extra(1u);
    if (n >= cols) { return; }
    var acc = 0.0;
    for (var r = 0u; r < rows; r++) { acc = acc + mem[extra(2u) + r * cols + n]; }
    mem[extra(3u) + n] = mem[extra(3u) + n] + acc;
}

// transpose(out, inp, R, C): a thread per element (WGSL has a transpose of
// its own, hence the name)
@compute @workgroup_size(WG)
fn transpose_forward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let id = thread(gid, groups);
    let R = arg(2u); let C = arg(3u);
    if (id >= R * C) { return; }
    let r = id / C; let c = id % C;
    mem[arg(0u) + c * R + r] = mem[arg(1u) + id];
}

// transpose_backward(dinp, dout, R, C)
@compute @workgroup_size(WG)
fn transpose_backward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let id = thread(gid, groups);
    let R = arg(2u); let C = arg(3u);
    if (id >= R * C) { return; }
    let r = id / C; let c = id % C;
    mem[arg(0u) + id] = mem[arg(0u) + id] + mem[arg(1u) + c * R + r];
}

// ---- attention ----

// Thread id's row of attention, id = (b NH + h) T + t: its batch, head and
// position, the head's size and the scores' scale.
struct HeadRow { b: u32, h: u32, t: u32, hs: u32, scale: f32 }

fn head_row(id: u32, T: u32, C: u32, NH: u32) -> HeadRow {
    let hs = C / NH;
    return HeadRow(id / (T * NH), (id / T) % NH, id % T, hs, 1.0 / sqrt(f32(hs)));
}

// attention_forward(out, scores, att, qkv, B, T, C, NH): a thread per query
// row of a head, as attention_row does it. Without scores, att holds them
// on the way.
@compute @workgroup_size(WG)
fn attention_forward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let id = thread(gid, groups);
    let B = arg(4u); let T = arg(5u); let C = arg(6u); let NH = arg(7u);
    if (id >= B * NH * T) { return; }
    let r = head_row(id, T, C, NH);
    let t = r.t; let h = r.h; let b = r.b; let hs = r.hs; let scale = r.scale;
    let base = arg(3u) + b * T * 3u * C;
    let q = base + t * 3u * C + h * hs;
    let att = arg(2u) + id * T;
    let score = select(att, arg(1u) + id * T, arg(1u) != NONE);
    for (var t2 = 0u; t2 <= t; t2++) {
        let k = base + t2 * 3u * C + C + h * hs;
        var dot = 0.0;
        for (var i = 0u; i < hs; i++) { dot = dot + mem[q + i] * mem[k + i]; }
        mem[score + t2] = dot * scale;
    }
    softmax_row(att, score, t + 1u);
    for (var t2 = t + 1u; t2 < T; t2++) { mem[att + t2] = 0.0; }
    let out = arg(0u) + (b * T + t) * C + h * hs;
    for (var i = 0u; i < hs; i++) { mem[out + i] = 0.0; }
    for (var t2 = 0u; t2 <= t; t2++) {
        let v = base + t2 * 3u * C + 2u * C + h * hs;
        let a = mem[att + t2];
        for (var i = 0u; i < hs; i++) { mem[out + i] = mem[out + i] + a * mem[v + i]; }
    }
}

// attention_scores(scores, qkv, B, T, C, NH): a thread per score
@compute @workgroup_size(WG)
fn attention_scores(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let id = thread(gid, groups);
    let B = arg(2u); let T = arg(3u); let C = arg(4u); let NH = arg(5u);
    if (id >= B * NH * T * T) { return; }
    let t2 = id % T; let t = (id / T) % T; let h = (id / (T * T)) % NH; let b = id / (T * T * NH);
    let hs = C / NH;
    let base = arg(1u) + b * T * 3u * C;
    let q = base + t * 3u * C + h * hs;
    let k = base + t2 * 3u * C + C + h * hs;
    var dot = 0.0;
    for (var i = 0u; i < hs; i++) { dot = dot + mem[q + i] * mem[k + i]; }
    mem[arg(0u) + id] = dot * (1.0 / sqrt(f32(hs)));
}

// attention_backward(dqkv, dout, qkv, att, B, T, C, NH), first pass: a
// thread per query row of a head. datt (each of the row's keys: dout . v)
// goes to scratch where att's row is in att, and the row's sum of
// att * datt after all B NH T T of them; then the query's gradient.
@compute @workgroup_size(WG)
fn attention_backward_query(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let id = thread(gid, groups);
    let B = arg(4u); let T = arg(5u); let C = arg(6u); let NH = arg(7u);
    if (id >= B * NH * T) { return; }
    let r = head_row(id, T, C, NH);
    let t = r.t; let h = r.h; let b = r.b; let hs = r.hs; let scale = r.scale;
    let base = arg(2u) + b * T * 3u * C;
    let dout = arg(1u) + (b * T + t) * C + h * hs;
    let att = arg(3u) + id * T;
    let datt = id * T;
    var dot_sum = 0.0;
    for (var t2 = 0u; t2 <= t; t2++) {
        let v = base + t2 * 3u * C + 2u * C + h * hs;
        var d = 0.0;
        for (var i = 0u; i < hs; i++) { d = d + mem[dout + i] * mem[v + i]; }
        scratch[datt + t2] = d;
        dot_sum = dot_sum + mem[att + t2] * d;
    }
    scratch[B * NH * T * T + id] = dot_sum;
    let dq = arg(0u) + b * T * 3u * C + t * 3u * C + h * hs;
    for (var t2 = 0u; t2 <= t; t2++) {
        let dscore = mem[att + t2] * (scratch[datt + t2] - dot_sum) * scale;
        let k = base + t2 * 3u * C + C + h * hs;
        for (var i = 0u; i < hs; i++) { mem[dq + i] = mem[dq + i] + dscore * mem[k + i]; }
    }
}

// second pass: a thread per key row of a head, over the queries that see
// it, in order: its gradients in K and V
@compute @workgroup_size(WG)
fn attention_backward_key(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let id = thread(gid, groups);
    let B = arg(4u); let T = arg(5u); let C = arg(6u); let NH = arg(7u);
    if (id >= B * NH * T) { return; }
    let r = head_row(id, T, C, NH);  // its t is the key's position
    let t2 = r.t; let h = r.h; let b = r.b; let hs = r.hs; let scale = r.scale;
    let base = arg(2u) + b * T * 3u * C;
    let dbase = arg(0u) + b * T * 3u * C;
    let dk = dbase + t2 * 3u * C + C + h * hs;
    let dv = dbase + t2 * 3u * C + 2u * C + h * hs;
    let head = (b * NH + h) * T;  // the head's first query row
    for (var t = t2; t < T; t++) {
        let row = head + t;
        let a = mem[arg(3u) + row * T + t2];
        let dscore = a * (scratch[row * T + t2] - scratch[B * NH * T * T + row]) * scale;
        let dout = arg(1u) + (b * T + t) * C + h * hs;
        let q = base + t * 3u * C + h * hs;
        for (var i = 0u; i < hs; i++) {
            mem[dv + i] = mem[dv + i] + a * mem[dout + i];
            mem[dk + i] = mem[dk + i] + dscore * mem[q + i];
        }
    }
}

// attention_decode(out, scores, att, q, k, v, len, C, NH), first pass: a
// thread per score (head, key); k and v advance by C floats a position
@compute @workgroup_size(WG)
fn attention_decode_scores(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let id = thread(gid, groups);
    let len = arg(6u); let C = arg(7u); let NH = arg(8u);
    if (id >= NH * len) { return; }
    let h = id / len; let t2 = id % len;
    let hs = C / NH;
    let q = arg(3u) + h * hs;
    let k = arg(4u) + t2 * C + h * hs;
    var dot = 0.0;
    for (var i = 0u; i < hs; i++) { dot = dot + mem[q + i] * mem[k + i]; }
    mem[select(arg(2u), arg(1u), arg(1u) != NONE) + id] = dot * (1.0 / sqrt(f32(hs)));
}

// second pass: a thread per head, its softmax
@compute @workgroup_size(WG)
fn attention_decode_softmax(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let h = thread(gid, groups);
    let len = arg(6u); let NH = arg(8u);
    if (h >= NH) { return; }
    softmax_row(arg(2u) + h * len, select(arg(2u), arg(1u), arg(1u) != NONE) + h * len, len);
}

// third pass: a thread per output element, att @ v
@compute @workgroup_size(WG)
fn attention_decode_out(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let c = thread(gid, groups);
    let len = arg(6u); let C = arg(7u); let NH = arg(8u);
    if (c >= C) { return; }
    let h = c / (C / NH);
    var acc = 0.0;
    for (var t2 = 0u; t2 < len; t2++) { acc = acc + mem[arg(2u) + h * len + t2] * mem[arg(5u) + t2 * C + c]; }
    mem[arg(0u) + c] = acc;
}

// ---- element-wise ----

// gelu_forward(out, inp, N)
@compute @workgroup_size(WG)
fn gelu_forward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = thread(gid, groups);
    if (i >= arg(2u)) { return; }
    mem[arg(0u) + i] = gelu(mem[arg(1u) + i]);
}

// gelu_backward(dinp, inp, dout, N)
@compute @workgroup_size(WG)
fn gelu_backward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = thread(gid, groups);
    if (i >= arg(3u)) { return; }
    mem[arg(0u) + i] = mem[arg(0u) + i] + gelu_grad(mem[arg(1u) + i]) * mem[arg(2u) + i];
}

// residual_forward(out, a, b, N)
@compute @workgroup_size(WG)
fn residual_forward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = thread(gid, groups);
    if (i >= arg(3u)) { return; }
    mem[arg(0u) + i] = mem[arg(1u) + i] + mem[arg(2u) + i];
}

// residual_backward(da, db, dout, N)
@compute @workgroup_size(WG)
fn residual_backward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = thread(gid, groups);
    if (i >= arg(3u)) { return; }
    let d = mem[arg(2u) + i];
    mem[arg(0u) + i] = mem[arg(0u) + i] + d;
    mem[arg(1u) + i] = mem[arg(1u) + i] + d;
}

// ---- the head ----

// softmax_forward(probs, logits, N, V): a thread per row
@compute @workgroup_size(WG)
fn softmax_forward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let n = thread(gid, groups);
    let N = arg(2u); let V = arg(3u);
    if (n >= N) { return; }
    softmax_row(arg(0u) + n * V, arg(1u) + n * V, V);
}

// crossentropy_forward(losses, probs, targets, N, V)
@compute @workgroup_size(WG)
fn crossentropy_forward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let n = thread(gid, groups);
    let N = arg(3u); let V = arg(4u);
    if (n >= N) { return; }
    mem[arg(0u) + n] = -log(mem[arg(1u) + n * V + token(arg(2u) + n)]);
}

// crossentropy_softmax_backward(dlogits, probs, targets, dloss, N, V)
@compute @workgroup_size(WG)
fn crossentropy_softmax_backward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let id = thread(gid, groups);
    let N = arg(4u); let V = arg(5u);
    if (id >= N * V) { return; }
    let n = id / V; let i = id % V;
    let one = select(0.0, 1.0, i == token(arg(2u) + n));
    mem[arg(0u) + id] = (mem[arg(1u) + id] - one) * argf(3u);
}

// ---- training ----

// dropout(x, n, first, p, seed): element i is dropped when the top word of
// splitmix64's (first + i)-th number of seed falls below p 2^32
@compute @workgroup_size(WG)
fn dropout(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = thread(gid, groups);
    if (i >= arg(1u)) { return; }
    let p = argf(3u);
    let cut = u32(p * 4294967296.0);  // exact: p times a power of two
    let z = mix64(arg64(4u), add64(arg64(2u), vec2<u32>(i, 0u)));
    let at = arg(0u) + i;
    mem[at] = select(mem[at] * (1.0 / (1.0 - p)), 0.0, z.y < cut);
}

// adamw_update(p, g, m, v, n, decay, beta1, beta2, eps, step_size, bc2_sqrt)
@compute @workgroup_size(WG)
fn adamw_update(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = thread(gid, groups);
    if (i >= arg(4u)) { return; }
    let beta1 = argf(6u); let beta2 = argf(7u);
    let g = mem[arg(1u) + i];
    let p = mem[arg(0u) + i] * argf(5u);
    let m = mem[arg(2u) + i] + (g - mem[arg(2u) + i]) * (1.0 - beta1);
    let v = mem[arg(3u) + i] * beta2 + (1.0 - beta2) * g * g;
    mem[arg(2u) + i] = m;
    mem[arg(3u) + i] = v;
    mem[arg(0u) + i] = p - argf(9u) * m / (sqrt(v) / argf(10u) + argf(8u));
}

// zero(x, n)
@compute @workgroup_size(WG)
fn zero(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = thread(gid, groups);
    if (i >= arg(1u)) { return; }
    mem[arg(0u) + i] = 0.0;
}

// copy(dst, src, n)
@compute @workgroup_size(WG)
fn copy(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = thread(gid, groups);
    if (i >= arg(2u)) { return; }
    mem[arg(0u) + i] = mem[arg(1u) + i];
}

// mean(out, x, n) and norm(out, x, n): one workgroup. The CPU sums in
// double; here each sum is a pair of floats (hi + lo, about 48 bits), added
// without loss (Knuth's two-sum), and squares are split exactly (Dekker),
// so that the float at the end is nearly always the CPU's.
var<workgroup> partial: array<vec2<f32>, 256>;

// a + b exactly, as (sum, error)
fn two_sum(a: f32, b: f32) -> vec2<f32> {
    let s = a + b;
    let bb = s - a;
    return vec2<f32>(s, (a - (s - bb)) + (b - bb));
}

fn add_pairs(a: vec2<f32>, b: vec2<f32>) -> vec2<f32> {
    let s = two_sum(a.x, b.x);
    let lo = s.y + a.y + b.y;
    return two_sum(s.x, lo);
}

// x split into two halves of 12 bits, whose products are exact
fn split(x: f32) -> vec2<f32> {
    let c = 4097.0 * x;
    let hi = c - (c - x);
    return vec2<f32>(hi, x - hi);
}

// a * b exactly, as (product, error)
fn two_prod(a: f32, b: f32) -> vec2<f32> {
    let p = a * b;
    let x = split(a);
    let y = split(b);
    return vec2<f32>(p, ((x.x * y.x - p) + x.x * y.y + x.y * y.x) + x.y * y.y);
}

fn reduce(lid: u32, x: u32, n: u32, squares: bool) -> vec2<f32> {
    var sum = vec2<f32>(0.0, 0.0);
    for (var i = lid; i < n; i += 256u) {
        let v = mem[x + i];
        sum = add_pairs(sum, select(vec2<f32>(v, 0.0), two_prod(v, v), squares));
    }
    partial[lid] = sum;
    for (var s = 128u; s > 0u; s >>= 1u) {
        workgroupBarrier();
        if (lid < s) { partial[lid] = add_pairs(partial[lid], partial[lid + s]); }
    }
    workgroupBarrier();
    return partial[0];
}

@compute @workgroup_size(256)
fn mean(@builtin(local_invocation_id) lid: vec3<u32>) {
    let sum = reduce(lid.x, arg(1u), arg(2u), false);
    // (hi + lo) / n, with the quotient's error taken back
    let n = f32(arg(2u));
    let q = sum.x / n;
    let qn = two_prod(q, n);
    if (lid.x == 0u) { mem[arg(0u)] = q + (((sum.x - qn.x) - qn.y) + sum.y) / n; }
}

@compute @workgroup_size(256)
fn norm(@builtin(local_invocation_id) lid: vec3<u32>) {
    let sum = reduce(lid.x, arg(1u), arg(2u), true);
    // sqrt(hi + lo) = sqrt(hi) + lo / (2 sqrt(hi)), and what hi's root
    // misses of hi
    let r = sqrt(sum.x);
    let rr = two_prod(r, r);
    if (lid.x == 0u) { mem[arg(0u)] = select(r + ((sum.x - rr.x - rr.y) + sum.y) / (2.0 * r), 0.0, r == 0.0); }
}

// clip(x, n, norm, max_norm)
@compute @workgroup_size(WG)
fn clip(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = thread(gid, groups);
    if (i >= arg(1u)) { return; }
    let max_norm = argf(3u);
    let coef = max_norm / (mem[arg(2u)] + 1e-6);
    if (max_norm > 0.0 && coef < 1.0) { mem[arg(0u) + i] = mem[arg(0u) + i] * coef; }
}
