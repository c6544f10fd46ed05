// Tests of the safe crate against the built library: configs, errors, the sample checkpoints
// and the shared lookup table (bindings/testdata/lookups.tsv), lifetimes, threads, and the CPU
// reference attention.
mod common;

use common::{checkpoint, from_bf16, repo};
use spattn::{sys, Algorithm, Config, DisabledReason, ErrorKind, Format, IndexerKDtype, KtCacheDtype, Model, Phase, PhaseKey};
use std::sync::Arc;

const LLM_YAML: &str = "sparse_attention_config:\n  algorithm: skip_softmax\n  threshold_scale_factor:\n    prefill: 1000.0\n    decode: 500.0\n";
const LLM_JSON: &str = r#"{"sparse_attention_config": {"algorithm": "skip_softmax", "threshold_scale_factor": {"prefill": 1000.0, "decode": 500.0}}}"#;

#[test]
fn version_matches_header() {
    assert_eq!(unsafe { sys::spattn_version() }, sys::SPATTN_VERSION_NUMBER);
    assert_eq!(spattn::version(), format!("{}.{}.{}", sys::SPATTN_VERSION_MAJOR, sys::SPATTN_VERSION_MINOR, sys::SPATTN_VERSION_PATCH));
}

#[test]
fn parse_yaml_and_json() {
    let y = Config::parse(LLM_YAML, Format::Auto).unwrap();
    let j = Config::parse(LLM_JSON, Format::Json).unwrap();
    assert_eq!(y.algorithm(), Algorithm::SkipSoftmax);
    assert_eq!(y.backend(), None);
    let s = y.skip_softmax().unwrap();
    let t = s.threshold_scale_factor.unwrap();
    assert_eq!((t.prefill, t.decode), (1000.0, 500.0));
    assert!(s.target_sparsity.is_none());
    assert_eq!(y.to_json().unwrap(), j.to_json().unwrap());
    let again = Config::parse(&y.to_json().unwrap(), Format::Auto).unwrap();
    assert_eq!(again.to_json().unwrap(), y.to_json().unwrap());
}

#[test]
fn config_files_and_accessors() {
    for name in ["visualgen_target.yaml", "visualgen_target.json"] {
        let c = Config::from_file(repo().join("examples/configs").join(name), Format::Auto).unwrap();
        assert_eq!(c.backend(), Some("TRTLLM"));
        let s = c.skip_softmax().unwrap();
        assert_eq!(s.target_sparsity.unwrap().decode, 0.5);
        assert_eq!(s.disabled_until_timestep, Some(0.6));
    }
    let r = Config::parse("sparse_attention_config: {algorithm: rocket, prompt_budget: 1024}", Format::Yaml).unwrap();
    assert_eq!(r.algorithm(), Algorithm::Rocket);
    let rocket = r.rocket().unwrap();
    assert_eq!((rocket.prompt_budget, rocket.window_size, rocket.topk), (1024, 32, 64));
    assert_eq!((rocket.kt_cache_dtype, rocket.seq_len_threshold), (KtCacheDtype::Float8E5m2, None));
    let d = Config::parse("algorithm: dsa\nindex_topk: 64\n", Format::Yaml).unwrap();
    let dsa = d.dsa().unwrap();
    assert_eq!((dsa.index_topk, dsa.index_n_heads, dsa.skip_indexer_for_short_seqs), (Some(64), None, true));
    // TensorRT-LLM's defaults for the kernel-selection switches.
    assert_eq!((dsa.q_split_threshold, dsa.use_self_sampling_topk, dsa.indexer_k_dtype, dsa.index_share_for_mtp_iteration),
               (8192, true, IndexerKDtype::Fp8, None));
    let d = Config::parse("algorithm: dsa\nindex_head_dim: 128\nindexer_k_dtype: fp4\nindex_share_for_mtp_iteration: true\n", Format::Yaml).unwrap();
    let dsa = d.dsa().unwrap();
    assert_eq!((dsa.indexer_k_dtype, dsa.index_share_for_mtp_iteration), (IndexerKDtype::Fp4, Some(true)));
    let raw = dsa.to_raw();
    assert_eq!((raw.index_head_dim, raw.indexer_k_dtype, raw.index_share_for_mtp_iteration, raw.q_split_threshold),
               (128, sys::SPATTN_INDEXER_K_FP4, 1, 8192));
    let v = Config::from_file(repo().join("examples/configs/visualgen_vsa.yaml"), Format::Auto).unwrap();
    assert_eq!((v.algorithm(), v.backend()), (Algorithm::Vsa, Some("CUTEDSL")));
    let vsa = v.vsa().unwrap();
    assert_eq!((vsa.vsa_sparsity, vsa.cube_shape, vsa.disabled_until_timestep), (0.9, [4, 4, 4], Some(0.9)));
    assert_eq!(v.dsa().unwrap_err().kind, ErrorKind::WrongAlgorithm);
}

