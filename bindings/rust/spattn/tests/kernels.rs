// The kernel entry points through their CPU references (no GPU needed): decode on a paged KV
// cache, merge, VSA, index-sparse attention, top-k and a RocketKV decode step, each against a
// float64 model or hand-computed values.
mod common;

use common::{attend, from_bf16, row, Rng};
use spattn::{new_struct, sys, Config, Dtype, ErrorKind, Format, KtCacheDtype, KvLayout};
use std::ptr;

/// The CPU references compute in float64 and round each bf16 output once: at most half an ulp,
/// 2^-8 of |x| (bf16 keeps 8 significant bits), and |x| <= max|v| for an attention output.
const BF16_OUT: f64 = 1.0 / 256.0;

fn max_abs(values: &[u16]) -> f64 {
    values.iter().map(|&h| (from_bf16(h) as f64).abs()).fold(0.0, f64::max)
}

/// A contiguous bf16 cache of `batch` sequences of `max_len` tokens, `heads` KV heads of `dim`.
fn contiguous_cache(k: &[u16], v: &[u16], seqlens: &[i32], max_len: i32, heads: i32, dim: i32) -> sys::spattn_kv_cache {
    let mut c: sys::spattn_kv_cache = new_struct();
    c.layout = KvLayout::Contiguous.raw();
    c.dtype = Dtype::Bfloat16.raw();
    c.num_kv_heads = heads;
    c.head_dim = dim;
    c.k = k.as_ptr() as *const _;
    c.v = v.as_ptr() as *const _;
    let strides = [(max_len * heads * dim) as i64, (heads * dim) as i64, dim as i64];
    c.k_strides = strides;
    c.v_strides = strides;
    c.seqlens_kv = seqlens.as_ptr();
    c.max_seqlen_kv = max_len;
    c
}

