//! The built book as a reader gets it: every formula rendered by KaTeX, none
//! broken by markdown, no TeX left in the text, and KaTeX's stylesheet and
//! fonts shipped at the version that renders the math.
//!
//! The book is built with mdbook into a folder of this test's own. Without
//! mdbook the page test is skipped with a note, except under CI, where it
//! fails: `.ci/run` installs mdbook.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ sits in the workspace")
        .to_path_buf()
}

/// The KaTeX that mdbook-katex 0.10.0 renders with (through the katex crate
/// 0.4.6): the shipped stylesheet and fonts must be the same release, or
/// the glyph metrics the HTML was laid out with would not match the fonts.
const KATEX_VERSION: &str = "0.16.4";

/// The extent, in `html`, of the element opened at `start` whose tag is
/// `tag`, counting nested elements of the same tag.
fn element_end(html: &str, start: usize, tag: &str) -> Option<usize> {
    let open = format!("<{tag}");
    let close = format!("</{tag}>");
    let mut depth = 0usize;
    let mut at = start;
    loop {
        let next_open = html[at..].find(&open).map(|i| at + i);
        let next_close = html[at..].find(&close).map(|i| at + i)?;
        match next_open {
            Some(o) if o < next_close => {
                depth += 1;
                at = o + open.len();
            }
            _ => {
                depth -= 1;
                at = next_close + close.len();
                if depth == 0 {
                    return Some(at);
                }
            }
        }
    }
}

/// Removes every element opened by `opening` (such as `<pre`), returning
/// the rest and the removed elements.
fn cut(html: &str, opening: &str, tag: &str) -> (String, Vec<String>) {
    let mut rest = String::new();
    let mut removed = Vec::new();
    let mut at = 0;
    while let Some(i) = html[at..].find(opening) {
        let start = at + i;
        let Some(end) = element_end(html, start, tag) else {
            break;
        };
        rest.push_str(&html[at..start]);
        removed.push(html[start..end].to_owned());
        at = end;
    }
    rest.push_str(&html[at..]);
    (rest, removed)
}

/// Text with its tags removed.
fn text_of(html: &str) -> String {
    let mut text = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                text.push(' ');
            }
            _ if !in_tag => text.push(c),
            _ => {}
        }
    }
    text
}

/// A short, one-line excerpt around `at`.
fn excerpt(text: &str, at: usize) -> String {
    let mut start = at.saturating_sub(40);
    while !text.is_char_boundary(start) {
        start -= 1;
    }
    let mut end = (at + 60).min(text.len());
    while !text.is_char_boundary(end) {
        end += 1;
    }
    text[start..end]
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// What is wrong with the math of one page.
fn math_faults(html: &str) -> Vec<String> {
    let mut faults = Vec::new();
    let (outside, formulas) = cut(html, r#"<span class="katex">"#, "span");
    for formula in &formulas {
        for markup in ["<em>", "<strong>", "<a ", "<code>", "<p>"] {
            if formula.contains(markup) {
                faults.push(format!(
                    "markdown markup {markup} inside a formula: {}",
                    excerpt(&text_of(formula), 0)
                ));
            }
        }
        if formula.contains("katex-error") {
            faults.push(format!(
                "a formula KaTeX could not render: {}",
                excerpt(&text_of(formula), 0)
            ));
        }
    }
    // A MathML formula keeps its TeX in an annotation, which markdown must
    // not have touched.
    let (outside, mathml) = cut(&outside, "<math", "math");
    for formula in &mathml {
        let (_, annotations) = cut(formula, "<annotation", "annotation");
        for annotation in annotations {
            let body = &annotation[annotation.find('>').map_or(0, |i| i + 1)..];
            if body.trim_end_matches("</annotation>").contains('<') {
                faults.push(format!(
                    "markup inside a formula's TeX annotation: {}",
                    excerpt(&annotation, 0)
                ));
            }
        }
    }
    if html.contains("katex-error") && formulas.is_empty() {
        faults.push("a KaTeX error outside any formula".to_owned());
    }

    // Code may hold backslashes and dollars; prose may not.
    let mut prose = outside;
    for (opening, tag) in [
        ("<pre", "pre"),
        ("<code", "code"),
        ("<script", "script"),
        ("<style", "style"),
        ("<head", "head"),
    ] {
        prose = cut(&prose, opening, tag).0;
    }
    let text = text_of(&prose);
    if let Some(at) = raw_tex(&text) {
        faults.push(format!("raw TeX in the text: {}", excerpt(&text, at)));
    }
    faults
}

/// Where `text` holds TeX: a `\command`, a `$$`, or a `$…$` span holding
/// `_`, `^`, `\` or `{`.
fn raw_tex(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    for (i, pair) in bytes.windows(3).enumerate() {
        if pair[0] == b'\\' && pair[1].is_ascii_alphabetic() && pair[2].is_ascii_alphabetic() {
            return Some(i);
        }
    }
    if let Some(i) = text.find("$$") {
        return Some(i);
    }
    let mut dollars = text.match_indices('$').map(|(i, _)| i);
    while let (Some(open), Some(close)) = (dollars.next(), dollars.next()) {
        let inside = &text[open + 1..close];
        if !inside.contains('\n') && inside.contains(['_', '^', '\\', '{']) {
            return Some(open);
        }
    }
    None
}

fn build_book() -> Option<PathBuf> {
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("rendered-book");
    let _ = fs::remove_dir_all(&out);
    let result = Command::new("mdbook")
        .current_dir(root())
        .args(["build", "book", "--dest-dir"])
        .arg(&out)
        .output();
    match result {
        Ok(output) => {
            assert!(
                output.status.success(),
                "mdbook build failed:\n{}",
                String::from_utf8_lossy(&output.stderr)
            );
            Some(out)
        }
        Err(e) if std::env::var_os("CI").is_none() => {
            eprintln!(
                "skipped: mdbook did not start ({e}); `cargo install mdbook@0.5.3 mdbook-katex@0.10.0 --locked`"
            );
            None
        }
        Err(e) => panic!("mdbook did not start under CI: {e}"),
    }
}

fn html_pages(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            html_pages(&path, out);
        } else if path.extension().is_some_and(|e| e == "html") {
            out.push(path);
        }
    }
}

