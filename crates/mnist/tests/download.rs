//! The downloader against a local HTTP server on 127.0.0.1 (never the
//! internet): good files, a corrupted one, a valid archive of the wrong
//! content, one cut short, and a mirror that is not there.

use std::fs;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;

use mnist::download::ensure;
use mnist::{MnistError, Provenance, SAMPLE, load_dir, sample_dir};

/// Serves the sample's files under /good/, damaged copies under /corrupt/
/// and /wrong/. Counts requests.
struct Server {
    base: String,
    requests: Arc<AtomicUsize>,
}

fn serve() -> Server {
    let server = tiny_http::Server::http("127.0.0.1:0").expect("a local port");
    let base = format!(
        "http://{}",
        server.server_addr().to_ip().expect("an IP address")
    );
    let requests = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&requests);
    thread::spawn(move || {
        for request in server.incoming_requests() {
            counter.fetch_add(1, Ordering::SeqCst);
            let url = request.url().to_owned();
            let mut parts = url.trim_start_matches('/').splitn(2, '/');
            let (kind, name) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
            let Ok(good) = fs::read(sample_dir().join(name)) else {
                let _ = request.respond(tiny_http::Response::empty(404));
                continue;
            };
            let body = match kind {
                "good" => good,
                // One byte flipped in the middle of the compressed stream.
                "corrupt" => {
                    let mut bad = good;
                    let middle = bad.len() / 2;
                    bad[middle] ^= 0xff;
                    bad
                }
                // A perfectly valid archive, of another file.
                "wrong" => fs::read(sample_dir().join("t10k-labels-idx1-ubyte.gz")).unwrap(),
                _ => {
                    let _ = request.respond(tiny_http::Response::empty(404));
                    continue;
                }
            };
            let _ = request.respond(tiny_http::Response::from_data(body));
        }
    });
    Server { base, requests }
}

/// A server that promises a whole file, sends half of it and hangs up.
fn serve_cut_short() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a local port");
    let base = format!("http://{}/", listener.local_addr().unwrap());
    thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut request = [0u8; 4096];
            let _ = stream.read(&mut request);
            let path = String::from_utf8_lossy(&request);
            let name = path
                .split_whitespace()
                .nth(1)
                .unwrap_or("/")
                .trim_start_matches('/')
                .to_owned();
            let body = fs::read(sample_dir().join(&name)).unwrap_or_default();
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = stream.write_all(head.as_bytes());
            let _ = stream.write_all(&body[..body.len() / 2]);
            // Dropping the stream closes the connection mid-body.
        }
    });
    base
}

fn leftovers(dir: &Path) -> Vec<PathBuf> {
    fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect()
}

#[test]
fn downloads_verifies_and_skips_what_is_there() {
    let server = serve();
    let dir = tempfile::tempdir().unwrap();
    let good = format!("{}/good/", server.base);
    ensure(&SAMPLE, &[&good], dir.path(), false).expect("the good mirror serves every file");
    let mnist = load_dir(dir.path()).unwrap();
    assert_eq!(mnist.provenance, Provenance::Sample);
    assert_eq!(
        leftovers(dir.path()).len(),
        4,
        "{:?}",
        leftovers(dir.path())
    );
    let served = server.requests.load(Ordering::SeqCst);
    assert_eq!(served, 4);
    // Everything is there and verified: a second call downloads nothing.
    ensure(&SAMPLE, &[&good], dir.path(), false).unwrap();
    assert_eq!(server.requests.load(Ordering::SeqCst), served);
}

#[test]
fn bad_mirrors_are_skipped_for_a_good_one() {
    let server = serve();
    let dir = tempfile::tempdir().unwrap();
    let mirrors = [
        format!("{}/corrupt/", server.base),
        format!("{}/wrong/", server.base),
        serve_cut_short(),
        format!("{}/good/", server.base),
    ];
    let mirrors: Vec<&str> = mirrors.iter().map(String::as_str).collect();
    ensure(&SAMPLE[..2], &mirrors, dir.path(), false).expect("the last mirror is good");
    let mut names: Vec<String> = leftovers(dir.path())
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().to_string())
        .collect();
    names.sort();
    assert_eq!(
        names,
        ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"]
    );
}