#[test]
fn decode_on_shuffled_pages_matches_float64() {
    // Two sequences of 20 and 37 keys in pages of 16, handed out out of order (page 3 spare);
    // GQA 4 query heads on 2 KV heads; 2 queries per sequence, causal (bottom-right).
    let (heads, kv_heads, dim, page, sq) = (4usize, 2usize, 64usize, 16usize, 2usize);
    let lengths = [20i32, 37];
    let block_table: [i32; 6] = [4, 1, -1, 5, 0, 2];
    let mut rng = Rng(7);
    let pool = 6 * page * kv_heads * dim;
    let mut k_pool = vec![common::to_bf16(100.0); pool]; // slots past the end: large, never attended
    let mut v_pool = vec![common::to_bf16(100.0); pool];
    let mut keys: Vec<Vec<u16>> = Vec::new(); // [token][kv head][dim] per sequence
    let mut values: Vec<Vec<u16>> = Vec::new();
    for (b, &len) in lengths.iter().enumerate() {
        let (k, v) = (rng.bf16s(len as usize * kv_heads * dim), rng.bf16s(len as usize * kv_heads * dim));
        for t in 0..len as usize {
            let slot = (block_table[b * 3 + t / page] as usize * page + t % page) * kv_heads * dim;
            k_pool[slot..slot + kv_heads * dim].copy_from_slice(&k[t * kv_heads * dim..(t + 1) * kv_heads * dim]);
            v_pool[slot..slot + kv_heads * dim].copy_from_slice(&v[t * kv_heads * dim..(t + 1) * kv_heads * dim]);
        }
        keys.push(k);
        values.push(v);
    }
    let q = rng.bf16s(2 * sq * heads * dim);
    let mut out = vec![0u16; q.len()];
    let mut lse = vec![0f32; 2 * heads * sq];
    let mut cache: sys::spattn_kv_cache = new_struct();
    cache.layout = KvLayout::Paged.raw();
    cache.dtype = Dtype::Bfloat16.raw();
    cache.num_kv_heads = kv_heads as i32;
    cache.head_dim = dim as i32;
    cache.k = k_pool.as_ptr() as *const _;
    cache.v = v_pool.as_ptr() as *const _;
    cache.k_strides = [(page * kv_heads * dim) as i64, (kv_heads * dim) as i64, dim as i64];
    cache.v_strides = cache.k_strides;
    cache.seqlens_kv = lengths.as_ptr();
    cache.max_seqlen_kv = 48;
    cache.page_size = page as i32;
    cache.num_pages = 6;
    cache.block_table = block_table.as_ptr();
    cache.max_pages_per_seq = 3;
    let mut a: sys::spattn_decode_args = new_struct();
    a.dtype = Dtype::Bfloat16.raw();
    a.batch = 2;
    a.num_heads = heads as i32;
    a.seqlen_q = sq as i32;
    a.q = q.as_ptr() as *const _;
    a.q_strides = [(sq * heads * dim) as i64, (heads * dim) as i64, dim as i64];
    a.out = out.as_mut_ptr() as *mut _;
    a.out_strides = a.q_strides;
    a.kv_cache = &cache;
    a.causal = 1;
    a.lse = lse.as_mut_ptr();
    unsafe { spattn::attention_decode_reference(&a) }.unwrap();
    let vmax = values.iter().map(|v| max_abs(v)).fold(0.0, f64::max);
    for b in 0..2 {
        let len = lengths[b] as usize;
        for i in 0..sq {
            for h in 0..heads {
                let g = h / (heads / kv_heads);
                let visible: Vec<(Vec<f64>, Vec<f64>)> = (0..=i + len - sq)
                    .map(|j| (row(&keys[b], (j * kv_heads + g) * dim, dim), row(&values[b], (j * kv_heads + g) * dim, dim)))
                    .collect();
                let (want, want_lse) = attend(&row(&q, ((b * sq + i) * heads + h) * dim, dim), &visible);
                let got = row(&out, ((b * sq + i) * heads + h) * dim, dim);
                let worst = got.iter().zip(&want).map(|(x, y)| (x - y).abs()).fold(0.0, f64::max);
                assert!(worst <= BF16_OUT * vmax, "b {} query {} head {}: {}", b, i, h, worst);
                let got_lse = lse[(b * heads + h) * sq + i] as f64;
                assert!((got_lse - want_lse).abs() < 1e-4, "lse b {} query {} head {}: {} vs {}", b, i, h, got_lse, want_lse);
            }
        }
    }
    // A page id out of range is refused by the reference (the GPU would mask the keys).
    let bad: [i32; 6] = [4, 1, -1, 5, 0, 6];
    cache.block_table = bad.as_ptr();
    a.kv_cache = &cache;
    let e = unsafe { spattn::attention_decode_reference(&a) }.unwrap_err();
    assert_eq!(e.kind, ErrorKind::InvalidArgument, "{}", e);
}

#[test]
fn decode_splits_follow_the_documented_rule() {
    let kv = vec![0u16; 64];
    let seqlens = [0i32];
    let mut cache = contiguous_cache(&kv, &kv, &seqlens, 5120, 2, 64);
    let mut a: sys::spattn_decode_args = new_struct();
    a.dtype = Dtype::Bfloat16.raw();
    a.batch = 1;
    a.num_heads = 4;
    a.seqlen_q = 2;
    a.q = kv.as_ptr() as *const _;
    a.out = kv.as_ptr() as *mut _;
    a.kv_cache = &cache;
    // T = 40 key tiles, C = 1 batch x 2 KV heads x 1 row tile: min(ceil(40 / 4), ceil(128 / 2)) = 10.
    assert_eq!(unsafe { spattn::decode_num_splits(&a) }.unwrap(), 10);
    assert!(unsafe { spattn::decode_workspace_size(&a) }.unwrap() > 0);
    a.num_splits = 9; // ceil(40 / 9) = 5 tiles each: 8 splits hold tiles
    assert_eq!(unsafe { spattn::decode_num_splits(&a) }.unwrap(), 8);
    a.num_splits = 7; // 6 tiles each: 7 splits
    assert_eq!(unsafe { spattn::decode_num_splits(&a) }.unwrap(), 7);
    cache.max_seqlen_kv = 100; // one tile: one split, no workspace
    a.kv_cache = &cache;
    a.num_splits = 4;
    assert_eq!(unsafe { spattn::decode_num_splits(&a) }.unwrap(), 1);
    assert_eq!(unsafe { spattn::decode_workspace_size(&a) }.unwrap(), 0);
    a.num_splits = 2000;
    assert_eq!(unsafe { spattn::decode_num_splits(&a) }.unwrap_err().kind, ErrorKind::InvalidArgument);
}

