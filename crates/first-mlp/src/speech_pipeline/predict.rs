//! Labelling frames with a speech model: every window of a split, the
//! homework's submission CSV, and a WAV file at any rate from 4 to 768
//! kHz, of any number of channels (mixed down to mono and resampled to the
//! front end's 16 kHz).

use std::fmt::Write as _;
use std::path::Path;

use anyhow::{Context as _, Result, bail};
use course_support::batches::Order;
use course_support::network::Mlp;
use nalgebra::DMatrix;
use reference::context::ContextFrames;
use reference::losses::log_softmax;
use reference::training::predict_classes;
use speech::decode::smooth;
use speech::hw1p2::{PHONEMES, Utterance};
use speech::mfcc::{MfccConfig, describe_conversions, mfcc, read_wav_any};

use super::config::SpeechConfig;
use crate::checkpoint::{self, CheckpointError, ModelKind};
use crate::code::Code;
use crate::datasets::speech::{first_coefficients, loader, windows};
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
/// each frame's most probable class). The CSV goes to `csv`, written whole or not at all, which may not be the
/// model or the WAV file ([`crate::files::OutputIsInput`]), nor anything but
/// a regular file or a new one ([`crate::files::NotRegularFile`]: a symbolic
/// link, a FIFO or a device would be replaced by the rename).
pub fn predict_wav(
    model: &Path,
    wav: &Path,
    csv: Option<&Path>,
    switch_penalty: f32,
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
    let mut frames = first_coefficients(mfcc(&samples, &front_end, &filters)?, config.coefficients);
    if frames.nrows() == 0 {
        bail!("{}: shorter than one 25 ms frame", wav.display());
    }
    if let Some(cmvn) = config.cmvn(&code) {
        code.run("normalising the frames (cmvn)", || cmvn(&mut frames))?;
    }
    let utterance = Utterance {
        name: wav.display().to_string(),
        frames,
        labels: None,
    };
    let (windows, _) = windows(std::slice::from_ref(&utterance), config.context, None)?;
    checkpoint::check_widths(model, &config.widths(windows.input_size()))?;
    let mut network = config.build(windows.input_size())?;
    checkpoint::load_into(model, &mut network)?;
    // Evaluation mode: the MLP the network folds into.
    let mlp = network.to_evaluation_mlp();
    let log_posteriors = log_posteriors_all(&code, &mlp, &windows, config.batch_size, model)?;
    let predicted = decode_all(&log_posteriors, &[windows.len()], switch_penalty)?;
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
