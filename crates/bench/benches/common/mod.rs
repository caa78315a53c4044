//! What the speech benchmarks share: the MFCC front end as the corpus
//! generator and `speech-train` run it (default settings, the reference's
//! mel filter bank), the peer their costs are quoted against.

use nalgebra::DMatrix;
use speech::mfcc::MfccConfig;

/// The front end's settings and its mel filter bank.
pub fn front_end() -> (MfccConfig, DMatrix<f32>) {
    let config = MfccConfig::default();
    let filters = reference::features::mel_filter_bank(
        config.mel_filters,
        config.fft_size,
        config.sample_rate as f32,
    )
    .expect("a valid filter bank");
    (config, filters)
}