#[test]
fn merge_of_two_shards_equals_attention_over_all_keys() {
    // 300 keys, 2 query heads on 1 KV head: decode over keys [0, 170) and [170, 300) separately
    // (the second shard's cache starts 170 tokens in), then merge the bf16 parts by their LSE.
    let (len, split, heads, dim) = (300usize, 170usize, 2usize, 64usize);
    let mut rng = Rng(11);
    let (k, v) = (rng.bf16s(len * dim), rng.bf16s(len * dim));
    let q = rng.bf16s(heads * dim);
    let lens = [[split as i32], [(len - split) as i32]];
    let caches = [
        contiguous_cache(&k, &v, &lens[0], len as i32, 1, dim as i32),
        contiguous_cache(&k[split * dim..], &v[split * dim..], &lens[1], (len - split) as i32, 1, dim as i32),
    ];
    let mut parts = vec![vec![0u16; heads * dim]; 2];
    let mut part_lse = vec![vec![0f32; heads]; 2];
    for s in 0..2 {
        let mut a: sys::spattn_decode_args = new_struct();
        a.dtype = Dtype::Bfloat16.raw();
        a.batch = 1;
        a.num_heads = heads as i32;
        a.seqlen_q = 1;
        a.q = q.as_ptr() as *const _;
        a.q_strides = [(heads * dim) as i64, (heads * dim) as i64, dim as i64];
        a.out = parts[s].as_mut_ptr() as *mut _;
        a.out_strides = a.q_strides;
        a.kv_cache = &caches[s];
        a.lse = part_lse[s].as_mut_ptr();
        unsafe { spattn::attention_decode_reference(&a) }.unwrap();
    }
    let part_ptrs: Vec<*const std::ffi::c_void> = parts.iter().map(|p| p.as_ptr() as *const _).collect();
    let lse_ptrs: Vec<*const f32> = part_lse.iter().map(|l| l.as_ptr()).collect();
    let mut merged = vec![0f32; heads * dim];
    let mut merged_lse = vec![0f32; heads];
    let mut m: sys::spattn_merge_args = new_struct();
    m.num_parts = 2;
    m.batch = 1;
    m.seqlen = 1;
    m.num_heads = heads as i32;
    m.head_dim = dim as i32;
    m.parts_dtype = Dtype::Bfloat16.raw();
    m.parts = part_ptrs.as_ptr();
    m.part_strides = [(heads * dim) as i64, (heads * dim) as i64, dim as i64];
    m.part_lse = lse_ptrs.as_ptr();
    m.out_dtype = Dtype::Float32.raw();
    m.out = merged.as_mut_ptr() as *mut _;
    m.out_strides = m.part_strides;
    m.lse = merged_lse.as_mut_ptr();
    unsafe { spattn::attention_merge_reference(&m) }.unwrap();
    let vmax = max_abs(&v);
    for h in 0..heads {
        let all: Vec<(Vec<f64>, Vec<f64>)> = (0..len).map(|j| (row(&k, j * dim, dim), row(&v, j * dim, dim))).collect();
        let (want, want_lse) = attend(&row(&q, h * dim, dim), &all);
        // Each part is a bf16 output (BF16_OUT of max|v|); the merge weights are positive and sum
        // to 1, and the float32 output adds 2^-24 relative.
        let worst = (0..dim).map(|c| (merged[h * dim + c] as f64 - want[c]).abs()).fold(0.0, f64::max);
        assert!(worst <= BF16_OUT * vmax + 1e-6, "head {}: {}", h, worst);
        assert!((merged_lse[h] as f64 - want_lse).abs() < 1e-4, "head {}: lse {} vs {}", h, merged_lse[h], want_lse);
    }
    m.num_parts = 0;
    assert_eq!(unsafe { spattn::attention_merge_reference(&m) }.unwrap_err().kind, ErrorKind::InvalidArgument);
}