#[test]
fn every_page_shows_rendered_math_and_no_tex() {
    let Some(out) = build_book() else {
        return;
    };
    let mut pages = Vec::new();
    html_pages(&out, &mut pages);
    let mut formulas = 0;
    let mut faults = Vec::new();
    for page in &pages {
        let html = fs::read_to_string(page).unwrap();
        formulas += html.matches(r#"<span class="katex">"#).count();
        let name = page.strip_prefix(&out).unwrap().display().to_string();
        faults.extend(
            math_faults(&html)
                .into_iter()
                .map(|f| format!("{name}: {f}")),
        );
    }
    assert!(
        faults.is_empty(),
        "{} fault(s) in the built book:\n  {}",
        faults.len(),
        faults.join("\n  ")
    );
    // print.html repeats every chapter; the chapters alone hold hundreds.
    assert!(
        formulas > 400,
        "only {formulas} rendered formulas in {} pages: did KaTeX run?",
        pages.len()
    );
}

#[test]
fn the_math_check_finds_each_fault() {
    let good = r#"<p>Text <span class="katex"><span class="katex-html"><span class="mord mathnormal">z</span><span class="msupsub"><span>i</span></span></span></span> and code <code>"\n" $x_1$</code></p><pre>let s = "$$";</pre>"#;
    assert_eq!(math_faults(good), Vec::<String>::new());
    let planted = [
        // markdown's emphasis from a formula's underscores
        r#"<p><span class="katex"><span>a</span><em>b</em></span></p>"#,
        r#"<p><span class="katex"><span class="katex-error">\frac{</span></span></p>"#,
        r#"<p><math><semantics><mi>x</mi><annotation encoding="application/x-tex">\sum<em>{j=1}</em></annotation></semantics></math></p>"#,
        r"<p>as text: \frac{a}{b}</p>",
        r"<p>$$ x $$</p>",
        r"<p>an unrendered $x_i$ here</p>",
    ];
    for html in planted {
        assert_eq!(
            math_faults(html).len(),
            1,
            "one fault expected in {html}: {:?}",
            math_faults(html)
        );
    }
    // Prices and lone dollars are not TeX.
    assert_eq!(raw_tex("costs $5 and $6 in total"), None);
}

#[test]
fn katex_stylesheet_and_fonts_ship_with_the_book() {
    let dir = root().join("book/src/katex");
    let css = fs::read_to_string(dir.join("katex.min.css")).unwrap();
    assert!(
        css.contains(&format!(
            r#"katex-version:after{{content:"{KATEX_VERSION}"}}"#
        )),
        "book/src/katex/katex.min.css is not KaTeX {KATEX_VERSION}, the release mdbook-katex renders with: \
         copy dist/katex.min.css and dist/fonts/*.woff2 from the npm package katex@{KATEX_VERSION}"
    );
    let mut fonts = 0;
    for (at, _) in css.match_indices("url(fonts/") {
        let name = &css[at + "url(".len()..];
        let name = &name[..name.find(')').unwrap()];
        if name.ends_with(".woff2") {
            fonts += 1;
            assert!(
                dir.join(name).is_file(),
                "book/src/katex/{name} is missing: the browser would fall back to a font without math metrics"
            );
        }
    }
    assert_eq!(fonts, 20, "KaTeX {KATEX_VERSION} has 20 woff2 fonts");
    let head = fs::read_to_string(root().join("book/theme/head.hbs")).unwrap();
    assert!(
        head.contains("katex/katex.min.css"),
        "book/theme/head.hbs must link the shipped KaTeX stylesheet"
    );
}
