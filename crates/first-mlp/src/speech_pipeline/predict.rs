//! Labelling frames with a speech model: every window of a split, the
//! homework's submission CSV, and a WAV file at any rate from 4 to 768
//! kHz, of any number of channels (mixed down to mono and resampled to the
//! front end's 16 kHz).

use std::fmt::Write as _;
use std::ops::Range;
use std::path::Path;

use anyhow::{Context as _, Result, bail};
use course_support::batches::Order;
use course_support::network::Mlp;
use nalgebra::DMatrix;
use reference::context::ContextFrames;
use reference::losses::log_softmax;
use reference::training::predict_classes;
use speech::decode::smooth;
use speech::hw1p2::PHONEMES;
use speech::mfcc::{MfccConfig, describe_conversions, mfcc, read_wav_any};
use speech::vtln::{VTLN_WARPS, confidence};

use super::config::SpeechConfig;
use crate::checkpoint::{self, CheckpointError, ModelKind};
use crate::code::Code;
use crate::datasets::speech::{SplitSettings, loader, warped_frames};
use crate::files::{check_output_file, check_output_not_input, write_atomically};

/// The predicted class of every frame, in order, by `code`'s windows and
/// forward pass, with the model read from `model`. Outputs that are not
/// finite are [`CheckpointError::NonFiniteOutputs`]: a class picked among
/// NaNs would be a made-up answer.
pub(super) fn predict_all(
    code: &Code,
    mlp: &Mlp,
    frames: &ContextFrames,
    batch_size: usize,
    model: &Path,
) -> Result<Vec<usize>> {
    let mut out = Vec::with_capacity(frames.len());
    each_output(code, mlp, frames, batch_size, model, |outputs| {
        out.extend(predict_classes(outputs));
    })?;
    Ok(out)
}

/// Every frame's log probabilities of the 40 classes, frame after frame
/// (the network's outputs through a log softmax), as [`smooth`] takes them.
pub(super) fn log_posteriors_all(
    code: &Code,
    mlp: &Mlp,
    frames: &ContextFrames,
    batch_size: usize,
    model: &Path,
) -> Result<Vec<f32>> {
    let mut out = Vec::with_capacity(frames.len() * PHONEMES.len());
    each_output(code, mlp, frames, batch_size, model, |outputs| {
        // Row-major: one frame's classes together.
        out.extend(log_softmax(outputs).transpose().iter());
    })?;
    Ok(out)
}

// ANCHOR: vtln
/// Each utterance's log probabilities (as [`log_posteriors_all`]) under
/// the factor of [`VTLN_WARPS`] that the model is surest of
/// ([`confidence`]), and those factors. `utterances` hold every stored
/// coefficient, since a warp mixes them all into the first; `split` says
/// how they become windows.
pub(super) fn vtln_log_posteriors(
    code: &Code,
    mlp: &Mlp,
    utterances: &[DMatrix<f32>],
    split: SplitSettings,
    batch_size: usize,
    model: &Path,
) -> Result<(Vec<f32>, Vec<f32>)> {
    let lengths: Vec<usize> = utterances.iter().map(|u| u.nrows()).collect();
    let mut surest = Surest::new(&lengths, PHONEMES.len())?;
    for warp in VTLN_WARPS {
        let frames = warped_frames(utterances, &vec![warp; utterances.len()], split)?;
        let log_posteriors = log_posteriors_all(code, mlp, &frames, batch_size, model)?;
        surest.offer(warp, &log_posteriors)?;
    }
    Ok((surest.chosen, surest.warps))
}

/// VTLN's choice so far, utterance by utterance, as each warp's log
/// probabilities come in: the surest warp's, the first of equals.
struct Surest {
    classes: usize,
    /// Where each utterance's log probabilities lie.
    spans: Vec<Range<usize>>,
    chosen: Vec<f32>,
    warps: Vec<f32>,
    confidence: Vec<f64>,
}

impl Surest {
    /// Nothing chosen yet for utterances of `lengths` frames.
    fn new(lengths: &[usize], classes: usize) -> Result<Self> {
        let mut spans = Vec::with_capacity(lengths.len());
        let mut end = 0usize;
        for &frames in lengths {
            let start = end;
            end = frames
                .checked_mul(classes)
                .and_then(|n| n.checked_add(start))
                .context("more log probabilities than memory can address")?;
            spans.push(start..end);
        }
        Ok(Self {
            classes,
            chosen: vec![0.0; end],
            warps: vec![f32::NAN; lengths.len()],
            confidence: vec![f64::NEG_INFINITY; lengths.len()],
            spans,
        })
    }