#[test]
fn vsa_reference_keeping_every_cube_is_dense_attention() {
    // A 1 x 3 x 4 latent grid in 1 x 2 x 2 cubes: 4 cubes of 4 slots, the last two ragged (2
    // valid tokens each, slots 10, 11, 14, 15 are pads). Sparsity 0 keeps every cube and a zero
    // gate removes the coarse stage, so the output is dense attention over the 12 tokens.
    let dim = 64usize;
    let valid: Vec<usize> = vec![0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 13];
    let mut rng = Rng(3);
    let mut tensor = || {
        let mut t = vec![0u16; 16 * dim];
        for &s in &valid {
            let r = rng.bf16s(dim);
            t[s * dim..(s + 1) * dim].copy_from_slice(&r);
        }
        t
    };
    let (q, k, v) = (tensor(), tensor(), tensor());
    let gate = vec![0u16; 16 * dim];
    let mut out = vec![0xffffu16; 16 * dim];
    let mut lse = vec![0f32; 16];
    let mut selected = vec![-1i32; 16];
    let mut a: sys::spattn_vsa_args = new_struct();
    a.dtype = Dtype::Bfloat16.raw();
    a.batch = 1;
    a.num_heads = 1;
    a.num_kv_heads = 1;
    a.head_dim = dim as i32;
    a.grid = [1, 3, 4];
    a.cube_shape = [1, 2, 2];
    a.sparsity = 0.0;
    let strides = [(16 * dim) as i64, dim as i64, dim as i64];
    a.q = q.as_ptr() as *const _;
    a.k = k.as_ptr() as *const _;
    a.v = v.as_ptr() as *const _;
    a.gate = gate.as_ptr() as *const _;
    a.out = out.as_mut_ptr() as *mut _;
    a.q_strides = strides;
    a.k_strides = strides;
    a.v_strides = strides;
    a.gate_strides = strides;
    a.out_strides = strides;
    a.lse = lse.as_mut_ptr();
    a.selected_cubes = selected.as_mut_ptr();
    let g = unsafe { spattn::vsa_geometry(&a) }.unwrap();
    assert_eq!((g.cubes, g.num_cubes, g.cube_volume, g.kept_cubes, g.padded_tokens), ([1, 2, 2], 4, 4, 4, 16));
    unsafe { spattn::vsa_reference(&a) }.unwrap();
    assert_eq!(selected, [0, 1, 2, 3].repeat(4));
    let keys: Vec<(Vec<f64>, Vec<f64>)> = valid.iter().map(|&s| (row(&k, s * dim, dim), row(&v, s * dim, dim))).collect();
    let vmax = max_abs(&v);
    for s in 0..16 {
        let got = row(&out, s * dim, dim);
        if !valid.contains(&s) {
            assert!(got.iter().all(|&x| x == 0.0) && lse[s] == f32::NEG_INFINITY, "pad slot {}", s);
            continue;
        }
        let (want, want_lse) = attend(&row(&q, s * dim, dim), &keys);
        let worst = got.iter().zip(&want).map(|(x, y)| (x - y).abs()).fold(0.0, f64::max);
        assert!(worst <= BF16_OUT * vmax, "slot {}: {}", s, worst);
        assert!((lse[s] as f64 - want_lse).abs() < 1e-4, "slot {}: lse {} vs {}", s, lse[s], want_lse);
    }
    a.sparsity = 1.0;
    assert_eq!(unsafe { spattn::vsa_reference(&a) }.unwrap_err().kind, ErrorKind::InvalidArgument);
}

