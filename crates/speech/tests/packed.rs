//! A corpus packed into an xz-compressed tar reads as the folder it was
//! packed from, packs to the same bytes every time, and is refused with
//! the archive (and the file inside it) named when it is not what it
//! should be.

use std::fs;
use std::path::Path;

use liblzma::read::XzDecoder;
use liblzma::write::XzEncoder;
use nalgebra::DMatrix;
use speech::hw1p2::{Corpus, LayoutError, PACKED, Precision, read_split, write_utterance};
use speech::npy::NpyError;
use speech::packed::{Packed, pack};
use tar::{Builder, EntryType, Header};

/// A corpus folder: `train` with transcripts, `test` without.
fn corpus(root: &Path) {
    let frames = |rows: usize, offset: f32| {
        DMatrix::from_fn(rows, 3, |r, c| offset + r as f32 * 0.5 - c as f32)
    };
    for (name, rows) in [("b.npy", 4), ("a.npy", 2), ("c.npy", 3)] {
        write_utterance(
            &root.join("train"),
            name,
            &frames(rows, rows as f32),
            Some(&vec!["AA"; rows]),
            Precision::Half,
        )
        .unwrap();
    }
    write_utterance(
        &root.join("test"),
        "z.npy",
        &frames(5, -1.0),
        None,
        Precision::Single,
    )
    .unwrap();
}

/// An xz-compressed tar of `entries` (path, type, bytes), made here
/// rather than by [`pack`], as another tool might.
fn archive(path: &Path, entries: &[(&str, EntryType, &[u8])]) {
    let mut builder = Builder::new(XzEncoder::new(fs::File::create(path).unwrap(), 1));
    for (name, kind, bytes) in entries {
        let mut header = Header::new_gnu();
        header.set_entry_type(*kind);
        header.set_size(bytes.len() as u64);
        header.set_mode(0o644);
        if *kind == EntryType::Symlink {
            header.set_size(0);
            builder
                .append_link(&mut header, name, "elsewhere.npy")
                .unwrap();
        } else if name.starts_with('/') || name.contains("..") {
            // The tar crate refuses to write such paths; another tool might.
            let field = &mut header.as_old_mut().name;
            field[..name.len()].copy_from_slice(name.as_bytes());
            header.set_cksum();
            builder.append(&header, *bytes).unwrap();
        } else {
            builder.append_data(&mut header, name, *bytes).unwrap();
        }
    }
    builder.into_inner().unwrap().finish().unwrap();
}

#[test]
fn a_packed_corpus_reads_as_the_folder_it_was_packed_from() {
    let dir = tempfile::tempdir().unwrap();
    corpus(dir.path());
    let packed = dir.path().join("corpus.tar.xz");
    pack(dir.path(), &["train", "test"], &packed).unwrap();
    let from_archive = Corpus::open(&packed).unwrap();
    assert!(matches!(from_archive, Corpus::Packed(_)));
    let from_folder = Corpus::open(dir.path()).unwrap();
    assert!(matches!(from_folder, Corpus::Folder(_)));
    for corpus in [&from_archive, &from_folder] {
        let train = corpus.read_split("train", true).unwrap();
        assert_eq!(train, read_split(&dir.path().join("train"), true).unwrap());
        let names: Vec<&str> = train.iter().map(|u| u.name.as_str()).collect();
        assert_eq!(names, ["a.npy", "b.npy", "c.npy"], "sorted by name");
        assert_eq!(
            corpus.read_split("test", false).unwrap(),
            read_split(&dir.path().join("test"), false).unwrap()
        );
        assert!(corpus.has_transcripts("train"));
        assert!(!corpus.has_transcripts("test"));
        assert!(!corpus.has_transcripts("tes"), "a prefix is no folder");
    }
}

#[test]
fn packing_gives_the_same_bytes_whatever_the_files_times_and_modes() {
    let dir = tempfile::tempdir().unwrap();
    corpus(dir.path());
    let first = dir.path().join("first.tar.xz");
    pack(dir.path(), &["train", "test"], &first).unwrap();
    // Rewritten later, with another mode: the same content.
    let file = dir.path().join("train/mfcc/a.npy");
    let bytes = fs::read(&file).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1100));
    fs::remove_file(&file).unwrap();
    fs::write(&file, &bytes).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(&file, fs::Permissions::from_mode(0o600)).unwrap();
    }
    let second = dir.path().join("second.tar.xz");
    pack(dir.path(), &["train", "test"], &second).unwrap();
    assert_eq!(fs::read(&first).unwrap(), fs::read(&second).unwrap());
    // A changed value changes the archive.
    let mut changed = bytes.clone();
    *changed.last_mut().unwrap() ^= 1;
    fs::write(&file, &changed).unwrap();
    let third = dir.path().join("third.tar.xz");
    pack(dir.path(), &["train", "test"], &third).unwrap();
    assert_ne!(fs::read(&first).unwrap(), fs::read(&third).unwrap());
}

