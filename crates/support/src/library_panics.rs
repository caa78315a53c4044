//! A note after any panic raised inside nalgebra during a stage's tests:
//! which of your functions called it, at which line, and that line's code.
//!
//! nalgebra checks that the shapes of a product, a sum or a view fit only
//! when it runs, and its message ("Gemv: dimensions mismatch") points into
//! nalgebra's own files. Each stage's test file installs the note before
//! its tests start, with [`name_library_panics!`](crate::name_library_panics).

use std::backtrace::Backtrace;
use std::path::{Path, PathBuf};
use std::sync::Once;

/// Adds the note to the panic hook, once per process, keeping the hook
/// that was there (the test harness's) in front of it.
pub fn install() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            previous(info);
            let inside_nalgebra = info
                .location()
                .is_some_and(|l| l.file().contains("/nalgebra-"));
            if inside_nalgebra {
                let backtrace = Backtrace::force_capture().to_string();
                if let Some(note) = note(&backtrace, &source_root()) {
                    eprintln!("{note}");
                }
            }
        }));
    });
}

/// Where the course's files are: the first folder up from here that holds
/// `exercises/`.
fn source_root() -> PathBuf {
    let here = std::env::current_dir().unwrap_or_default();
    here.ancestors()
        .find(|dir| dir.join("exercises").is_dir())
        .unwrap_or(&here)
        .to_path_buf()
}

/// The note for a panic whose backtrace (as `Backtrace` prints it) is
/// `backtrace`: the innermost frame in `exercises/` or `solutions/`, its
/// function, and its line of code read from under `root`. None when no
/// such frame is found.
pub fn note(backtrace: &str, root: &Path) -> Option<String> {
    let mut function = None;
    for line in backtrace.lines() {
        let line = line.trim();
        if let Some(at) = line.strip_prefix("at ") {
            let Some(start) = at.find("exercises/").or_else(|| at.find("solutions/")) else {
                continue;
            };
            let mut parts = at[start..].rsplitn(3, ':');
            let (_column, line_number, file) = (parts.next()?, parts.next()?, parts.next()?);
            let number: usize = line_number.parse().ok()?;
            let code = std::fs::read_to_string(root.join(file))
                .ok()
                .and_then(|text| text.lines().nth(number - 1).map(|l| l.trim().to_owned()))
                .unwrap_or_default();
            let function: &str = function.unwrap_or("your code");
            return Some(format!(
                "note: this panic is inside nalgebra, called by {function} at {file}:{number}:\n    \
                 {code}\n  nalgebra checks that the shapes of a product, a sum or a view fit only \
                 when it runs: print the .shape() of each matrix on that line."
            ));
        }
        // A frame: "12: stage_3::layers::linear_forward"; keep its last name.
        if let Some((index, symbol)) = line.split_once(": ")
            && index.chars().all(|c| c.is_ascii_digit())
        {
            function = symbol.rsplit("::").next();
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_note_names_the_innermost_course_frame_and_its_code() {
        let root = tempfile_root();
        let backtrace = "   0: std::backtrace::Backtrace::force_capture
             at /rustc/x/library/std/src/backtrace.rs:312:13
  11: nalgebra::base::blas::gemv
             at /root/.cargo/registry/src/index/nalgebra-0.35.0/src/base/blas_uninit.rs:147:9
  12: stage_3::layers::linear_forward
             at ./crates/stage-3/../../exercises/stage-3/layers.rs:2:17
  13: forward::linear_forward_by_hand
             at ./crates/stage-3/tests/forward.rs:40:5";
        let found = note(backtrace, &root).expect("a frame in exercises/");
        assert!(
            found.contains("linear_forward at exercises/stage-3/layers.rs:2")
                && found.contains("let z = input * &linear.weights;"),
            "{found}"
        );
        assert_eq!(
            note("   0: main\n             at ./src/main.rs:1:1", &root),
            None
        );
    }

    /// A folder holding exercises/stage-3/layers.rs, two lines long.
    fn tempfile_root() -> PathBuf {
        let root = std::env::temp_dir().join(format!("library-panics-{}", std::process::id()));
        std::fs::create_dir_all(root.join("exercises/stage-3")).unwrap();
        std::fs::write(
            root.join("exercises/stage-3/layers.rs"),
            "fn linear_forward() {\n    let z = input * &linear.weights;\n}\n",
        )
        .unwrap();
        root
    }
}
