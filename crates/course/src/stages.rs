//! The course's stages, as the book's table of contents lists them: each
//! stage's number, title and chapter.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

/// One stage of the course.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stage {
    pub number: u8,
    /// "activation functions".
    pub title: String,
    /// The chapter, relative to the workspace: `book/src/stage-2/activations.md`.
    pub chapter: PathBuf,
}

impl Stage {
    /// The chapter's hints, `book/src/stage-N/hints.md`, relative to the workspace.
    pub fn hints(&self) -> PathBuf {
        PathBuf::from(format!("book/src/stage-{}/hints.md", self.number))
    }

    /// The stage's crate, `stage-N`.
    pub fn package(&self) -> String {
        format!("stage-{}", self.number)
    }
}

/// The stages of the book at `root`, from its `book/src/SUMMARY.md`: each
/// top-level chapter titled `Stage N: title` (the solutions, listed under
/// their own part, are nested and not chapters of a stage).
pub fn read(root: &Path) -> Result<Vec<Stage>> {
    let path = root.join("book/src/SUMMARY.md");
    let summary =
        fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    parse(&summary).with_context(|| format!("in {}", path.display()))
}

fn parse(summary: &str) -> Result<Vec<Stage>> {
    let mut stages: Vec<Stage> = Vec::new();
    for line in summary.lines() {
        let Some(entry) = line.strip_prefix("- [Stage ") else {
            continue;
        };
        let (heading, link) = entry
            .split_once("](")
            .with_context(|| format!("a stage chapter without a link: {line:?}"))?;
        let (number, title) = heading
            .split_once(':')
            .with_context(|| format!("a stage chapter without a title: {line:?}"))?;
        let number = number
            .trim()
            .parse()
            .with_context(|| format!("a stage chapter without a number: {line:?}"))?;
        let chapter = link
            .strip_suffix(')')
            .with_context(|| format!("a stage chapter's link not closed: {line:?}"))?;
        stages.push(Stage {
            number,
            title: title.trim().to_owned(),
            chapter: Path::new("book/src").join(chapter),
        });
    }
    if stages.is_empty() {
        bail!("no chapter listed as `- [Stage N: title](chapter.md)`");
    }
    Ok(stages)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stages_come_from_the_table_of_contents() {
        let summary = "# Summary\n\n[Introduction](introduction.md)\n\n# The stages\n\n\
             - [Stage 1: the perceptron](stage-1/perceptron.md)\n\
             - [Stage 2: activation functions](stage-2/activations.md)\n\n# Performance\n\n\
             - [Making it fast](performance/fast.md)\n\n# Solutions\n\n\
             - [The solutions](solutions.md)\n  \
             - [Stage 1: the perceptron](stage-1/solution.md)\n";
        let stages = parse(summary).unwrap();
        assert_eq!(
            stages,
            [
                Stage {
                    number: 1,
                    title: "the perceptron".into(),
                    chapter: "book/src/stage-1/perceptron.md".into(),
                },
                Stage {
                    number: 2,
                    title: "activation functions".into(),
                    chapter: "book/src/stage-2/activations.md".into(),
                },
            ]
        );
        assert_eq!(stages[1].package(), "stage-2");
    }

    #[test]
    fn the_books_table_of_contents_lists_every_stage_crate() {
        let root = crate::workspace_root();
        let stages = read(&root).unwrap();
        for stage in &stages {
            assert!(root.join(&stage.chapter).is_file(), "{stage:?}");
            assert!(
                root.join("crates").join(stage.package()).is_dir(),
                "{stage:?}"
            );
        }
        let numbers: Vec<u8> = stages.iter().map(|s| s.number).collect();
        assert_eq!(numbers, (1..=stages.len() as u8).collect::<Vec<_>>());
    }
}
