//! Checkpoints in the safetensors format, which PyTorch reads directly.
//!
//! Weights are stored row-major under the names `nn.Sequential` gives them
//! (`0.weight` of shape [out, in], `0.bias` [out], …), so
//! `model.load_state_dict(safetensors.torch.load_file(path))` works on the
//! equivalent PyTorch model. The run's configuration, the epoch and the
//! optimiser's state ride along, so training can resume exactly.

use std::collections::HashMap;
use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow, bail};
use course_support::regularise::Network;
use nalgebra::DMatrix;
use safetensors::tensor::{Dtype, SafeTensors, TensorView};
use serde::de::DeserializeOwned;

use crate::files;

/// Everything saved beside the weights.
#[derive(Clone, Debug, PartialEq)]
pub struct Checkpoint {
    /// The run's configuration, as JSON (a `TrainConfig` or `SpeechConfig`).
    pub config_json: String,
    /// The last completed epoch (1-based).
    pub epoch: usize,
    /// Extra named tensors, such as an optimiser's moments, flat.
    pub state: Vec<(String, Vec<f32>)>,
    /// Extra scalars, such as the optimiser's step count.
    pub scalars: HashMap<String, String>,
}

/// A checkpoint that cannot be written or used as it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CheckpointError {
    /// A weight or bias is NaN or infinite: such a model predicts nothing,
    /// so it is never saved nor loaded.
    NonFinite { path: PathBuf, tensor: String },
    /// The last completed epoch disagrees with what the checkpoint records
    /// (its history's length, or its configuration's epoch count).
    EpochOutOfRange {
        path: PathBuf,
        epoch: usize,
        limit: usize,
    },
    /// A tensor the configuration describes is missing from the file or has
    /// another shape: checked from the file's header, before anything is
    /// built.
    Mismatch {
        path: PathBuf,
        tensor: String,
        expected: Vec<usize>,
        found: Option<Vec<usize>>,
    },
    /// The epoch in the metadata is missing, or not a whole number 0 or more
    /// written as a checkpoint writes it ([`whole_number`]).
    BadEpoch {
        path: PathBuf,
        value: Option<String>,
    },
    /// The checkpoint holds the other kind of model than the command needs
    /// (a speech model given to `predict --idx`, say).
    WrongKind {
        path: PathBuf,
        holds: ModelKind,
        needs: ModelKind,
    },
    /// A stored statistic (the pixel normalisation's mean or deviation) is
    /// not a number the model can have been trained with.
    BadStatistic {
        path: PathBuf,
        key: String,
        value: String,
        expected: &'static str,
    },
    /// The optimiser's state cannot be resumed: a tensor of the wrong size,
    /// a NaN or an infinity, or a negative second moment.
    BadOptimizerState {
        path: PathBuf,
        tensor: String,
        problem: String,
    },
    /// The model's outputs on the input are NaN or infinite: finite but
    /// extreme weights or statistics in the checkpoint, most likely.
    NonFiniteOutputs { path: PathBuf },
    /// A batch-norm layer's running variance is negative: no variance is,
    /// and evaluation would take its square root.
    NegativeVariance { path: PathBuf, tensor: String },
}

/// What a checkpoint's model classifies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ModelKind {
    /// Digits: written by `train`.
    Mnist,
    /// Phonemes of speech frames: written by `speech-train`.
    Speech,
}

impl ModelKind {
    /// The kind a stored configuration describes, told by a field only that
    /// kind's configuration has; None for neither.
    pub fn of_config(config_json: &str) -> Option<Self> {
        let value: serde_json::Value = serde_json::from_str(config_json).ok()?;
        let object = value.as_object()?;
        if object.contains_key("context") {
            Some(Self::Speech)
        } else if object.contains_key("activation") || object.contains_key("normalization") {
            Some(Self::Mnist)
        } else {
            None
        }
    }
}

impl fmt::Display for ModelKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Mnist => "an MNIST digit model (from `train`; for predict --idx or --image)",
            Self::Speech => "a speech model (from `speech-train`; for predict --wav)",
        })
    }
}

