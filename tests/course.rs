//! The shape of the course: every exercise has a solution with the same
//! anchors, and the same text outside its work (the two cannot drift
//! apart), every exercise marks its work with `// TODO`, no solution is left
//! unfinished, every stage has a crate with a `reference` feature, and the
//! reference and the stages build nothing of the engine or the bench, and
//! given code lives in one crate.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// The `.rs` files under `dir/stage-*`, relative to `dir`.
fn stage_files(dir: &str) -> BTreeSet<PathBuf> {
    let base = root().join(dir);
    let mut files = BTreeSet::new();
    for stage in fs::read_dir(&base).unwrap().flatten() {
        let name = stage.file_name().to_string_lossy().to_string();
        if !name.starts_with("stage-") {
            continue;
        }
        for file in fs::read_dir(stage.path()).unwrap().flatten() {
            if file.path().extension().is_some_and(|e| e == "rs") {
                files.insert(file.path().strip_prefix(&base).unwrap().to_path_buf());
            }
        }
    }
    files
}

fn anchors(text: &str) -> Vec<&str> {
    text.lines()
        .filter_map(|l| l.trim().strip_prefix("// ANCHOR: "))
        .collect()
}

#[test]
fn every_exercise_has_a_solution_with_the_same_anchors() {
    let exercises = stage_files("exercises");
    let solutions = stage_files("solutions");
    assert!(!exercises.is_empty(), "no exercises found");
    assert_eq!(
        exercises, solutions,
        "exercises/ and solutions/ must hold the same files"
    );
    for file in &exercises {
        let exercise = fs::read_to_string(root().join("exercises").join(file)).unwrap();
        let solution = fs::read_to_string(root().join("solutions").join(file)).unwrap();
        assert_eq!(
            anchors(&exercise),
            anchors(&solution),
            "{}: the exercise and its solution must have the same anchors, in the same order",
            file.display()
        );
    }
}

/// A file split at its anchors: the lines outside every anchored region
/// but the module's doc comment (`//!`), and the item headers inside them:
/// each `fn`, `struct`, `enum`, `impl`, `const` or `type` line up to its
/// opening brace or semicolon. What an anchored item's body and doc comment
/// say is the exercise's or the solution's own (a TODO, or code and how it
/// works); everything else is shared.
fn shared_text(text: &str) -> (Vec<&str>, Vec<&str>) {
    let (mut outside, mut headers) = (Vec::new(), Vec::new());
    let (mut in_anchor, mut in_header) = (false, false);
    for line in text.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with("// ANCHOR: ") {
            in_anchor = true;
        } else if trimmed.starts_with("// ANCHOR_END: ") {
            in_anchor = false;
        } else if in_anchor {
            let item = ["fn ", "struct ", "enum ", "impl", "const ", "type "]
                .iter()
                .any(|k| trimmed.trim_start_matches("pub ").starts_with(k));
            if item || in_header {
                headers.push(line);
                in_header = !(trimmed.ends_with('{') || trimmed.ends_with(';'));
            }
            continue;
        }
        if !trimmed.starts_with("//!") {
            outside.push(line);
        }
    }
    (outside, headers)
}

#[test]
fn every_exercise_is_its_solution_but_for_the_work() {
    for file in &stage_files("exercises") {
        let exercise = fs::read_to_string(root().join("exercises").join(file)).unwrap();
        let solution = fs::read_to_string(root().join("solutions").join(file)).unwrap();
        let (exercise_outside, exercise_headers) = shared_text(&exercise);
        let (solution_outside, solution_headers) = shared_text(&solution);
        let first_difference = |a: &[&str], b: &[&str]| {
            a.iter().zip(b).position(|(x, y)| x != y).map_or_else(
                || format!("one has {} lines, the other {}", a.len(), b.len()),
                |i| format!("exercise: {:?}\nsolution: {:?}", a[i], b[i]),
            )
        };
        assert!(
            exercise_outside == solution_outside,
            "{}: outside its anchored work, the exercise must be the solution's text (given \
             code, imports, types); first difference:\n{}",
            file.display(),
            first_difference(&exercise_outside, &solution_outside)
        );
        assert!(
            exercise_headers == solution_headers,
            "{}: the exercise's functions must have the solution's signatures; first \
             difference:\n{}",
            file.display(),
            first_difference(&exercise_headers, &solution_headers)
        );
    }
}

#[test]
fn every_exercise_marks_its_work() {
    for file in stage_files("exercises") {
        let text = fs::read_to_string(root().join("exercises").join(&file)).unwrap();
        let todos = text.matches("// TODO").count();
        let stubs = text.matches("todo!(").count();
        assert!(todos > 0, "exercises/{} has no `// TODO`", file.display());
        assert!(
            todos >= stubs,
            "exercises/{}: {stubs} `todo!()` stubs but only {todos} `// TODO` hints",
            file.display()
        );
    }
}

