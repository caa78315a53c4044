//! Issue 20's figure: one utterance's MFCCs as the network sees them (after
//! per-utterance CMVN), clean and after each waveform perturbation.

use anyhow::Result;
use speech::augment::Perturbation;
use speech::mfcc::{MfccConfig, mfcc, read_wav};

use super::speech::{Timing, heat_map};
use crate::plots::{FONT, PixelArea, TITLE_SIZE, plot_error};

/// The perturbations shown, one per panel, each alone but the last.
fn panels() -> [(&'static str, Perturbation); 6] {
    let alone = Perturbation {
        seed: 7,
        ..Perturbation::NONE
    };
    [
        ("clean", Perturbation::NONE),
        (
            "speed 0.9 (slower and lower)",
            Perturbation {
                speed: 0.9,
                ..alone
            },
        ),
        (
            "vocal tract length: warp 1.2 (shorter tract, higher formants)",
            Perturbation { warp: 1.2, ..alone },
        ),
        (
            "room: RT60 0.5 s",
            Perturbation {
                rt60: Some(0.5),
                ..alone
            },
        ),
        (
            "noise at 10 dB SNR",
            Perturbation {
                snr_db: Some(10.0),
                ..alone
            },
        ),
        (
            "all four: speed 1.1, warp 0.9, RT60 0.3 s, 20 dB",
            Perturbation {
                speed: 1.1,
                warp: 0.9,
                rt60: Some(0.3),
                snr_db: Some(20.0),
                seed: 7,
            },
        ),
    ]
}

pub(super) fn draw_augmentation(root: &PixelArea<'_>) -> Result<()> {
    let example = crate::files::workspace_root().join("data/speech-corpus/example");
    let config = MfccConfig::default();
    let clean = read_wav(&example.join("us1-000.wav"), config.sample_rate)?;
    let filters = reference::features::mel_filter_bank(
        config.mel_filters,
        config.fft_size,
        config.sample_rate as f32,
    )?;
    let rate = config.sample_rate as f32;
    let mut shown = Vec::new();
    for (title, perturbation) in panels() {
        let samples = perturbation.apply(&clean, config.sample_rate)?;
        let mut coefficients = mfcc(&samples, &config, &filters)?;
        reference::features::cmvn(&mut coefficients);
        // After CMVN most values lie within ±3: a common scale for all panels.
        let columns: Vec<Vec<f32>> = (0..coefficients.nrows())
            .map(|f| {
                coefficients
                    .row(f)
                    .iter()
                    .map(|v| v.clamp(-3.0, 3.0))
                    .collect()
            })
            .collect();
        shown.push((title, columns, samples.len() as f32 / rate));
    }
    let seconds = shown.iter().map(|(_, _, s)| *s).fold(0.0, f32::max);
    let timing = Timing {
        seconds,
        hop: config.hop as f32 / rate,
        start: (config.frame_length - config.hop) as f32 / 2.0 / rate,
    };
    let root = root
        .titled(
            "One utterance's MFCCs after CMVN, clean and perturbed (time in seconds runs right)",
            (FONT, TITLE_SIZE),
        )
        .map_err(plot_error)?;
    for (area, (title, columns, _)) in root.split_evenly((shown.len(), 1)).iter().zip(&shown) {
        heat_map(area, (title, "coefficient"), columns, 1.0, &timing, false)?;
    }
    Ok(())
}