#[test]
fn text_encoders_are_dense_and_phase_keys() {
    let c = Config::from_file(repo().join("examples/configs/visualgen_target.yaml"), Format::Auto).unwrap();
    let m = Model::open(checkpoint("wan-mini"), Some(&c)).unwrap();
    assert_eq!(m.components(), vec!["scheduler", "text_encoder", "tokenizer", "transformer", "transformer_2", "vae"]);
    let p = m.lookup(Some("text_encoder"), "blocks.0.attn1", Phase::Prefill, Some(0.5)).unwrap();
    assert_eq!((p.enabled, p.disabled_reason), (false, DisabledReason::NotTarget));
    // visualgen_target.yaml: dense until timestep 0.6, sparse below it; text encoders always dense.
    assert_eq!(m.phase_key(Some("text_encoder"), Phase::Prefill, Some(0.5)).unwrap(), PhaseKey::Dense);
    for component in ["transformer", "transformer_2"] {
        assert_eq!(m.phase_key(Some(component), Phase::Prefill, Some(0.6)).unwrap(), PhaseKey::Dense);
        assert_eq!(m.phase_key(Some(component), Phase::Prefill, Some(0.59)).unwrap(), PhaseKey::Sparse);
    }
    assert_eq!(m.phase_key(Some("nope"), Phase::Prefill, Some(0.5)).unwrap_err().kind, ErrorKind::NotFound);
    assert_eq!(m.phase_key(Some("transformer"), Phase::Prefill, Some(1.5)).unwrap_err().kind, ErrorKind::InvalidArgument);
    // VSA parameters of a lookup.
    let v = Config::from_file(repo().join("examples/configs/visualgen_vsa.yaml"), Format::Auto).unwrap();
    let m = Model::open(checkpoint("wan-mini"), Some(&v)).unwrap();
    let p = m.lookup(Some("transformer"), "blocks.3.attn1", Phase::Prefill, Some(0.5)).unwrap();
    assert_eq!((p.algorithm, p.enabled, p.phase_key, p.vsa_sparsity, p.vsa_cube_shape), (Algorithm::Vsa, true, PhaseKey::Sparse, 0.9, [4, 4, 4]));
}

#[test]
fn errors_carry_status_and_message() {
    let e = Config::parse("sparse_attention_config:\n  algorithm: skip_softmax\n  target_sparsity:\n    prefill: 1.5\n", Format::Auto).unwrap_err();
    assert_eq!(e.kind, ErrorKind::OutOfRange);
    assert_eq!(e.status_name(), "SPATTN_ERR_OUT_OF_RANGE");
    assert!(e.message.contains("sparse_attention_config.target_sparsity.prefill"), "{}", e.message);
    assert!(e.to_string().starts_with("SPATTN_ERR_OUT_OF_RANGE: "));
    assert_eq!(Config::parse("{\"algorithm\": ", Format::Json).unwrap_err().kind, ErrorKind::Syntax);
    assert_eq!(Config::parse("algorithm: skip_softmax\nthreshold: 1\n", Format::Yaml).unwrap_err().kind, ErrorKind::UnknownKey);
    let io = Config::from_file("/nonexistent/user.yaml", Format::Auto).unwrap_err();
    assert_eq!(io.kind, ErrorKind::Io);
    assert!(io.message.contains("/nonexistent/user.yaml"));
    let c = Config::parse(LLM_YAML, Format::Auto).unwrap();
    assert_eq!(c.rocket().unwrap_err().kind, ErrorKind::WrongAlgorithm);
    assert_eq!(Config::parse("a\0b", Format::Auto).unwrap_err().kind, ErrorKind::Syntax);
}