impl fmt::Display for CheckpointError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NegativeVariance { path, tensor } => write!(
                f,
                "{}: tensor {tensor} holds a negative variance: a damaged or edited file",
                path.display()
            ),
            Self::NonFinite { path, tensor } => write!(
                f,
                "{}: tensor {tensor} holds NaN or infinite values; a diverged model is not \
                 saved or used",
                path.display()
            ),
            Self::EpochOutOfRange { path, epoch, limit } => write!(
                f,
                "{}: its epoch {epoch} disagrees with what it records (expected at most \
                 {limit}): a corrupt checkpoint",
                path.display()
            ),
            Self::Mismatch {
                path,
                tensor,
                expected,
                found,
            } => match found {
                Some(found) => write!(
                    f,
                    "{}: tensor {tensor}: expected F32 of shape {expected:?}, found shape \
                     {found:?}; the configuration in its metadata does not describe its weights",
                    path.display()
                ),
                None => write!(
                    f,
                    "{}: no tensor {tensor} (of shape {expected:?}) that its configuration \
                     describes",
                    path.display()
                ),
            },
            Self::BadEpoch { path, value } => match value {
                Some(value) => write!(
                    f,
                    "{}: the epoch in its metadata, {value:?}, is not a whole number 0 or more: \
                     a corrupt checkpoint",
                    path.display()
                ),
                None => write!(f, "{}: no epoch in its metadata", path.display()),
            },
            Self::WrongKind { path, holds, needs } => write!(
                f,
                "{} holds {holds}, but this command needs {needs}",
                path.display()
            ),
            Self::BadStatistic {
                path,
                key,
                value,
                expected,
            } => write!(
                f,
                "{}: {key} {value} in its metadata: expected {expected}; a corrupt checkpoint",
                path.display()
            ),
            Self::BadOptimizerState {
                path,
                tensor,
                problem,
            } => write!(
                f,
                "{}: the optimiser's state {tensor} {problem}, so training cannot resume from \
                 it: a corrupt checkpoint",
                path.display()
            ),
            Self::NonFiniteOutputs { path } => write!(
                f,
                "the model's outputs are NaN or infinite; its checkpoint {} is the likely cause \
                 (weights or normalisation statistics far out of range: a damaged or edited file)",
                path.display()
            ),
        }
    }
}

impl std::error::Error for CheckpointError {}

/// The name of the first tensor of `network` (parameters and batch norm's
/// running estimates) holding a NaN or an infinity, if any.
pub fn first_non_finite(network: &Network) -> Option<String> {
    network
        .tensors_to_save()
        .into_iter()
        .find(|p| p.values.iter().any(|v| !v.is_finite()))
        .map(|p| p.name)
}

