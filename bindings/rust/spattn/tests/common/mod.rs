// Helpers shared by the integration tests: the repository's paths, bf16 conversion, a seeded
// generator and a float64 attention model.
#![allow(dead_code)] // each test file uses part of them
use std::path::PathBuf;

pub fn repo() -> PathBuf {
    match std::env::var("SPATTN_SOURCE_DIR") {
        Ok(dir) => PathBuf::from(dir),
        Err(_) => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../.."),
    }
}

pub fn checkpoint(name: &str) -> PathBuf {
    repo().join("examples/checkpoints").join(name)
}

pub fn to_bf16(x: f32) -> u16 {
    let bits = x.to_bits();
    ((bits + 0x7fff + ((bits >> 16) & 1)) >> 16) as u16 // round to nearest even
}

pub fn from_bf16(h: u16) -> f32 {
    f32::from_bits((h as u32) << 16)
}

/// A linear congruential generator: reproducible inputs without a crate.
pub struct Rng(pub u32);

impl Rng {
    /// Uniform in [-1, 1), rounded to bf16.
    pub fn bf16(&mut self) -> u16 {
        self.0 = self.0.wrapping_mul(1664525).wrapping_add(1013904223);
        to_bf16((self.0 >> 8) as f32 / (1u32 << 24) as f32 * 2.0 - 1.0)
    }

    pub fn bf16s(&mut self, n: usize) -> Vec<u16> {
        (0..n).map(|_| self.bf16()).collect()
    }
}

/// Softmax attention of one query row over `keys` (each a (key, value) pair of rows), in
/// float64 with scale 1/sqrt(dim): (output row, natural-log LSE of the scaled logits).
pub fn attend(q: &[f64], keys: &[(Vec<f64>, Vec<f64>)]) -> (Vec<f64>, f64) {
    let scale = 1.0 / (q.len() as f64).sqrt();
    let logits: Vec<f64> = keys.iter().map(|(k, _)| scale * k.iter().zip(q).map(|(a, b)| a * b).sum::<f64>()).collect();
    let m = logits.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let w: Vec<f64> = logits.iter().map(|x| (x - m).exp()).collect();
    let total: f64 = w.iter().sum();
    let dim_v = keys[0].1.len();
    let out = (0..dim_v).map(|c| keys.iter().zip(&w).map(|((_, v), w)| w / total * v[c]).sum()).collect();
    (out, m + total.ln())
}

/// Row `index` of `dim` bf16 values starting at `offset` elements, as float64.
pub fn row(data: &[u16], offset: usize, dim: usize) -> Vec<f64> {
    data[offset..offset + dim].iter().map(|&h| from_bf16(h) as f64).collect()
}