#[test]
fn every_failure_is_reported_and_nothing_is_left_behind() {
    let server = serve();
    let dir = tempfile::tempdir().unwrap();
    // A port nobody listens on: bind one, note it, close it.
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let mirrors = [
        format!("{}/corrupt/", server.base),
        format!("{}/wrong/", server.base),
        serve_cut_short(),
        format!("{}/missing/", server.base),
        format!("http://127.0.0.1:{closed}/"),
    ];
    let mirrors: Vec<&str> = mirrors.iter().map(String::as_str).collect();
    let err = ensure(&SAMPLE[..1], &mirrors, dir.path(), false).unwrap_err();
    let MnistError::Download { name, attempts } = &err else {
        panic!("expected a download error, got {err}");
    };
    assert_eq!(name, "train-images-idx3-ubyte.gz");
    let lines: Vec<&str> = attempts.lines().collect();
    assert_eq!(lines.len(), 5, "one line per mirror:\n{attempts}");
    assert!(
        lines[0].contains("/corrupt/") && lines[0].contains("not a valid gzip stream"),
        "{}",
        lines[0]
    );
    assert!(
        lines[1].contains("/wrong/")
            && lines[1].contains("sha256 of the decompressed content: expected 1e3ffdb2"),
        "{}",
        lines[1]
    );
    assert!(
        lines[2].contains("cut short") || lines[2].contains("reading"),
        "{}",
        lines[2]
    );
    assert!(
        lines[3].contains("/missing/") && lines[3].contains("404"),
        "{}",
        lines[3]
    );
    assert!(
        lines[4].contains(&format!("127.0.0.1:{closed}")),
        "{}",
        lines[4]
    );
    assert!(
        leftovers(dir.path()).is_empty(),
        "left behind: {:?}",
        leftovers(dir.path())
    );
}

#[test]
fn a_truncated_or_corrupted_local_file_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    for spec in SAMPLE {
        let name = format!("{}.gz", spec.name);
        fs::copy(sample_dir().join(&name), dir.path().join(&name)).unwrap();
    }
    // Replace the test labels by a raw IDX file cut short: 8-byte header, 3 labels.
    fs::remove_file(dir.path().join("t10k-labels-idx1-ubyte.gz")).unwrap();
    let mut raw = vec![0, 0, 8, 1];
    raw.extend(1000u32.to_be_bytes());
    raw.extend([7, 2, 1]);
    fs::write(dir.path().join("t10k-labels-idx1-ubyte"), raw).unwrap();
    let err = load_dir(dir.path()).unwrap_err().to_string();
    assert!(
        err.ends_with("t10k-labels-idx1-ubyte, offset 11: expected 1000 bytes of data after the 8-byte header, found only 3 (truncated)"),
        "{err}"
    );
}

/// Short limits, so that the servers below fail fast.
fn short_limits() -> mnist::download::Limits {
    mnist::download::Limits {
        connect: std::time::Duration::from_secs(2),
        per_read: std::time::Duration::from_millis(300),
        global: std::time::Duration::from_secs(3),
    }
}

/// Accepts, reads the request, then says nothing until the client leaves.
fn serve_silence() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a local port");
    let base = format!("http://{}/", listener.local_addr().unwrap());
    thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            thread::spawn(move || {
                let mut buf = [0u8; 4096];
                while matches!(stream.read(&mut buf), Ok(n) if n > 0) {}
            });
        }
    });
    base
}