fn le_bytes(values: &[f32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

/// Writes `network` and `checkpoint` to `path` atomically and durably: a
/// temporary file in the same folder, synced and renamed into place only
/// once complete (see [`files::write_durably`]).
pub fn save(path: &Path, network: &Network, checkpoint: &Checkpoint) -> Result<()> {
    if let Some(tensor) = first_non_finite(network) {
        return Err(CheckpointError::NonFinite {
            path: path.to_owned(),
            tensor,
        }
        .into());
    }
    let mut buffers: Vec<(String, Vec<usize>, Vec<u8>)> = Vec::new();
    for p in network.tensors_to_save() {
        // nalgebra stores (out, in) column by column; PyTorch wants rows.
        let row_major: Vec<f32> = if p.shape.len() == 2 {
            let (rows, cols) = (p.shape[0], p.shape[1]);
            let m = DMatrix::from_column_slice(rows, cols, p.values);
            m.transpose().as_slice().to_vec()
        } else {
            p.values.to_vec()
        };
        buffers.push((p.name, p.shape, le_bytes(&row_major)));
    }
    for (name, values) in &checkpoint.state {
        buffers.push((name.clone(), vec![values.len()], le_bytes(values)));
    }
    let views = buffers
        .iter()
        .map(|(name, shape, bytes)| {
            TensorView::new(Dtype::F32, shape.clone(), bytes)
                .map(|view| (name.clone(), view))
                .map_err(|e| anyhow!("tensor {name}: {e}"))
        })
        .collect::<Result<Vec<_>>>()?;
    let mut metadata = checkpoint.scalars.clone();
    metadata.insert("format".to_owned(), "pt".to_owned());
    metadata.insert(
        "first_mlp_config".to_owned(),
        checkpoint.config_json.clone(),
    );
    metadata.insert("epoch".to_owned(), checkpoint.epoch.to_string());
    let bytes = safetensors::tensor::serialize(views, Some(metadata))
        .map_err(|e| anyhow!("serialising {}: {e}", path.display()))?;

    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    files::write_durably(path, &bytes, files::CHECKPOINT_PREFIX)
}

/// Reads a checkpoint: its metadata, and the tensors copied into `network`,
/// which must have the same architecture. Batch norm's running variances
/// must not be negative.
pub fn load_into(path: &Path, network: &mut Network) -> Result<Checkpoint> {
    let bytes = files::read_regular(path)?;
    let checkpoint = read_metadata(path, &bytes)?;
    let tensors = SafeTensors::deserialize(&bytes)
        .map_err(|e| anyhow!("{}: not a safetensors file: {e}", path.display()))?;
    let names: Vec<(String, Vec<usize>)> = network
        .tensors_to_save()
        .into_iter()
        .map(|p| (p.name, p.shape))
        .collect();
    for ((name, shape), target) in names.iter().zip(network.tensors_to_save_mut()) {
        let view = tensors
            .tensor(name)
            .map_err(|e| anyhow!("{}: tensor {name}: {e}", path.display()))?;
        if view.dtype() != Dtype::F32 || view.shape() != shape.as_slice() {
            bail!(
                "{}: tensor {name}: expected F32 of shape {shape:?}, found {:?} of shape {:?}",
                path.display(),
                view.dtype(),
                view.shape()
            );
        }
        let values = floats(view.data());
        if values.iter().any(|v| !v.is_finite()) {
            return Err(CheckpointError::NonFinite {
                path: path.to_owned(),
                tensor: name.clone(),
            }
            .into());
        }
        if name.ends_with(".running_var") && values.iter().any(|&v| v < 0.0) {
            return Err(CheckpointError::NegativeVariance {
                path: path.to_owned(),
                tensor: name.clone(),
            }
            .into());
        }
        if shape.len() == 2 {
            // Row-major [out, in] back into nalgebra's column order.
            let m = DMatrix::from_row_slice(shape[0], shape[1], &values);
            target.copy_from_slice(m.as_slice());
        } else {
            target.copy_from_slice(&values);
        }
    }
    let mut checkpoint = checkpoint;
    for (name, view) in tensors.tensors() {
        if !names.iter().any(|(n, _)| n == &name) {
            checkpoint.state.push((name, floats(view.data())));
        }
    }
    checkpoint.state.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(checkpoint)
}

/// The metadata of a checkpoint, without its tensors.
pub fn read_metadata(path: &Path, bytes: &[u8]) -> Result<Checkpoint> {
    let (_, metadata) = SafeTensors::read_metadata(bytes)
        .map_err(|e| anyhow!("{}: not a safetensors file: {e}", path.display()))?;
    let mut scalars = metadata.metadata().clone().unwrap_or_default();
    let config_json = scalars.remove("first_mlp_config").ok_or_else(|| {
        anyhow!(
            "{}: no first_mlp_config in its metadata: not a First MLP checkpoint",
            path.display()
        )
    })?;
    let text = scalars.remove("epoch");
    let epoch = text
        .as_deref()
        .and_then(whole_number)
        .and_then(|e| usize::try_from(e).ok())
        .ok_or_else(|| CheckpointError::BadEpoch {
            path: path.to_owned(),
            value: text.clone(),
        })?;
    scalars.remove("format");
    Ok(Checkpoint {
        config_json,
        epoch,
        state: Vec::new(),
        scalars,
    })
}

/// A whole number as a checkpoint writes one: decimal digits, no sign, no
/// leading zero (other spellings, such as "02" or "+2", are not a
/// checkpoint's and read as corrupt); None otherwise or beyond u64.
pub fn whole_number(text: &str) -> Option<u64> {
    let canonical = !text.is_empty()
        && text.bytes().all(|b| b.is_ascii_digit())
        && (text == "0" || !text.starts_with('0'));
    canonical.then(|| text.parse().ok()).flatten()
}

/// The configuration of a checkpoint of the kind `needs` (its fields a
/// `T`) and the last epoch it completed. A checkpoint of the other kind is
/// [`CheckpointError::WrongKind`], not a missing field.
pub fn read_config<T: DeserializeOwned>(path: &Path, needs: ModelKind) -> Result<(T, usize)> {
    let bytes = files::read_regular(path)?;
    let saved = read_metadata(path, &bytes)?;
    if let Some(holds) = ModelKind::of_config(&saved.config_json)
        && holds != needs
    {
        return Err(CheckpointError::WrongKind {
            path: path.to_owned(),
            holds,
            needs,
        }
        .into());
    }
    let config = serde_json::from_str(&saved.config_json).with_context(|| {
        format!(
            "{}: its configuration is not that of {needs}",
            path.display()
        )
    })?;
    Ok((config, saved.epoch))
}

/// Checks, from the file's header alone, that the checkpoint at `path`
/// holds the linear layers that `widths` (inputs, hidden..., outputs)
/// describe: the k-th weight of shape [widths[k+1], widths[k]] and its bias.
/// Run before building a network from a checkpoint's configuration, so that
/// a configuration describing a huge network is refused without allocating
/// it.
pub fn check_widths(path: &Path, widths: &[usize]) -> Result<()> {
    let bytes = files::read_regular(path)?;
    let (_, metadata) = SafeTensors::read_metadata(&bytes)
        .map_err(|e| anyhow!("{}: not a safetensors file: {e}", path.display()))?;
    // The layers' tensors ("0.weight", "2.bias", ...) in layer order.
    let mut layers: Vec<(usize, String, Vec<usize>)> = metadata
        .tensors()
        .into_iter()
        .filter_map(|(name, info)| {
            let (index, _) = name.split_once('.')?;
            Some((index.parse().ok()?, name, info.shape.clone()))
        })
        .collect();
    layers.sort();
    let weights: Vec<&(usize, String, Vec<usize>)> = layers
        .iter()
        // Linear layers' weights are matrices; batch norm's (γ) are vectors.
        .filter(|(_, n, shape)| n.ends_with(".weight") && shape.len() == 2)
        .collect();
    let mismatch = |tensor: String, expected: Vec<usize>, found: Option<Vec<usize>>| {
        CheckpointError::Mismatch {
            path: path.to_owned(),
            tensor,
            expected,
            found,
        }
    };
    for (k, pair) in widths.windows(2).enumerate() {
        let expected = vec![pair[1], pair[0]];
        let Some((index, name, shape)) = weights.get(k) else {
            return Err(mismatch(format!("weight of layer {}", k + 1), expected, None).into());
        };
        if *shape != expected {
            return Err(mismatch(name.clone(), expected, Some(shape.clone())).into());
        }
        let bias = format!("{index}.bias");
        let found = layers
            .iter()
            .find(|(_, n, _)| *n == bias)
            .map(|(_, _, s)| s.clone());
        if found.as_deref() != Some(&[pair[1]][..]) {
            return Err(mismatch(bias, vec![pair[1]], found).into());
        }
    }
    if let Some((_, name, shape)) = weights.get(widths.len().saturating_sub(1)) {
        return Err(mismatch(name.clone(), Vec::new(), Some(shape.clone())).into());
    }
    Ok(())
}

/// Refuses to resume from a checkpoint whose last completed `epoch` is past
/// the `configured` epochs of its own run: a run never goes past its
/// length, so such a file is corrupt (and 2^64 - 1 would wrap `epoch + 1`).
pub fn check_resumable(path: &Path, epoch: usize, configured: usize) -> Result<()> {
    if epoch > configured {
        return Err(CheckpointError::EpochOutOfRange {
            path: path.to_owned(),
            epoch,
            limit: configured,
        }
        .into());
    }
    Ok(())
}

/// Copies the checkpoint `from` to `to` as [`save`] writes one: whole, or
/// not at all.
pub fn copy(from: &Path, to: &Path) -> Result<()> {
    let bytes = files::read_regular(from)?;
    files::write_durably(to, &bytes, files::CHECKPOINT_PREFIX)
        .with_context(|| format!("copying {} to {}", from.display(), to.display()))
}

fn floats(bytes: &[u8]) -> Vec<f32> {
    bytes
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use course_support::activation::Activation;
    use course_support::network::{Init, Mlp};

    fn network(hidden: usize, seed: u64, batch_norm: bool) -> Network {
        let mlp = Mlp::new(
            &[3, hidden, 2],
            &[Activation::Relu, Activation::Identity],
            Init::XavierNormal,
            seed,
            reference::init::init_weights,
        )
        .unwrap();
        Network::new(mlp, 0.5, batch_norm).unwrap()
    }

    #[test]
    fn round_trips_weights_state_and_metadata() {
        let mlp = network(4, 5, false);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("model.safetensors");
        let checkpoint = Checkpoint {
            config_json: "{\"x\":1}".to_owned(),
            epoch: 3,
            state: vec![("optimizer.m.0".to_owned(), vec![0.5, -1.0])],
            scalars: HashMap::from([("optimizer.steps".to_owned(), "42".to_owned())]),
        };
        save(&path, &mlp, &checkpoint).unwrap();
        let mut other = network(4, 6, false);
        assert!(other != mlp);
        let loaded = load_into(&path, &mut other).unwrap();
        assert_eq!(other, mlp);
        assert_eq!(loaded, checkpoint);
        // Only the checkpoint is left in the folder.
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
        // PyTorch's layout: 0.weight is [4, 3], row-major.
        let bytes = fs::read(&path).unwrap();
        let tensors = SafeTensors::deserialize(&bytes).unwrap();
        let w = tensors.tensor("0.weight").unwrap();
        assert_eq!(w.shape(), [4, 3]);
        let first_row: Vec<f32> = floats(&w.data()[..12]);
        let expected: Vec<f32> = (0..3).map(|j| mlp.parameters()[0].values[j * 4]).collect();
        assert_eq!(first_row, expected);
    }

    #[test]
    fn batch_norm_round_trips_with_its_running_estimates() {
        let mut saved = network(4, 5, true);
        saved.batch_norms[0].running_mean[1] = 0.25;
        saved.batch_norms[0].running_var[2] = 3.5;
        saved.batch_norms[0].gamma[3] = -0.5;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bn.safetensors");
        let meta = Checkpoint {
            config_json: "{}".into(),
            epoch: 1,
            state: vec![],
            scalars: HashMap::new(),
        };
        save(&path, &saved, &meta).unwrap();
        let mut loaded = network(4, 6, true);
        assert_eq!(load_into(&path, &mut loaded).unwrap(), meta);
        assert_eq!(loaded, saved);
        // A network without batch norm is not the one saved.
        assert!(load_into(&path, &mut network(4, 6, false)).is_err());
        // A negative running variance is refused when loaded.
        saved.batch_norms[0].running_var[0] = -1.0;
        save(&path, &saved, &meta).unwrap();
        let error = load_into(&path, &mut loaded).unwrap_err();
        assert!(
            matches!(
                error.downcast_ref::<CheckpointError>(),
                Some(CheckpointError::NegativeVariance { tensor, .. }) if tensor == "1.running_var"
            ),
            "{error:?}"
        );
    }

    #[test]
    fn a_wrong_architecture_is_a_clear_error() {
        let mlp = network(4, 5, false);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.safetensors");
        let meta = Checkpoint {
            config_json: "{}".into(),
            epoch: 1,
            state: vec![],
            scalars: HashMap::new(),
        };
        save(&path, &mlp, &meta).unwrap();
        let mut wider = network(5, 5, false);
        let e = load_into(&path, &mut wider).unwrap_err().to_string();
        assert!(
            e.ends_with("tensor 0.weight: expected F32 of shape [5, 3], found F32 of shape [4, 3]"),
            "{e}"
        );
        fs::write(&path, b"garbage").unwrap();
        let e = load_into(&path, &mut wider).unwrap_err().to_string();
        assert!(e.contains("not a safetensors file"), "{e}");
    }

    #[test]
    fn a_non_finite_model_is_never_saved_nor_loaded() {
        let mut mlp = network(4, 5, false);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.safetensors");
        let meta = Checkpoint {
            config_json: "{}".into(),
            epoch: 1,
            state: vec![],
            scalars: HashMap::new(),
        };
        mlp.parameters_mut()[2][1] = f32::NAN;
        let error = save(&path, &mlp, &meta).unwrap_err();
        assert!(
            matches!(
                error.downcast_ref::<CheckpointError>(),
                Some(CheckpointError::NonFinite { tensor, .. }) if tensor == "3.weight"
            ),
            "{error:?}"
        );
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0);
        // A file that holds one anyway (written by an older version) is
        // refused when loaded.
        // Written directly, as `save` would have before it checked.
        let bytes: Vec<(String, Vec<usize>, Vec<u8>)> = mlp
            .tensors_to_save()
            .iter()
            .map(|p| (p.name.clone(), p.shape.clone(), le_bytes(p.values)))
            .collect();
        let mut tensors = vec![];
        for (name, shape, data) in &bytes {
            tensors.push((
                name.clone(),
                TensorView::new(Dtype::F32, shape.clone(), data).unwrap(),
            ));
        }
        let metadata = HashMap::from([
            ("first_mlp_config".to_owned(), "{}".to_owned()),
            ("epoch".to_owned(), "1".to_owned()),
        ]);
        fs::write(
            &path,
            safetensors::tensor::serialize(tensors, Some(metadata)).unwrap(),
        )
        .unwrap();
        let error = load_into(&path, &mut mlp).unwrap_err();
        assert!(
            matches!(
                error.downcast_ref::<CheckpointError>(),
                Some(CheckpointError::NonFinite { .. })
            ),
            "{error:?}"
        );
    }
}