#[test]
fn sparse_attention_reference_attends_to_the_listed_keys() {
    // 8 keys, 2 query heads on 1 KV head, 2 query tokens with their own lists (DSA style: one
    // list per query token shared by the heads); -1 is an empty slot.
    let (len, heads, dim, topk) = (8usize, 2usize, 64usize, 4usize);
    let mut rng = Rng(5);
    let (k, v) = (rng.bf16s(len * dim), rng.bf16s(len * dim));
    let q = rng.bf16s(2 * heads * dim);
    let seqlens = [len as i32];
    let cache = contiguous_cache(&k, &v, &seqlens, len as i32, 1, dim as i32);
    let mut lists: Vec<i32> = vec![3, -1, 0, 7, 5, 1, -1, -1];
    let mut out = vec![0u16; q.len()];
    let mut lse = vec![0f32; heads * 2];
    let mut a: sys::spattn_sparse_attention_args = new_struct();
    a.dtype = Dtype::Bfloat16.raw();
    a.batch = 1;
    a.num_heads = heads as i32;
    a.seqlen_q = 2;
    a.q = q.as_ptr() as *const _;
    a.q_strides = [(2 * heads * dim) as i64, (heads * dim) as i64, dim as i64];
    a.out = out.as_mut_ptr() as *mut _;
    a.out_strides = a.q_strides;
    a.kv_cache = &cache;
    a.indices = lists.as_ptr();
    a.index_strides = [(2 * topk) as i64, topk as i64, 0];
    a.topk = topk as i32;
    a.lse = lse.as_mut_ptr();
    unsafe { spattn::sparse_attention_reference(&a) }.unwrap();
    let vmax = max_abs(&v);
    for i in 0..2 {
        let keys: Vec<(Vec<f64>, Vec<f64>)> = lists[i * topk..(i + 1) * topk]
            .iter()
            .filter(|&&j| j >= 0)
            .map(|&j| (row(&k, j as usize * dim, dim), row(&v, j as usize * dim, dim)))
            .collect();
        for h in 0..heads {
            let (want, want_lse) = attend(&row(&q, (i * heads + h) * dim, dim), &keys);
            let got = row(&out, (i * heads + h) * dim, dim);
            let worst = got.iter().zip(&want).map(|(x, y)| (x - y).abs()).fold(0.0, f64::max);
            assert!(worst <= BF16_OUT * vmax, "query {} head {}: {}", i, h, worst);
            assert!((lse[h * 2 + i] as f64 - want_lse).abs() < 1e-4);
        }
    }
    lists[1] = 3; // listed twice: the reference refuses it
    let e = unsafe { spattn::sparse_attention_reference(&a) }.unwrap_err();
    assert_eq!(e.kind, ErrorKind::InvalidArgument, "{}", e);
}

#[test]
fn topk_reference_picks_the_largest_ties_lower_first() {
    let nan = f32::NAN;
    let inf = f32::INFINITY;
    let scores: [f32; 12] = [1.0, 3.0, 3.0, -inf, nan, 2.0, /* row 1 */ 5.0, -inf, 9.0, 9.0, 9.0, 9.0];
    let lengths = [6i32, 2];
    let mut indices = [7i32; 8];
    let mut a: sys::spattn_topk_args = new_struct();
    a.num_rows = 2;
    a.num_cols = 6;
    a.scores = scores.as_ptr();
    a.score_row_stride = 6;
    a.lengths = lengths.as_ptr();
    a.k = 3;
    a.indices = indices.as_mut_ptr();
    a.index_row_stride = 4;
    unsafe { spattn::topk_reference(&a) }.unwrap();
    // Row 0: 3 (col 1), 3 (col 2), 2 (col 5), in column order; row 1 sees cols 0 and 1 only,
    // and -inf is never selected. Slot 3 of each row (past k) is untouched.
    assert_eq!(indices, [1, 2, 5, 7, 0, -1, -1, 7]);
    a.k = 0;
    assert_eq!(unsafe { spattn::topk_reference(&a) }.unwrap_err().kind, ErrorKind::InvalidArgument);
}

