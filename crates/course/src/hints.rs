//! A stage's hints, read from the same file the book shows them from:
//! `book/src/stage-N/hints.md`. Each `### item` heading names an exercise
//! (or a symptom); each collapsed `<details>` block under it is the next
//! level of help, from the idea to near-code.

use std::fs;
use std::path::Path;

use anyhow::{Context, Result, bail};

/// The hints about one exercise or symptom, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Item {
    /// The heading: `sigmoid`, or `my softmax is NaN at large logits`.
    pub name: String,
    pub levels: Vec<Level>,
}

/// One hint: its one-line summary and its text (markdown).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Level {
    pub summary: String,
    pub text: String,
}

/// The hints of the file at `path`.
pub fn read(path: &Path) -> Result<Vec<Item>> {
    let text = fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    parse(&text).with_context(|| format!("in {}", path.display()))
}

/// Items from markdown: `### name`, then `<details>`, `<summary>…</summary>`,
/// the text, `</details>`, once per level.
pub fn parse(markdown: &str) -> Result<Vec<Item>> {
    let mut items: Vec<Item> = Vec::new();
    let mut open: Option<Level> = None;
    for (number, line) in markdown.lines().enumerate() {
        let line_number = number + 1;
        let trimmed = line.trim();
        if let Some(level) = open.as_mut() {
            if trimmed == "</details>" {
                let mut level = open.take().expect("a level is open");
                level.text = level.text.trim().to_owned();
                match items.last_mut() {
                    Some(item) => item.levels.push(level),
                    None => bail!("line {line_number}: a hint before any `### item` heading"),
                }
            } else if let Some(summary) = trimmed
                .strip_prefix("<summary>")
                .and_then(|s| s.strip_suffix("</summary>"))
            {
                level.summary = summary.trim().to_owned();
            } else {
                level.text.push_str(line);
                level.text.push('\n');
            }
        } else if let Some(name) = trimmed.strip_prefix("### ") {
            items.push(Item {
                name: name.trim().to_owned(),
                levels: Vec::new(),
            });
        } else if trimmed == "<details>" {
            open = Some(Level {
                summary: String::new(),
                text: String::new(),
            });
        }
    }
    if open.is_some() {
        bail!("a `<details>` block is never closed");
    }
    if let Some(empty) = items.iter().find(|i| i.levels.is_empty()) {
        bail!("`### {}` has no hint under it", empty.name);
    }
    Ok(items)
}

/// The item `query` names, ignoring case: the one whose name it equals,
/// else the only one whose name starts with it, else the only one whose
/// name contains it.
pub fn find<'a>(items: &'a [Item], query: &str) -> Result<&'a Item> {
    let query = query.to_lowercase();
    if let Some(item) = items.iter().find(|i| i.name.to_lowercase() == query) {
        return Ok(item);
    }
    let starting: Vec<&Item> = items
        .iter()
        .filter(|i| i.name.to_lowercase().starts_with(&query))
        .collect();
    let matching: Vec<&Item> = if starting.is_empty() {
        items
            .iter()
            .filter(|i| i.name.to_lowercase().contains(&query))
            .collect()
    } else {
        starting
    };
    match matching.as_slice() {
        [item] => Ok(item),
        [] => bail!(
            "no hint is about {query:?}; the items are: {}",
            names(items)
        ),
        several => bail!(
            "{query:?} could be any of: {}",
            several
                .iter()
                .map(|i| format!("{:?}", i.name))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

fn names(items: &[Item]) -> String {
    items
        .iter()
        .map(|i| format!("{:?}", i.name))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    const HINTS: &str = "Intro text the book shows.\n\n### sigmoid\n\n<details>\n\
        <summary>Hint 1: the idea</summary>\n\nIt must stay finite.\n</details>\n\n\
        <details>\n<summary>Hint 2: the approach</summary>\n\nTwo cases, by sign.\n\n\
        More text.\n</details>\n\n### softmax is NaN\n\n<details>\n<summary>Why</summary>\n\n\
        ∞/∞.\n</details>\n";

    #[test]
    fn items_and_their_levels_are_read_in_order() {
        let items = parse(HINTS).unwrap();
        assert_eq!(items.len(), 2);
        assert_eq!(items[0].name, "sigmoid");
        assert_eq!(
            items[0].levels,
            [
                Level {
                    summary: "Hint 1: the idea".into(),
                    text: "It must stay finite.".into()
                },
                Level {
                    summary: "Hint 2: the approach".into(),
                    text: "Two cases, by sign.\n\nMore text.".into()
                },
            ]
        );
        assert_eq!(items[1].levels.len(), 1);
    }

    #[test]
    fn an_item_is_found_by_its_name_or_a_part_of_it() {
        let items = parse(HINTS).unwrap();
        assert_eq!(find(&items, "Sigmoid").unwrap().name, "sigmoid");
        assert_eq!(find(&items, "nan").unwrap().name, "softmax is NaN");
        assert!(find(&items, "tanh").is_err());
        let both = parse(&format!(
            "{HINTS}\n### sigmoid_derivative\n<details>\n<summary>s</summary>\nt\n</details>\n"
        ))
        .unwrap();
        assert_eq!(find(&both, "sigmoid").unwrap().name, "sigmoid");
        assert!(find(&both, "sig").is_err(), "ambiguous");
        // A name that starts with the query beats one that contains it.
        assert_eq!(find(&items, "soft").unwrap().name, "softmax is NaN");
        let later = parse(&format!(
            "{HINTS}\n### why tanh uses sigmoid\n<details>\n<summary>s</summary>\nt\n</details>\n"
        ))
        .unwrap();
        assert_eq!(find(&later, "sigm").unwrap().name, "sigmoid");
    }

    #[test]
    fn malformed_hints_are_errors() {
        assert!(parse("### a\n<details>\n<summary>s</summary>\nnever closed\n").is_err());
        assert!(parse("### a\n\n### b\n<details>\n</details>\n").is_err());
        assert!(parse("<details>\n<summary>s</summary>\nt\n</details>\n").is_err());
    }

    #[test]
    fn every_stage_has_hints_the_command_can_read() {
        let root = crate::workspace_root();
        for stage in crate::stages::read(&root).unwrap() {
            let items = read(&root.join(stage.hints())).unwrap();
            assert!(!items.is_empty(), "stage {}", stage.number);
            let chapter = fs::read_to_string(root.join(&stage.chapter)).unwrap();
            assert!(
                chapter.contains("{{#include hints.md}}"),
                "{} shows its hints",
                stage.chapter.display()
            );
        }
    }
}