    /// Keeps `warp`'s log probabilities (every utterance's, in order) for
    /// each utterance the model is surer of under it than under any warp
    /// offered before.
    fn offer(&mut self, warp: f32, log_posteriors: &[f32]) -> Result<()> {
        if log_posteriors.len() != self.chosen.len() {
            bail!(
                "{} log probabilities for {} utterances holding {}",
                log_posteriors.len(),
                self.spans.len(),
                self.chosen.len()
            );
        }
        for (u, span) in self.spans.iter().enumerate() {
            let sure = confidence(&log_posteriors[span.clone()], self.classes)?;
            if sure > self.confidence[u] || self.warps[u].is_nan() {
                self.confidence[u] = sure;
                self.warps[u] = warp;
                self.chosen[span.clone()].copy_from_slice(&log_posteriors[span.clone()]);
            }
        }
        Ok(())
    }
}
// ANCHOR_END: vtln

/// Every utterance (of `lengths` frames, in order) decoded on its own,
/// each change of phoneme costing `switch_penalty` nats.
pub(super) fn decode_all(
    log_posteriors: &[f32],
    lengths: &[usize],
    switch_penalty: f32,
) -> Result<Vec<usize>> {
    let classes = PHONEMES.len();
    let mut out = Vec::with_capacity(log_posteriors.len() / classes);
    let mut rest = log_posteriors;
    for &frames in lengths {
        let Some((utterance, after)) = frames
            .checked_mul(classes)
            .and_then(|values| rest.split_at_checked(values))
        else {
            bail!(
                "{} utterances, but log probabilities for fewer frames than they hold",
                lengths.len()
            );
        };
        out.extend(smooth(utterance, classes, switch_penalty)?);
        rest = after;
    }
    if !rest.is_empty() {
        bail!(
            "{} utterances, but {} log probabilities left over after their frames",
            lengths.len(),
            rest.len()
        );
    }
    Ok(out)
}

/// Runs the model over every window of `frames`, batch after batch, in
/// order, handing each batch's outputs to `each` once they are known to be
/// finite.
fn each_output(
    code: &Code,
    mlp: &Mlp,
    frames: &ContextFrames,
    batch_size: usize,
    model: &Path,
    mut each: impl FnMut(&DMatrix<f32>),
) -> Result<()> {
    let n = frames.len();
    let mut loader = loader(
        frames.clone(),
        vec![0; n],
        batch_size.max(1),
        Order::AsGiven,
        0,
        code.windows,
    )?;
    code.call("labelling frames", || -> Result<()> {
        loader.start_epoch();
        while let Some((inputs, _)) = loader.next_batch() {
            let outputs = (code.forward)(mlp, inputs)?;
            if outputs.iter().any(|v| !v.is_finite()) {
                return Err(CheckpointError::NonFiniteOutputs {
                    path: model.to_owned(),
                }
                .into());
            }
            each(&outputs);
        }
        Ok(())
    })
}

/// The factors VTLN tries, for people: "1, 0.96, 0.92, 0.88, 0.84 and 0.8".
pub(super) fn describe_warps() -> String {
    let all: Vec<String> = VTLN_WARPS.iter().map(f32::to_string).collect();
    match all.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} and {last}", rest.join(", ")),
        _ => all.join(""),
    }
}

/// The homework's submission: `id,label`, one line per frame, 0-based.
pub fn submission_csv(predicted: &[usize]) -> String {
    let mut csv = String::from("id,label\n");
    for (id, &class) in predicted.iter().enumerate() {
        writeln!(csv, "{id},{}", PHONEMES[class]).expect("writing to a String");
    }
    csv
}

/// Runs of the same phoneme collapsed, silences dropped: "DH AH K AE T".
pub fn collapse(predicted: &[usize]) -> String {
    let mut out: Vec<&str> = Vec::new();
    let mut previous = None;
    for &class in predicted {
        if Some(class) != previous && class != 0 {
            out.push(PHONEMES[class]);
        }
        previous = Some(class);
    }
    out.join(" ")
}