#[test]
fn model_components_and_errors() {
    let m = Model::open(checkpoint("wan-mini"), None).unwrap();
    let names = m.components();
    assert!(names.contains(&"transformer") && names.contains(&"transformer_2"), "{:?}", names);
    let t = names.iter().position(|n| *n == "transformer").unwrap();
    assert_eq!(m.ignore_patterns(t), vec!["blocks.0.attn1", "blocks.0.attn2"]);
    assert!(m.ignore_patterns(999).is_empty());
    assert!(m.to_json().unwrap().contains("transformer_2"));
    let e = m.lookup(Some("transformer_9"), "blocks.0.attn1", Phase::Prefill, None).unwrap_err();
    assert_eq!(e.kind, ErrorKind::NotFound);
    assert!(e.message.contains("transformer_9"));
    let e = m.lookup(Some("transformer"), "blocks.0.attn1", Phase::Prefill, Some(1.5)).unwrap_err();
    assert_eq!(e.kind, ErrorKind::InvalidArgument);
    let e = Model::open(checkpoint("no-such-checkpoint"), None).unwrap_err();
    assert!(e.message.contains("no-such-checkpoint"));
    let llm = Model::open(checkpoint("llm-mini"), None).unwrap();
    assert_eq!(llm.components(), vec![""]);
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-12 * b.abs().max(1e-300) || a == b
}

fn optional(value: Option<f64>, expected: &str) -> bool {
    match (value, expected) {
        (None, "nan") => true,
        (Some(v), e) if e != "nan" => close(v, e.parse().unwrap()),
        _ => false,
    }
}

#[test]
fn shared_lookup_table() {
    let table = std::fs::read_to_string(repo().join("bindings/testdata/lookups.tsv")).unwrap();
    let mut rows = 0;
    for line in table.lines().filter(|l| !l.starts_with('#') && !l.trim().is_empty()) {
        let f: Vec<&str> = line.split('\t').collect();
        let config = if f[1] == "-" { None } else { Some(Config::from_file(repo().join("examples/configs").join(f[1]), Format::Auto).unwrap()) };
        let model = Model::open(checkpoint(f[0]), config.as_ref()).unwrap();
        drop(config); // the model keeps what it needs
        let phase = if f[4] == "decode" { Phase::Decode } else { Phase::Prefill };
        let timestep = if f[5] == "-" { None } else { Some(f[5].parse().unwrap()) };
        let p = model.lookup(if f[2] == "-" { None } else { Some(f[2]) }, f[3], phase, timestep).unwrap();
        assert_eq!(p.algorithm, Algorithm::SkipSoftmax, "{}", line);
        assert_eq!(p.enabled, f[6] == "1", "{}", line);
        assert_eq!(p.disabled_reason, f[7].parse().unwrap(), "{}", line);
        assert_eq!(p.disabled_reason.to_string(), f[7], "{}", line);
        assert_eq!(p.phase_key, f[8].parse::<PhaseKey>().unwrap(), "{}", line);
        assert!(close(p.threshold_scale_factor, f[9].parse().unwrap()), "{} got {}", line, p.threshold_scale_factor);
        assert_eq!(p.threshold_source, f[10].parse().unwrap(), "{}", line);
        assert!(optional(p.target_sparsity, f[11]), "{} got {:?}", line, p.target_sparsity);
        assert_eq!(p.target_source, f[12].parse().unwrap(), "{}", line);
        assert!(optional(p.disabled_until_timestep, f[13]), "{} got {:?}", line, p.disabled_until_timestep);
        assert_eq!(p.timestep_source, f[14].parse().unwrap(), "{}", line);
        rows += 1;
    }
    assert!(rows >= 20, "only {} rows", rows);
}

