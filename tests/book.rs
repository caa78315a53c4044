//! The book's promises: every include points at a real anchor, every Rust
//! block is either an include or compiled (as a doctest of this crate), every
//! figure it shows exists and is what the code draws today.

use std::fs;
use std::path::{Path, PathBuf};

use pulldown_cmark::{CodeBlockKind, Event, Parser, Tag, TagEnd};

use first_mlp::figures::trained_on;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ sits in the workspace")
        .to_path_buf()
}

fn chapters() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in fs::read_dir(dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "md") {
                out.push(path);
            }
        }
    }
    let mut out = Vec::new();
    walk(&root().join("book/src"), &mut out);
    out.sort();
    assert!(!out.is_empty(), "no chapters found under book/src");
    out
}

fn relative(path: &Path) -> String {
    path.strip_prefix(root())
        .unwrap_or(path)
        .display()
        .to_string()
}

/// Every `{{#include …}}` directive of a text: (path, anchor).
fn includes(text: &str) -> Vec<(String, Option<String>)> {
    let mut found = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("{{#") {
        let after = &rest[start + 3..];
        let end = after.find("}}").expect("an unclosed {{# directive");
        let directive = after[..end].trim();
        if let Some(args) = directive
            .strip_prefix("include ")
            .or_else(|| directive.strip_prefix("rustdoc_include "))
        {
            let mut parts = args.trim().splitn(2, ':');
            let path = parts.next().unwrap_or("").to_owned();
            found.push((path, parts.next().map(str::to_owned)));
        }
        rest = &after[end..];
    }
    found
}

#[test]
fn includes_point_at_real_anchors() {
    let mut checked = 0;
    for chapter in chapters() {
        let text = fs::read_to_string(&chapter).unwrap();
        for (path, anchor) in includes(&text) {
            let where_ = format!("{}: {{{{#include {path}}}}}", relative(&chapter));
            let target = chapter.parent().unwrap().join(&path);
            let source = fs::read_to_string(&target)
                .unwrap_or_else(|e| panic!("{where_}: cannot read {}: {e}", target.display()));
            let Some(anchor) = anchor else {
                checked += 1;
                continue;
            };
            assert!(
                !anchor.chars().next().unwrap_or('0').is_ascii_digit(),
                "{where_}: include by anchor, not by line numbers, so edits cannot shift it"
            );
            let begin = format!("ANCHOR: {anchor}\n");
            let end = format!("ANCHOR_END: {anchor}\n");
            let start = source
                .find(&begin)
                .unwrap_or_else(|| panic!("{where_}: no `// ANCHOR: {anchor}` in {path}"));
            let stop = source
                .find(&end)
                .unwrap_or_else(|| panic!("{where_}: no `// ANCHOR_END: {anchor}` in {path}"));
            assert!(
                stop > start + begin.len() + 10,
                "{where_}: anchor {anchor} is empty"
            );
            checked += 1;
        }
    }
    assert!(
        checked > 10,
        "only {checked} includes found: is the book there?"
    );
}

#[test]
fn rust_blocks_are_includes_or_compiled() {
    for chapter in chapters() {
        let text = fs::read_to_string(&chapter).unwrap();
        let mut block: Option<(String, String)> = None;
        for event in Parser::new(&text) {
            match event {
                Event::Start(Tag::CodeBlock(kind)) => {
                    let info = match kind {
                        CodeBlockKind::Fenced(info) => info.to_string(),
                        CodeBlockKind::Indented => String::new(),
                    };
                    block = Some((info, String::new()));
                }
                Event::Text(t) => {
                    if let Some((_, body)) = block.as_mut() {
                        body.push_str(&t);
                    }
                }
                Event::End(TagEnd::CodeBlock) => {
                    let (info, body) = block.take().unwrap();
                    let where_ = format!("{}: code block ```{info}", relative(&chapter));
                    assert!(
                        !info.trim().is_empty(),
                        "{where_}: label every code block (rustdoc compiles unlabelled ones as Rust)\n{body}"
                    );
                    if !info.starts_with("rust") {
                        continue;
                    }
                    let only_includes = body.lines().filter(|l| !l.trim().is_empty()).all(|l| {
                        l.trim().starts_with("{{#include")
                            || l.trim().starts_with("{{#rustdoc_include")
                    });
                    if info.contains("ignore") {
                        assert!(
                            only_includes,
                            "{where_}: an `ignore` block must hold only includes; prose code is compiled by a test\n{body}"
                        );
                    } else {
                        assert!(
                            !body.contains("{{#"),
                            "{where_}: mark include blocks `rust,ignore`: their code is compiled in its own crate\n{body}"
                        );
                    }
                }
                _ => {}
            }
        }
    }
}

#[test]
fn summary_lists_every_chapter() {
    let summary = fs::read_to_string(root().join("book/src/SUMMARY.md")).unwrap();
    for chapter in chapters() {
        let name = chapter
            .strip_prefix(root().join("book/src"))
            .unwrap()
            .display()
            .to_string();
        // A part of a chapter, such as a stage's hints.md, is included by
        // the chapter beside it rather than listed.
        let file_name = chapter.file_name().unwrap().to_string_lossy().to_string();
        let included = chapters().iter().any(|other| {
            other.parent() == chapter.parent()
                && fs::read_to_string(other)
                    .unwrap()
                    .contains(&format!("{{{{#include {file_name}}}}}"))
        });
        if name != "SUMMARY.md" && !included {
            assert!(
                summary.contains(&format!("({name})")),
                "book/src/SUMMARY.md does not list {name}"
            );
        }
    }
}

#[test]
fn figures_shown_exist() {
    for chapter in chapters() {
        let text = fs::read_to_string(&chapter).unwrap();
        for event in Parser::new(&text) {
            if let Event::Start(Tag::Image { dest_url, .. }) = event {
                let target = chapter.parent().unwrap().join(dest_url.as_ref());
                assert!(
                    target.exists(),
                    "{} shows {dest_url}, which does not exist",
                    relative(&chapter)
                );
            }
        }
    }
}

#[test]
fn committed_figures_are_up_to_date() {
    let dir = root().join("book/src/figures");
    let figures = first_mlp::figures::all().expect("drawing the figures");
    let how = "regenerate them with `cargo run --release -p first-mlp -- figures`";
    for figure in &figures {
        let path = dir.join(&figure.file_name);
        let committed = fs::read(&path)
            .unwrap_or_else(|e| panic!("{} is missing ({e}): {how}", relative(&path)));
        let (then, now) = (trained_on(&committed), trained_on(&figure.bytes));
        if committed != figure.bytes && then.is_some() && then != now {
            // A training run drifts from one kind of processor to another:
            // only a machine of the kind that trained it can check it.
            eprintln!(
                "{} not checked: trained on {}, and this machine is {}",
                relative(&path),
                then.unwrap_or_default(),
                now.unwrap_or_default()
            );
            continue;
        }
        assert!(
            committed == figure.bytes,
            "{} is stale: the code now draws something else; {how}",
            relative(&path)
        );
    }
    for entry in fs::read_dir(&dir).unwrap().flatten() {
        let name = entry.file_name().to_string_lossy().to_string();
        assert!(
            figures.iter().any(|f| f.file_name == name),
            "book/src/figures/{name} is not drawn by the code any more: delete it"
        );
    }
}