/// Sends a header, then one byte of body every 50 ms, forever.
fn serve_trickle() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a local port");
    let base = format!("http://{}/", listener.local_addr().unwrap());
    thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            thread::spawn(move || {
                let mut request = [0u8; 4096];
                let _ = stream.read(&mut request);
                let head = "HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\n";
                let _ = stream.write_all(head.as_bytes());
                while stream.write_all(&[0x1f]).is_ok() {
                    thread::sleep(std::time::Duration::from_millis(50));
                }
            });
        }
    });
    base
}

/// Sends up to 256 MiB of body, announced or not, and reports how much it
/// managed to write before the client hung up.
fn serve_too_much(announce: bool) -> (String, std::sync::mpsc::Receiver<u64>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a local port");
    let base = format!("http://{}/", listener.local_addr().unwrap());
    let (tx, rx) = std::sync::mpsc::channel();
    thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut request = [0u8; 4096];
            let _ = stream.read(&mut request);
            let total: u64 = 256 << 20;
            let head = if announce {
                format!("HTTP/1.1 200 OK\r\nContent-Length: {total}\r\n\r\n")
            } else {
                "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n".to_owned()
            };
            let _ = stream.write_all(head.as_bytes());
            let chunk = vec![0u8; 64 * 1024];
            let mut sent = 0u64;
            while sent < total && stream.write_all(&chunk).is_ok() {
                sent += chunk.len() as u64;
            }
            let _ = tx.send(sent);
        }
    });
    (base, rx)
}

#[test]
fn a_silent_or_slow_server_times_out() {
    let dir = tempfile::tempdir().unwrap();
    for mirror in [serve_silence(), serve_trickle()] {
        let err = mnist::download::ensure_with(
            &SAMPLE[3..],
            &[&mirror],
            dir.path(),
            false,
            &short_limits(),
        )
        .unwrap_err();
        assert!(matches!(err, MnistError::Download { .. }), "{err}");
        assert!(leftovers(dir.path()).is_empty());
    }
}

/// The test labels' gzip is 526 bytes: a server sending 256 MiB for it is
/// cut off after a few KiB, whether it announces the size or not.
#[test]
fn a_body_larger_than_the_file_can_be_is_cut_off() {
    let dir = tempfile::tempdir().unwrap();
    for announce in [false, true] {
        let (mirror, sent) = serve_too_much(announce);
        let err = mnist::download::ensure_with(
            &SAMPLE[3..],
            &[&mirror],
            dir.path(),
            false,
            &short_limits(),
        )
        .unwrap_err();
        assert!(matches!(err, MnistError::Download { .. }), "{err}");
        // The server stops when the client hangs up; socket buffers hold a
        // few MiB at most. (The timeout only guards against a hang.)
        let sent = sent
            .recv_timeout(std::time::Duration::from_secs(60))
            .expect("the server finishes");
        assert!(sent < 32 << 20, "the client took {sent} bytes");
        assert!(leftovers(dir.path()).is_empty());
    }
    assert!(mnist::download::max_download_size(&SAMPLE[3]) < 1 << 20);
}

/// A killed run leaves `.download-*` files; the next run removes the stale
/// ones and keeps one a live download may be writing.
#[test]
fn stale_temporary_files_are_removed_on_the_next_run() {
    let dir = tempfile::tempdir().unwrap();
    for spec in SAMPLE {
        let name = format!("{}.gz", spec.name);
        fs::copy(sample_dir().join(&name), dir.path().join(&name)).unwrap();
    }
    let stale = dir.path().join(".download-killed");
    fs::write(&stale, b"half a file").unwrap();
    let hour_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
    fs::File::options()
        .write(true)
        .open(&stale)
        .unwrap()
        .set_modified(hour_ago)
        .unwrap();
    let live = dir.path().join(".download-live");
    fs::write(&live, b"being written").unwrap();
    mnist::download::ensure_with(&SAMPLE, &[], dir.path(), false, &short_limits()).unwrap();
    assert!(!stale.exists());
    assert!(live.exists());
}