#[test]
fn lifetimes_and_threads() {
    // The config dropped before the model that was opened with it is used.
    let config = Config::parse("attention_config: {backend: TRTLLM, sparse_attention_config: {algorithm: skip_softmax, target_sparsity: 0.5}}", Format::Yaml).unwrap();
    let model = Model::open(checkpoint("wan-mini"), Some(&config)).unwrap();
    drop(config);
    let p = model.lookup(Some("transformer"), "blocks.3.attn1", Phase::Prefill, Some(0.5)).unwrap();
    assert!(p.enabled);
    assert_eq!(p.target_source, spattn::Source::User);
    // Lookups from several threads on one shared model; the model outlives no thread.
    let model = Arc::new(model);
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let m = Arc::clone(&model);
            std::thread::spawn(move || {
                for i in 0..200 {
                    let layer = format!("blocks.{}.attn1", i % 40);
                    let p = m.lookup(Some("transformer"), &layer, Phase::Prefill, Some(0.5)).unwrap();
                    assert_eq!(p.enabled, i % 40 != 0);
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    // LayerParams is a plain value: usable after the model is gone.
    let p = model.lookup(Some("transformer"), "blocks.3.attn1", Phase::Decode, None).unwrap();
    drop(model);
    assert!(p.raw.enabled == 1 && p.enabled);
    // Many create/drop cycles.
    for _ in 0..200 {
        let c = Config::parse(LLM_YAML, Format::Auto).unwrap();
        let m = Model::open(checkpoint("llm-mini"), Some(&c)).unwrap();
        drop(m);
        drop(c);
    }
}

#[test]
fn reference_attention_matches_naive() {
    let (sq, skv, heads, d) = (4usize, 256usize, 2usize, 64usize);
    let mut rng = common::Rng(12345);
    let q = rng.bf16s(sq * heads * d);
    let k = rng.bf16s(skv * heads * d);
    let v = rng.bf16s(skv * heads * d);
    let mut out = vec![0u16; q.len()];
    let mut counters = [0u64; 2];
    let mut a = spattn::attention_args();
    a.dtype = spattn::Dtype::Bfloat16.raw();
    a.batch = 1;
    a.num_heads = heads as i32;
    a.num_kv_heads = heads as i32;
    a.head_dim = d as i32;
    a.seqlen_q = sq as i32;
    a.seqlen_kv = skv as i32;
    a.q = q.as_ptr() as *const _;
    a.k = k.as_ptr() as *const _;
    a.v = v.as_ptr() as *const _;
    a.out = out.as_mut_ptr() as *mut _;
    a.q_strides = [(sq * heads * d) as i64, (heads * d) as i64, d as i64];
    a.k_strides = [(skv * heads * d) as i64, (heads * d) as i64, d as i64];
    a.v_strides = a.k_strides;
    a.out_strides = a.q_strides;
    a.tile_counters = counters.as_mut_ptr() as *mut _;
    unsafe { spattn::attention_reference(&a) }.unwrap();
    assert_eq!(counters, [heads as u64 * 2, 0]);
    let scale = 1.0 / (d as f64).sqrt();
    let mut worst = 0.0f64;
    for h in 0..heads {
        for i in 0..sq {
            let logits: Vec<f64> = (0..skv)
                .map(|j| (0..d).map(|c| from_bf16(q[(i * heads + h) * d + c]) as f64 * from_bf16(k[(j * heads + h) * d + c]) as f64).sum::<f64>() * scale)
                .collect();
            let m = logits.iter().cloned().fold(f64::MIN, f64::max);
            let w: Vec<f64> = logits.iter().map(|x| (x - m).exp()).collect();
            let total: f64 = w.iter().sum();
            for c in 0..d {
                let want: f64 = (0..skv).map(|j| w[j] / total * from_bf16(v[(j * heads + h) * d + c]) as f64).sum();
                worst = worst.max((from_bf16(out[(i * heads + h) * d + c]) as f64 - want).abs());
            }
        }
    }
    assert!(worst < 1e-2, "max abs error {}", worst);
    // Bad arguments are refused with a status, not a crash.
    a.head_dim = 48;
    let e = unsafe { spattn::attention_reference(&a) }.unwrap_err();
    assert!(e.kind == ErrorKind::InvalidArgument || e.kind == ErrorKind::Unsupported, "{}", e);
    let e = unsafe { spattn::attention_forward(&spattn::attention_args(), std::ptr::null_mut()) }.unwrap_err();
    assert!(e.kind == ErrorKind::InvalidArgument || e.kind == ErrorKind::Unsupported, "{}", e);
}
