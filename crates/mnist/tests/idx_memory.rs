//! How much memory the readers hold at their peak, counted by a global
//! allocator: the pixels are read once, into one vector of their exact
//! size, and not copied (a 1 GiB file used to cost 2 GiB or more, then an
//! abort). One test, so that nothing else allocates meanwhile.

use std::alloc::{GlobalAlloc, Layout, System};
use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};

use flate2::Compression;
use flate2::write::GzEncoder;

struct Peak;

static CURRENT: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

fn grow(n: usize) {
    let now = CURRENT.fetch_add(n, Ordering::SeqCst) + n;
    PEAK.fetch_max(now, Ordering::SeqCst);
}

// SAFETY: forwards to the system allocator, only counting bytes.
unsafe impl GlobalAlloc for Peak {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        grow(layout.size());
        // SAFETY: the caller's contract for `alloc`, passed on unchanged.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        CURRENT.fetch_sub(layout.size(), Ordering::SeqCst);
        // SAFETY: `ptr` came from this allocator, which is the system's.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // Counted as a move: both blocks may be live at once.
        grow(new_size);
        CURRENT.fetch_sub(layout.size(), Ordering::SeqCst);
        // SAFETY: as for `dealloc`, with the caller's `realloc` contract.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Peak = Peak;

/// The most bytes held at once while `f` runs, beyond those held before.
fn peak_of<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let base = CURRENT.load(Ordering::SeqCst);
    PEAK.store(base, Ordering::SeqCst);
    let out = f();
    (out, PEAK.load(Ordering::SeqCst) - base)
}

fn gz(bytes: &[u8]) -> Vec<u8> {
    let mut e = GzEncoder::new(Vec::new(), Compression::fast());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

#[test]
fn readers_hold_the_pixels_once() {
    // Room for a gzip decoder's state and buffers (about 100 KiB).
    const SLACK: usize = 256 << 10;
    let dir = tempfile::tempdir().unwrap();
    let (count, rows, cols) = (5_000u32, 28u32, 28u32);
    let payload = (count * rows * cols) as usize;
    let mut file = vec![0, 0, 8, 3];
    for d in [count, rows, cols] {
        file.extend(d.to_be_bytes());
    }
    file.extend((0..payload).map(|i| (i % 7) as u8));
    let path = dir.path().join("images.gz");
    std::fs::write(&path, gz(&file)).unwrap();
    drop(file);

    let (images, peak) = peak_of(|| mnist::idx::read_images(&path).unwrap());
    assert_eq!(images.pixels.len(), payload);
    assert!(
        peak <= payload + SLACK,
        "read_images held {peak} bytes at its peak for {payload} bytes of pixels"
    );
    drop(images);

    // The bundled sample: four files, each held once.
    let sizes: usize = mnist::SAMPLE.iter().map(|s| s.size as usize).sum();
    let (data, peak) = peak_of(|| mnist::load_dir(&mnist::sample_dir()).unwrap());
    assert_eq!(data.train.images.count, 5000);
    assert!(
        peak <= sizes + SLACK,
        "load_dir held {peak} bytes at its peak for {sizes} bytes of files"
    );
}