#[test]
fn archives_from_other_tools_with_dot_slash_paths_and_folder_entries_read() {
    let dir = tempfile::tempdir().unwrap();
    corpus(dir.path());
    let mfcc = fs::read(dir.path().join("train/mfcc/a.npy")).unwrap();
    let transcript = fs::read(dir.path().join("train/transcript/a.npy")).unwrap();
    let path = dir.path().join("other.tar.xz");
    archive(
        &path,
        &[
            ("./", EntryType::Directory, b""),
            ("./train/", EntryType::Directory, b""),
            ("./train/mfcc/a.npy", EntryType::Regular, &mfcc),
            ("./train/transcript/a.npy", EntryType::Regular, &transcript),
            (
                "./train/mfcc/notes.txt",
                EntryType::Regular,
                b"not an utterance",
            ),
        ],
    );
    let split = Corpus::open(&path)
        .unwrap()
        .read_split("train", true)
        .unwrap();
    assert_eq!(split.len(), 1);
    assert_eq!(
        split[0],
        read_split(&dir.path().join("train"), true).unwrap()[0]
    );

    // Listed out of order: read in sorted order, as from the folder.
    let file = |name: &str| fs::read(dir.path().join("train").join(name)).unwrap();
    let (b, a, c) = (file("mfcc/b.npy"), file("mfcc/a.npy"), file("mfcc/c.npy"));
    let unsorted = dir.path().join("unsorted.tar.xz");
    archive(
        &unsorted,
        &[
            ("train/mfcc/b.npy", EntryType::Regular, &b),
            ("train/mfcc/a.npy", EntryType::Regular, &a),
            ("train/mfcc/c.npy", EntryType::Regular, &c),
        ],
    );
    assert_eq!(
        Corpus::open(&unsorted)
            .unwrap()
            .read_split("train", false)
            .unwrap(),
        read_split(&dir.path().join("train"), false).unwrap()
    );

    // The bundled corpus's folder, which holds the archive and no split
    // folder, reads as the archive.
    let folder = dir.path().join("bundled");
    fs::create_dir(&folder).unwrap();
    pack(dir.path(), &["train", "test"], &folder.join(PACKED)).unwrap();
    let corpus = Corpus::open(&folder).unwrap();
    assert!(matches!(corpus, Corpus::Packed(_)));
    assert_eq!(corpus.read_split("train", true).unwrap().len(), 3);
}

#[test]
fn long_names_pack_and_read_back() {
    let dir = tempfile::tempdir().unwrap();
    let name = format!("{}.npy", "a".repeat(150));
    let frames = DMatrix::from_fn(2, 3, |r, c| (r + c) as f32);
    write_utterance(
        &dir.path().join("train"),
        &name,
        &frames,
        Some(&["AA", "AA"]),
        Precision::Single,
    )
    .unwrap();
    let packed = dir.path().join(PACKED);
    pack(dir.path(), &["train"], &packed).unwrap();
    let split = Corpus::open(&packed)
        .unwrap()
        .read_split("train", true)
        .unwrap();
    assert_eq!(split[0].name, name);
    assert_eq!(split[0].frames, frames);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(&packed).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o644, "readable by all, as a data file");
    }
}