#[test]
fn no_solution_is_unfinished() {
    for file in stage_files("solutions") {
        let text = fs::read_to_string(root().join("solutions").join(&file)).unwrap();
        assert!(
            !text.contains("todo!(") && !text.contains("// TODO"),
            "solutions/{} still has a TODO",
            file.display()
        );
    }
}

#[test]
fn every_stage_has_a_crate_with_a_reference_feature() {
    let stages: BTreeSet<String> = stage_files("exercises")
        .iter()
        .map(|f| f.iter().next().unwrap().to_string_lossy().to_string())
        .collect();
    for stage in stages {
        let manifest = root().join("crates").join(&stage).join("Cargo.toml");
        let text = fs::read_to_string(&manifest)
            .unwrap_or_else(|e| panic!("{stage} has no crate at {}: {e}", manifest.display()));
        assert!(
            text.contains(&format!("name = \"{stage}\"")),
            "{} must be the package {stage}",
            manifest.display()
        );
        assert!(
            text.contains("\nreference = []"),
            "{} needs a `reference` feature",
            manifest.display()
        );
    }
}

/// Nothing in the workspace depends on a stage crate: later stages and tools
/// reach earlier stages through the `reference` crate. A dependency on a
/// stage crate with `features = ["reference"]` would let cargo's feature
/// unification turn a learner's build into a reference build in any
/// workspace-wide command.
#[test]
fn no_crate_depends_on_a_stage_crate() {
    let workspace = fs::read_to_string(root().join("Cargo.toml")).unwrap();
    let members: Vec<&str> = workspace
        .split("members = [")
        .nth(1)
        .and_then(|rest| rest.split(']').next())
        .expect("the workspace lists its members")
        .split(',')
        .map(|m| m.trim().trim_matches('"'))
        .filter(|m| !m.is_empty())
        .collect();
    assert!(members.len() >= 4, "members not found: {members:?}");
    for member in members {
        let manifest = root().join(member).join("Cargo.toml");
        let text = fs::read_to_string(&manifest).unwrap();
        for line in text.lines() {
            let key = line
                .split('=')
                .next()
                .unwrap_or("")
                .trim()
                .trim_matches('"');
            assert!(
                !(key.starts_with("stage-") || key.contains(".stage-")),
                "{member}/Cargo.toml depends on `{key}`: use the `reference` crate instead"
            );
        }
    }
}

/// `solutions/` and `exercises/` each hold one crate's manifest and root
/// and one folder per stage (whose files
/// `every_exercise_has_a_solution_with_the_same_anchors` pairs up): the
/// reference and the learner's code, nothing else.
#[test]
fn solutions_and_exercises_hold_only_the_stages() {
    for dir in ["solutions", "exercises"] {
        for entry in fs::read_dir(root().join(dir)).unwrap().flatten() {
            let name = entry.file_name().to_string_lossy().to_string();
            let is_stage = name.starts_with("stage-") && entry.path().is_dir();
            assert!(
                is_stage || name == "Cargo.toml" || name == "lib.rs",
                "{dir}/{name} is not a stage's file: it belongs in a crate of its own"
            );
            if is_stage {
                for file in fs::read_dir(entry.path()).unwrap().flatten() {
                    assert!(
                        file.path().extension().is_some_and(|e| e == "rs"),
                        "{dir}/{name}/{} is not a Rust file of the stage",
                        file.file_name().to_string_lossy()
                    );
                }
            }
        }
    }
}

/// The `#[path]` modules of a crate root, in order.
fn path_modules(root_file: &str) -> Vec<String> {
    fs::read_to_string(root().join(root_file))
        .unwrap()
        .lines()
        .filter(|line| line.trim().starts_with("#[path"))
        .map(|line| line.trim().to_owned())
        .collect()
}

/// The learner's crate (`yours`, for `--yours`) puts together the same
/// stage files as the reference, so each of its stages builds on the
/// learner's earlier ones exactly as the reference's do.
#[test]
fn the_learners_crate_includes_the_same_files_as_the_reference() {
    assert_eq!(
        path_modules("exercises/lib.rs"),
        path_modules("solutions/lib.rs"),
        "exercises/lib.rs and solutions/lib.rs must include the same stage files"
    );
}