#[test]
fn rocket_decode_reference_with_every_page_selected() {
    // One sequence whose 9th key was just appended (entry 2 of pages of 4 starts with it), topk 4
    // >= the 3 entries: every token is attended, the KT cache's entry 2 becomes that key alone.
    let config = Config::parse("algorithm: rocket\ntopk: 4\npage_size: 4\nkt_cache_dtype: bfloat16\n", Format::Yaml).unwrap();
    let rocket = config.rocket().unwrap();
    assert_eq!(rocket.kt_cache_dtype, KtCacheDtype::Bfloat16);
    let raw_config = rocket.to_raw();
    let (len, heads, dim) = (9usize, 2usize, 64usize);
    let mut rng = Rng(9);
    let (k, v) = (rng.bf16s(12 * dim), rng.bf16s(12 * dim));
    let q = rng.bf16s(heads * dim);
    let seqlens = [len as i32];
    let cache = contiguous_cache(&k, &v, &seqlens, 12, 1, dim as i32);
    // Entries 0 and 1 as the context phase built them: the element-wise min and max of their keys.
    let mut kt = vec![0u16; 3 * 2 * dim];
    for e in 0..2 {
        for d in 0..dim {
            let column: Vec<f32> = (e * 4..e * 4 + 4).map(|t| from_bf16(k[t * dim + d])).collect();
            kt[e * 2 * dim + d] = common::to_bf16(column.iter().cloned().fold(f32::INFINITY, f32::min));
            kt[e * 2 * dim + dim + d] = common::to_bf16(column.iter().cloned().fold(f32::NEG_INFINITY, f32::max));
        }
    }
    let built = kt[..2 * 2 * dim].to_vec();
    let mut kt_cache: sys::spattn_kt_cache = new_struct();
    kt_cache.layout = KvLayout::Contiguous.raw();
    kt_cache.dtype = KtCacheDtype::Bfloat16.raw();
    kt_cache.num_kv_heads = 1;
    kt_cache.head_dim = dim as i32;
    kt_cache.data = kt.as_mut_ptr() as *mut _;
    kt_cache.strides = [(3 * 2 * dim) as i64, (2 * dim) as i64, (2 * dim) as i64];
    kt_cache.max_entries = 3;
    let mut out = vec![0u16; heads * dim];
    let mut lse = vec![0f32; heads];
    let mut selected = vec![0i32; 16];
    let mut a: sys::spattn_rocket_decode_args = new_struct();
    a.config = &raw_config;
    a.dtype = Dtype::Bfloat16.raw();
    a.batch = 1;
    a.num_heads = heads as i32;
    a.q = q.as_ptr() as *const _;
    a.q_strides = [(heads * dim) as i64, (heads * dim) as i64, dim as i64];
    a.out = out.as_mut_ptr() as *mut _;
    a.out_strides = a.q_strides;
    a.kv_cache = &cache;
    a.kt_cache = &kt_cache;
    a.lse = lse.as_mut_ptr();
    a.selected_indices = selected.as_mut_ptr();
    unsafe { spattn::rocket_decode_reference(&a) }.unwrap();
    let mut want_selected: Vec<i32> = (0..len as i32).collect();
    want_selected.resize(16, -1);
    assert_eq!(selected, want_selected);
    assert_eq!(&kt[..2 * 2 * dim], &built[..], "entries 0 and 1 are not the new key's");
    assert_eq!(&kt[4 * dim..5 * dim], &k[8 * dim..9 * dim], "entry 2 min");
    assert_eq!(&kt[5 * dim..6 * dim], &k[8 * dim..9 * dim], "entry 2 max");
    let keys: Vec<(Vec<f64>, Vec<f64>)> = (0..len).map(|j| (row(&k, j * dim, dim), row(&v, j * dim, dim))).collect();
    let vmax = max_abs(&v[..len * dim]);
    for h in 0..heads {
        let (want, want_lse) = attend(&row(&q, h * dim, dim), &keys);
        let worst = row(&out, h * dim, dim).iter().zip(&want).map(|(x, y)| (x - y).abs()).fold(0.0, f64::max);
        assert!(worst <= BF16_OUT * vmax, "head {}: {}", h, worst);
        assert!((lse[h] as f64 - want_lse).abs() < 1e-4);
    }
    a.config = ptr::null();
    assert_eq!(unsafe { spattn::rocket_decode_reference(&a) }.unwrap_err().kind, ErrorKind::InvalidArgument);
}