#[test]
fn bad_archives_are_refused_with_the_archive_and_the_file_in_it_named() {
    let dir = tempfile::tempdir().unwrap();
    corpus(dir.path());
    let mfcc = fs::read(dir.path().join("train/mfcc/a.npy")).unwrap();
    let packed = dir.path().join("splits.tar.xz");
    pack(dir.path(), &["train", "test"], &packed).unwrap();

    // Not xz at all.
    let plain = dir.path().join("plain.tar.xz");
    fs::write(&plain, b"just some text, no archive").unwrap();
    match Corpus::open(&plain) {
        Err(LayoutError::Packed { path, entry, .. }) => {
            assert_eq!(path, plain);
            assert_eq!(entry, None);
        }
        other => panic!("expected a Packed error, got {other:?}"),
    }
    // Cut short inside the compressed stream.
    let whole = fs::read(&packed).unwrap();
    let cut = dir.path().join("cut.tar.xz");
    fs::write(&cut, &whole[..whole.len() / 2]).unwrap();
    assert!(
        matches!(Corpus::open(&cut), Err(LayoutError::Packed { ref path, .. }) if *path == cut)
    );
    // Missing.
    let missing = dir.path().join("missing.tar.xz");
    assert!(matches!(
        Corpus::open(&missing),
        Err(LayoutError::Io { ref path, .. }) if *path == missing
    ));
    // Its last bytes cut off, or one changed near the end: the tar is
    // whole, the xz stream's index and checksum are not.
    for (name, bytes) in [
        ("end-cut.tar.xz", whole[..whole.len() - 12].to_vec()),
        ("flipped.tar.xz", {
            let mut b = whole.clone();
            let at = b.len() - 40;
            b[at] ^= 0x10;
            b
        }),
    ] {
        let path = dir.path().join(name);
        fs::write(&path, bytes).unwrap();
        assert!(
            matches!(Corpus::open(&path), Err(LayoutError::Packed { .. })),
            "{name}"
        );
    }
    // More than the limit once unpacked: the limit is on every byte of the
    // tar, accepted when exactly reached.
    let mut tar = Vec::new();
    std::io::Read::read_to_end(&mut XzDecoder::new(&whole[..]), &mut tar).unwrap();
    let size = tar.len() as u64;
    assert!(Packed::read_at_most(&packed, size).is_ok());
    assert!(matches!(
        Packed::read_at_most(&packed, size - 1),
        Err(LayoutError::TooLarge { limit, .. }) if limit == size - 1
    ));

    // A link, and the same path twice.
    for (name, entries) in [
        (
            "link.tar.xz",
            vec![("train/mfcc/a.npy", EntryType::Symlink, &b""[..])],
        ),
        (
            "twice.tar.xz",
            vec![
                ("train/mfcc/a.npy", EntryType::Regular, &mfcc[..]),
                ("train/mfcc/a.npy", EntryType::Regular, &mfcc[..]),
            ],
        ),
    ] {
        let path = dir.path().join(name);
        archive(&path, &entries);
        match Corpus::open(&path) {
            Err(LayoutError::Invalid { path: p, .. }) => {
                assert_eq!(p, path.join("train/mfcc/a.npy"), "{name}");
            }
            other => panic!("{name}: expected Invalid, got {other:?}"),
        }
    }

    // Paths that leave the archive's top folder.
    for (name, entry) in [
        ("absolute.tar.xz", "/train/mfcc/a.npy"),
        ("climbing.tar.xz", "train/../../a.npy"),
    ] {
        let path = dir.path().join(name);
        archive(&path, &[(entry, EntryType::Regular, &mfcc[..])]);
        assert!(
            matches!(Corpus::open(&path), Err(LayoutError::Invalid { .. })),
            "{name}"
        );
    }
    // The splits one folder down, as `tar -cJf x.tar.xz corpus/` makes
    // them: the split is missing, and the error says what is there.
    let nested = dir.path().join("nested.tar.xz");
    archive(
        &nested,
        &[("corpus/train/mfcc/a.npy", EntryType::Regular, &mfcc[..])],
    );
    let corpus = Corpus::open(&nested).unwrap();
    match corpus.read_split("train", false) {
        Err(LayoutError::Invalid { path, .. }) => assert_eq!(path, nested.join("train")),
        other => panic!("expected Invalid, got {other:?}"),
    }
    let Corpus::Packed(packed) = corpus else {
        panic!("an archive")
    };
    assert_eq!(packed.top_level(), ["corpus"]);

    // A broken .npy inside: named by its path in the archive.
    let broken = dir.path().join("broken.tar.xz");
    archive(
        &broken,
        &[("train/mfcc/a.npy", EntryType::Regular, &mfcc[..20])],
    );
    let corpus = Corpus::open(&broken).unwrap();
    match corpus.read_split("train", false) {
        Err(LayoutError::Npy(NpyError::Truncated { path, .. })) => {
            assert_eq!(path, broken.join("train/mfcc/a.npy"));
        }
        other => panic!("expected a Truncated error, got {other:?}"),
    }
    // A transcript missing, and a split the archive lacks.
    match corpus.read_split("train", true) {
        Err(LayoutError::Npy(_)) => {}
        other => panic!("the frames are read first: {other:?}"),
    }
    let no_transcript = dir.path().join("no-transcript.tar.xz");
    archive(
        &no_transcript,
        &[("train/mfcc/a.npy", EntryType::Regular, &mfcc[..])],
    );
    let corpus = Corpus::open(&no_transcript).unwrap();
    match corpus.read_split("train", true) {
        Err(LayoutError::Invalid { path, .. }) => {
            assert_eq!(path, no_transcript.join("train/transcript/a.npy"));
        }
        other => panic!("expected Invalid, got {other:?}"),
    }
    assert_eq!(corpus.read_split("train", false).unwrap().len(), 1);
    match corpus.read_split("dev", false) {
        Err(LayoutError::Invalid { path, .. }) => {
            assert_eq!(path, no_transcript.join("dev"));
        }
        other => panic!("expected Invalid, got {other:?}"),
    }
}

#[test]
fn a_failed_pack_leaves_no_archive_behind() {
    let dir = tempfile::tempdir().unwrap();
    corpus(dir.path());
    let out = dir.path().join("splits.tar.xz");
    assert!(matches!(
        pack(dir.path(), &["train", "absent"], &out),
        Err(LayoutError::Io { .. })
    ));
    assert!(!out.exists());
    let leftovers: Vec<_> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .filter(|n| n != "train" && n != "test")
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    // An old archive stays as it was.
    pack(dir.path(), &["train"], &out).unwrap();
    let before = fs::read(&out).unwrap();
    assert!(pack(dir.path(), &["train", "absent"], &out).is_err());
    assert_eq!(fs::read(&out).unwrap(), before);
}
