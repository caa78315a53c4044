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
/// part headed `# Stage N: title` and its first chapter.
pub fn read(root: &Path) -> Result<Vec<Stage>> {
    let path = root.join("book/src/SUMMARY.md");
    let summary =
        fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    parse(&summary).with_context(|| format!("in {}", path.display()))
}

fn parse(summary: &str) -> Result<Vec<Stage>> {
    let mut stages: Vec<Stage> = Vec::new();
    let mut part: Option<(u8, String)> = None;
    for line in summary.lines() {
        if let Some(heading) = line.strip_prefix("# Stage ") {
            let (number, title) = heading
                .split_once(':')
                .with_context(|| format!("a stage heading without a title: {line:?}"))?;
            let number = number
                .trim()
                .parse()
                .with_context(|| format!("a stage heading without a number: {line:?}"))?;
            part = Some((number, title.trim().to_owned()));
        } else if line.starts_with("# ") {
            part = None;
        } else if let (Some((number, title)), Some(link)) = (&part, line.strip_prefix("- [")) {
            let chapter = link
                .split_once("](")
                .and_then(|(_, rest)| rest.strip_suffix(')'))
                .with_context(|| format!("a chapter line without a link: {line:?}"))?;
            stages.push(Stage {
                number: *number,
                title: title.clone(),
                chapter: Path::new("book/src").join(chapter),
            });
            part = None;
        }
    }
    if stages.is_empty() {
        bail!("no part headed `# Stage N: title`");
    }
    Ok(stages)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stages_come_from_the_table_of_contents() {
        let summary = "# Summary\n\n[Introduction](introduction.md)\n\n\
             # Stage 1: the perceptron\n\n- [The perceptron](stage-1/perceptron.md)\n  \
             - [Solution](stage-1/solution.md)\n\n# Stage 2: activation functions\n\n\
             - [Activation functions](stage-2/activations.md)\n\n# Performance\n\n\
             - [Making it fast](performance/fast.md)\n";
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