/// Labels every 10 ms frame of a WAV file with a saved model. The file may
/// have any rate from 4 to 768 kHz, any number of channels and 8- to 32-bit
/// integer or 32-bit float samples ([`read_wav_any`]): it is mixed down to
/// mono and resampled to the front end's 16 kHz, and a line on standard
/// error says what the file held and what was done. The frames' classes
/// are decoded, each change of phoneme costing `switch_penalty` nats (0:
/// each frame's most probable class), after VTLN if `vtln`
/// ([`vtln_log_posteriors`]; a line on standard error gives the factor). The CSV goes to `csv`, written whole or not at all, which may not be the
/// model or the WAV file ([`crate::files::OutputIsInput`]), nor anything but
/// a regular file or a new one ([`crate::files::NotRegularFile`]: a symbolic
/// link, a FIFO or a device would be replaced by the rename).
pub fn predict_wav(
    model: &Path,
    wav: &Path,
    csv: Option<&Path>,
    switch_penalty: f32,
    vtln: bool,
) -> Result<()> {
    if let Some(csv) = csv {
        check_output_file(csv)?;
        check_output_not_input("--csv", csv, &[model, wav])?;
    }
    let (config, _): (SpeechConfig, usize) = checkpoint::read_config(model, ModelKind::Speech)?;
    let code = config.code();
    let front_end = MfccConfig::default();
    let recording = read_wav_any(wav)?;
    let held = recording.to_string();
    let (samples, conversions) = recording
        .into_rate(front_end.sample_rate)
        .with_context(|| format!("{}: resampling", wav.display()))?;
    eprintln!(
        "read {}: {held}; {}",
        wav.display(),
        describe_conversions(&conversions)
    );
    let filters = code.call("building the mel filter bank", || {
        (code.mel_filter_bank)(
            front_end.mel_filters,
            front_end.fft_size,
            front_end.sample_rate as f32,
        )
    })?;
    // Every coefficient the front end makes: VTLN warps them all.
    let frames = mfcc(&samples, &front_end, &filters)?;
    if frames.nrows() == 0 {
        bail!("{}: shorter than one 25 ms frame", wav.display());
    }
    let split = config.split_settings(&code);
    let utterances = [frames];
    let unwarped = warped_frames(&utterances, &[1.0], split)?;
    let input_size = unwarped.input_size();
    checkpoint::check_widths(model, &config.widths(input_size))?;
    let mut network = config.build(input_size)?;
    checkpoint::load_into(model, &mut network)?;
    // Evaluation mode: the MLP the network folds into.
    let mlp = network.to_evaluation_mlp();
    let log_posteriors = if vtln {
        let (chosen, warps) =
            vtln_log_posteriors(&code, &mlp, &utterances, split, config.batch_size, model)?;
        eprintln!(
            "VTLN: warped by {}, the factor of {} the model is surest of",
            warps[0],
            describe_warps()
        );
        chosen
    } else {
        log_posteriors_all(&code, &mlp, &unwarped, config.batch_size, model)?
    };
    let predicted = decode_all(&log_posteriors, &[utterances[0].nrows()], switch_penalty)?;
    let text = submission_csv(&predicted);
    match csv {
        Some(path) => {
            write_atomically(path, text.as_bytes())?;
            println!("{} frames labelled in {}", predicted.len(), path.display());
        }
        None => print!("{text}"),
    }
    eprintln!("{}", collapse(&predicted));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    // Two classes; utterance 0 has two frames, utterance 1 one.
    #[test]
    fn vtln_keeps_each_utterances_surest_warp_the_first_of_equals() {
        let ln = |p: f32| p.ln();
        let mut surest = Surest::new(&[2, 1], 2).unwrap();
        // Warp 1: utterance 0 unsure (0.6), utterance 1 sure (0.9).
        let first = [0.6, 0.4, 0.4, 0.6, 0.9, 0.1].map(ln);
        surest.offer(1.0, &first).unwrap();
        // Warp 0.9: the other way round.
        let second = [0.8, 0.2, 0.1, 0.9, 0.7, 0.3].map(ln);
        surest.offer(0.9, &second).unwrap();
        // Warp 0.8: as sure as 0.9 on utterance 0, as 1 on utterance 1.
        let third = [0.2, 0.8, 0.9, 0.1, 0.1, 0.9].map(ln);
        surest.offer(0.8, &third).unwrap();
        assert_eq!(
            surest.warps,
            [0.9, 1.0],
            "the surest warp, the first of equals"
        );
        assert_eq!(surest.chosen[..4], second[..4]);
        assert_eq!(surest.chosen[4..], first[4..]);
        // Log probabilities for another number of frames are refused.
        assert!(surest.offer(0.7, &first[..4]).is_err());
        // An utterance of no frames keeps the first warp offered.
        let mut empty = Surest::new(&[0, 1], 2).unwrap();
        empty.offer(1.0, &[0.0, f32::NEG_INFINITY]).unwrap();
        empty.offer(0.9, &[0.0, f32::NEG_INFINITY]).unwrap();
        assert_eq!(empty.warps, [1.0, 1.0]);
    }

    #[test]
    fn csv_and_collapsed_sequence() {
        let predicted = [0, 0, 10, 10, 3, 0, 20, 20, 20, 0];
        assert_eq!(
            submission_csv(&predicted[..3]),
            "id,label\n0,[SIL]\n1,[SIL]\n2,DH\n"
        );
        assert_eq!(collapse(&predicted), "DH AH K");
    }
}
