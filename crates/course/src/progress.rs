//! What the learner has seen of the hints, kept between runs in
//! `.course-progress.json` at the workspace's root (not in `target/`, so
//! `cargo clean` keeps it; git ignores it).

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

/// How many levels of each item's hints have been shown, by "stage/item".
#[derive(Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Progress {
    #[serde(default)]
    pub hints_seen: BTreeMap<String, usize>,
    #[serde(skip)]
    path: PathBuf,
}

impl Progress {
    /// The progress kept under `root`, or none yet.
    pub fn load(root: &Path) -> Result<Self> {
        let path = root.join(".course-progress.json");
        let mut progress: Self = match fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).with_context(|| {
                format!(
                    "{} is not the course's progress file; delete it to start afresh",
                    path.display()
                )
            })?,
            Err(_) => Self::default(),
        };
        progress.path = path;
        Ok(progress)
    }

    fn key(stage: u8, item: &str) -> String {
        format!("{stage}/{item}")
    }

    pub fn seen(&self, stage: u8, item: &str) -> usize {
        self.hints_seen
            .get(&Self::key(stage, item))
            .copied()
            .unwrap_or(0)
    }

    /// Records that `levels` levels of the item have been shown, and saves.
    pub fn set_seen(&mut self, stage: u8, item: &str, levels: usize) -> Result<()> {
        self.hints_seen.insert(Self::key(stage, item), levels);
        let json = serde_json::to_string_pretty(self)?;
        fs::write(&self.path, json).with_context(|| format!("writing {}", self.path.display()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seen_levels_survive_a_reload() {
        let dir = tempfile::tempdir().unwrap();
        let mut progress = Progress::load(dir.path()).unwrap();
        assert_eq!(progress.seen(2, "sigmoid"), 0);
        progress.set_seen(2, "sigmoid", 2).unwrap();
        let again = Progress::load(dir.path()).unwrap();
        assert_eq!(again.seen(2, "sigmoid"), 2);
        assert_eq!(again.seen(3, "sigmoid"), 0);
    }

    #[test]
    fn a_damaged_file_is_an_error_not_a_reset() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join(".course-progress.json"), "{ not json").unwrap();
        assert!(Progress::load(dir.path()).is_err());
    }
}
