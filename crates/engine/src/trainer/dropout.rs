//! Inverted dropout after each hidden layer in training: the rate, and the
//! masks, drawn by stage 7's protocol (`solutions/stage-7/dropout.rs`,
//! `dropout_mask`) so that the fast path drops the same units as the
//! teaching code from the same generator.
//!
//! A hidden layer's mask is (rows, units), column-major as the trainer's
//! buffers are: one `rng.random::<f32>()` per entry in that order (every
//! row of unit 0, then of unit 1, …), and the entry is 0 when its draw is
//! below p, else 1/(1 − p). The masks of a step are drawn on one thread,
//! first hidden layer first, before its forward pass. The forward pass then
//! multiplies each hidden layer's output by its mask where it applies the
//! activation, and the backward pass multiplies dL/dA by the same mask
//! where it multiplies by f′(Z) (`elementwise.rs`).

use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::Unsupported;

/// A dropout rate checked to be in [0, 1).
pub(super) fn check_rate(rate: f32) -> Result<f32, Unsupported> {
    // Also refuses NaN, which no range contains.
    if (0.0..1.0).contains(&rate) {
        Ok(rate)
    } else {
        Err(Unsupported(format!(
            "a dropout rate of {rate} (a rate is in [0, 1))"
        )))
    }
}

// ANCHOR: draw_mask
/// Fills `mask` with dropout's mask at rate p = `rate` (in (0, 1)): one
/// draw per entry in order, 0 when it is below p, else 1/(1 − p).
///
/// A draw is `rng.random::<f32>()`: the top 24 bits of the generator's
/// next `u32`, times 2⁻²⁴. The words come from `fill_bytes` a block at a
/// time (ChaCha hands out the same words in the same order either way, a
/// whole word per 4 bytes; the tests check the masks against
/// `random::<f32>()` one by one), so that the conversion and comparison
/// run as one vectorised loop: a third of the time of drawing entry by
/// entry.
pub(super) fn draw_mask(mask: &mut [f32], rate: f32, rng: &mut ChaCha8Rng) {
    /// Words per block: 4 KiB of bytes on the stack.
    const WORDS: usize = 1024;
    let keep = 1.0 / (1.0 - rate);
    let mut bytes = [0u8; 4 * WORDS];
    for block in mask.chunks_mut(WORDS) {
        let bytes = &mut bytes[..4 * block.len()];
        rng.fill_bytes(bytes);
        threshold(block, bytes, rate, keep);
    }
}
// ANCHOR_END: draw_mask

/// entry = 0 when the draw of its word (little-endian in `words`) is below
/// `rate`, else `keep`.
#[multiversion::multiversion(targets("x86_64+avx512f+avx512vl", "x86_64+avx2+fma"))]
fn threshold(mask: &mut [f32], words: &[u8], rate: f32, keep: f32) {
    const SCALE: f32 = 1.0 / (1u32 << 24) as f32;
    for (entry, word) in mask.iter_mut().zip(words.chunks_exact(4)) {
        let word = u32::from_le_bytes([word[0], word[1], word[2], word[3]]);
        let draw = (word >> 8) as f32 * SCALE;
        *entry = if draw < rate { 0.0 } else { keep };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{RngExt, SeedableRng};

    #[test]
    fn the_masks_are_random_f32_draws_one_by_one_from_anywhere_in_the_stream() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let mut oracle = rng.clone();
        // Lengths across block boundaries, from positions inside ChaCha's
        // blocks (a mask of odd length leaves the stream mid-block).
        for (length, rate) in [
            (1, 0.5),
            (7, 0.1),
            (1023, 0.2),
            (1024, 0.9),
            (5000, 0.3),
            (63, 0.7),
        ] {
            let mut mask = vec![f32::NAN; length];
            draw_mask(&mut mask, rate, &mut rng);
            let keep = 1.0 / (1.0 - rate);
            for (i, &m) in mask.iter().enumerate() {
                let expected = if oracle.random::<f32>() < rate {
                    0.0
                } else {
                    keep
                };
                assert_eq!(
                    m.to_bits(),
                    expected.to_bits(),
                    "length {length}, entry {i}"
                );
            }
        }
        assert_eq!(
            rng.random::<u64>(),
            oracle.random::<u64>(),
            "in step afterwards"
        );
    }

    #[test]
    fn rates_outside_0_to_1_are_refused() {
        for rate in [-0.5, 1.0, 2.0, f32::NAN, f32::INFINITY] {
            assert!(check_rate(rate).is_err(), "{rate}");
        }
        for rate in [0.0, -0.0, 0.25, 0.999_999] {
            assert!(check_rate(rate).is_ok(), "{rate}");
        }
    }
}