/// The reference is teaching code: no `unsafe`, and no dependency beyond
/// what the stages themselves use.
#[test]
fn the_reference_is_safe_and_depends_only_on_what_the_stages_use() {
    let lib = fs::read_to_string(root().join("solutions/lib.rs")).unwrap();
    assert!(lib.contains("#![forbid(unsafe_code)]"), "solutions/lib.rs");
    let manifest = fs::read_to_string(root().join("solutions/Cargo.toml")).unwrap();
    let allowed = [
        "nalgebra",
        "libm",
        "rand",
        "rand_chacha",
        "rand_distr",
        "course-support",
    ];
    let mut table = "";
    for line in manifest.lines().map(str::trim) {
        if line.starts_with('[') {
            table = line;
            continue;
        }
        if !table.contains("dependencies") || line.is_empty() || line.starts_with('#') {
            continue;
        }
        let name = line.split(['=', '.']).next().unwrap_or("").trim();
        assert!(
            table == "[dependencies]" && allowed.contains(&name),
            "solutions/Cargo.toml: `{name}` in {table}; the reference may depend on {allowed:?} only"
        );
    }
}

/// A learner's first `cargo test -p stage-N` builds none of the engine's
/// matrix libraries, the bench's frameworks, criterion or the downloader.
#[test]
fn no_stage_builds_the_engine_the_bench_or_their_dependencies() {
    let forbidden = [
        "engine",
        "bench",
        "first-mlp",
        "gemm",
        "private-gemm-x86",
        "pulp",
        "rayon",
        "multiversion",
        "burn",
        "candle-core",
        "criterion",
        "ureq",
        "plotters",
    ];
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    for stage in stage_files("exercises")
        .iter()
        .filter_map(|f| f.iter().next())
        .collect::<BTreeSet<_>>()
    {
        let stage = stage.to_string_lossy();
        let out = std::process::Command::new(&cargo)
            .current_dir(root())
            .args(["tree", "--offline", "--locked", "-p", &stage])
            .args(["-e", "normal,dev,build", "--prefix", "none"])
            .output()
            .expect("running cargo tree");
        assert!(
            out.status.success(),
            "cargo tree -p {stage}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let tree = String::from_utf8_lossy(&out.stdout);
        let crates: BTreeSet<&str> = tree.lines().filter_map(|l| l.split(' ').next()).collect();
        let found: Vec<&&str> = forbidden.iter().filter(|c| crates.contains(**c)).collect();
        assert!(found.is_empty(), "{stage} builds {found:?}");
        assert!(crates.len() < 60, "{stage} builds {} crates", crates.len());
    }
}

/// Every `.rs` file under `dir`, skipping build output.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() && entry.file_name() != "target" {
            files.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
    files
}

/// Given code has one home, the course-support crate, and is compiled once:
/// the only `#[path]` that leaves its crate is a stage crate's switch between
/// the exercise and the solution of its own stage, and a stage crate holds
/// nothing but that switch (its `lib.rs`) and its tests and benches.
#[test]
fn given_code_has_one_home_and_is_compiled_once() {
    let root = root();
    for dir in ["crates", "solutions", "xtask", "tests"] {
        for file in rust_files(&root.join(dir)) {
            let relative = file.strip_prefix(&root).unwrap().to_path_buf();
            let text = fs::read_to_string(&file).unwrap();
            for line in text.lines() {
                let Some(target) = line
                    .trim()
                    .strip_prefix("#[path = \"")
                    .and_then(|rest| rest.strip_suffix("\"]"))
                else {
                    continue;
                };
                let stage_switch = relative
                    .parent()
                    .and_then(|p| p.strip_prefix("crates").ok())
                    .and_then(|stage| stage.to_str())
                    .filter(|stage| stage.starts_with("stage-"))
                    .is_some_and(|stage| {
                        target.starts_with(&format!("../../exercises/{stage}/"))
                            || target.starts_with(&format!("../../solutions/{stage}/"))
                    });
                let inside_solutions =
                    relative == Path::new("solutions/lib.rs") && !target.contains("..");
                assert!(
                    stage_switch || inside_solutions,
                    "{}: #[path = \"{target}\"] reaches outside its crate; given code \
                     belongs in crates/support and is imported from there",
                    relative.display()
                );
            }
        }
    }
    for stage in fs::read_dir(root.join("crates")).unwrap().flatten() {
        let name = stage.file_name().to_string_lossy().to_string();
        if !name.starts_with("stage-") {
            continue;
        }
        for file in fs::read_dir(stage.path()).unwrap().flatten() {
            let file_name = file.file_name().to_string_lossy().to_string();
            assert!(
                !file_name.ends_with(".rs") || file_name == "lib.rs",
                "crates/{name}/{file_name}: a stage crate holds only its lib.rs switch; \
                 given code belongs in crates/support"
            );
        }
    }
}
