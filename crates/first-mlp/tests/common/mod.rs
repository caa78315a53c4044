//! Helpers shared by the pipeline tests.

// Not every test file uses every helper.
#![allow(dead_code)]

use std::fs;
use std::path::Path;

use first_mlp::code::{Code, Whose};

/// Every tensor of a checkpoint (weights and optimiser state), by name; the
/// metadata (paths, timings) may differ between runs.
pub fn checkpoint_tensors(path: &Path) -> Vec<(String, Vec<u8>)> {
    let bytes = fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let tensors = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let mut all: Vec<(String, Vec<u8>)> = tensors
        .tensors()
        .into_iter()
        .map(|(n, v)| (n, v.data().to_vec()))
        .collect();
    all.sort();
    all
}

/// The reference's stages run as if they were yours: what `--yours` changes
/// around the stages (no fast path, panics and divergence caught, the
/// comparison with the reference), on code known to be right. The stubs
/// themselves are the course check's business.
pub fn reference_as_yours() -> Code {
    Code {
        whose: Whose::Yours,
        ..Code::REFERENCE
    }
}
