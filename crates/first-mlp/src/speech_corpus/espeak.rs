//! espeak-ng's own (formant) voices, run through its library so that the
//! synthesiser itself says where each phoneme starts: the command line
//! gives phone timings only for MBROLA voices. The library is opened at run
//! time, so nothing else in the project needs it.

use std::ffi::{CString, c_char, c_int, c_short, c_uint, c_void};
use std::sync::Mutex;

use anyhow::{Context, Result, bail};
use libloading::{Library, Symbol};

use super::voices::Spoken;

/// espeak-ng's `espeak_EVENT` (speak_lib.h), as laid out in C.
#[repr(C)]
struct Event {
    kind: c_int,
    unique_identifier: c_uint,
    text_position: c_int,
    length: c_int,
    audio_position: c_int,
    sample: c_int,
    user_data: *mut c_void,
    /// For a phoneme event, its mnemonic in up to 8 bytes.
    id: [u8; 8],
}

const EVENT_LIST_TERMINATED: c_int = 0;
const EVENT_PHONEME: c_int = 7;
const AUDIO_OUTPUT_SYNCHRONOUS: c_int = 2;
const INITIALIZE_PHONEME_EVENTS: c_int = 1;

type Callback = extern "C" fn(*mut c_short, c_int, *mut Event) -> c_int;

/// What the callback has been handed so far: the samples, and each
/// phoneme with the sample it starts at.
struct Heard {
    samples: Vec<i16>,
    phonemes: Vec<(String, usize)>,
}

static HEARD: Mutex<Heard> = Mutex::new(Heard {
    samples: Vec::new(),
    phonemes: Vec::new(),
});

extern "C" fn collect(wav: *mut c_short, count: c_int, events: *mut Event) -> c_int {
    let mut heard = HEARD.lock().unwrap_or_else(|e| e.into_inner());
    if !wav.is_null() && count > 0 {
        // SAFETY: espeak-ng hands `count` samples at `wav` for this call.
        let chunk = unsafe { std::slice::from_raw_parts(wav, count as usize) };
        heard.samples.extend_from_slice(chunk);
    }
    let mut event = events;
    while !event.is_null() {
        // SAFETY: espeak-ng's event list is valid up to and including its
        // terminating event (of type 0), where the walk stops.
        let e = unsafe { &*event };
        if e.kind == EVENT_LIST_TERMINATED {
            break;
        }
        if e.kind == EVENT_PHONEME {
            let end = e.id.iter().position(|&b| b == 0).unwrap_or(e.id.len());
            let name = String::from_utf8_lossy(&e.id[..end]).into_owned();
            heard.phonemes.push((name, e.sample.max(0) as usize));
        }
        // SAFETY: this event was not the terminator, so another follows.
        event = unsafe { event.add(1) };
    }
    0
}

/// The library, opened and initialised once, with its sample rate.
pub struct Espeak {
    library: Library,
    sample_rate: u32,
}

/// espeak-ng keeps one global state: one user at a time.
static LOCK: Mutex<()> = Mutex::new(());

impl Espeak {
    pub fn open() -> Result<Self> {
        // SAFETY: loading espeak-ng runs no initialisers with preconditions.
        let library = unsafe { Library::new("libespeak-ng.so.1") }.context(
            "opening libespeak-ng.so.1 (install espeak-ng: bash data/speech-corpus/make_corpus.sh)",
        )?;
        // SAFETY: the signatures are speak_lib.h's; synchronous output with
        // a callback that copies what it is given and keeps no pointer.
        let sample_rate = unsafe {
            let initialise: Symbol<
                unsafe extern "C" fn(c_int, c_int, *const c_char, c_int) -> c_int,
            > = library.get(b"espeak_Initialize\0")?;
            let set_callback: Symbol<unsafe extern "C" fn(Callback)> =
                library.get(b"espeak_SetSynthCallback\0")?;
            let rate = initialise(
                AUDIO_OUTPUT_SYNCHRONOUS,
                0,
                std::ptr::null(),
                INITIALIZE_PHONEME_EVENTS,
            );
            set_callback(collect);
            rate
        };
        if sample_rate <= 0 {
            bail!("espeak-ng failed to initialise ({sample_rate})");
        }
        Ok(Self {
            library,
            sample_rate: sample_rate as u32,
        })
    }

    /// `sentence` in `voice` (such as `en-us+f3`): the samples at the
    /// library's rate, and each phoneme (espeak-ng's mnemonic) with its
    /// duration in milliseconds, the silence before the first included.
    pub fn speak(&self, voice: &str, sentence: &str) -> Result<Spoken> {
        let _one_at_a_time = LOCK.lock().unwrap_or_else(|e| e.into_inner());
        {
            let mut heard = HEARD.lock().unwrap_or_else(|e| e.into_inner());
            heard.samples.clear();
            heard.phonemes.clear();
        }
        let name = CString::new(voice)?;
        let text = CString::new(sentence.replace('\0', " "))?;
        // SAFETY: speak_lib.h's signatures; both strings outlive the calls,
        // and the lock keeps espeak-ng's global state to this call.
        let status = unsafe {
            let set_voice: Symbol<unsafe extern "C" fn(*const c_char) -> c_int> =
                self.library.get(b"espeak_SetVoiceByName\0")?;
            let synth: Symbol<
                unsafe extern "C" fn(
                    *const c_void,
                    usize,
                    c_uint,
                    c_int,
                    c_uint,
                    c_uint,
                    *mut c_uint,
                    *mut c_void,
                ) -> c_int,
            > = self.library.get(b"espeak_Synth\0")?;
            let status = set_voice(name.as_ptr());
            if status != 0 {
                bail!("espeak-ng has no voice {voice:?} (status {status})");
            }
            let bytes = text.as_bytes_with_nul();
            synth(
                bytes.as_ptr().cast(),
                bytes.len(),
                0,
                0,
                0,
                0,
                std::ptr::null_mut(),
                std::ptr::null_mut(),
            )
        };
        if status != 0 {
            bail!("espeak-ng could not speak {sentence:?} (status {status})");
        }
        let heard = HEARD.lock().unwrap_or_else(|e| e.into_inner());
        let rate = self.sample_rate as f32;
        let total = heard.samples.len();
        let mut phones = Vec::with_capacity(heard.phonemes.len() + 1);
        let mut previous = ("_".to_owned(), 0usize);
        for (name, start) in heard.phonemes.iter().cloned() {
            let start = start.min(total);
            // `;` marks the phoneme before it (palatalised): its time is that
            // phoneme's.
            if name == ";" {
                continue;
            }
            if start < previous.1 {
                bail!(
                    "espeak-ng's phoneme {name:?} starts at sample {start}, before the one before it"
                );
            }
            phones.push((previous.0, (start - previous.1) as f32 * 1000.0 / rate));
            previous = (name, start);
        }
        phones.push((previous.0, (total - previous.1) as f32 * 1000.0 / rate));
        let samples = heard
            .samples
            .iter()
            .map(|&s| f32::from(s) / 32768.0)
            .collect();
        Ok(Spoken {
            samples,
            sample_rate: self.sample_rate,
            phones,
        })
    }
}
