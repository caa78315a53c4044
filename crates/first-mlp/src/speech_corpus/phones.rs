//! The phone sets the synthesisers speak in, each mapped to the 40 classes.
//! The book's speech chapter states these maps; a test holds every entry to
//! a class and every class to some phone of each set.

/// A synthesiser's phone alphabet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PhoneSet {
    /// espeak-ng's names for the MBROLA voices (SAMPA): US (us1-3) and
    /// British (en1) phones together, as they do not clash.
    Sampa,
    /// Festival's and Flite's US set ("radio", ARPAbet in lower case).
    Radio,
    /// Festival's British set (MRPA), for rab and don.
    Mrpa,
    /// espeak-ng's own phoneme names, for its formant voices.
    Espeak,
}

/// The MBROLA voices' phones (as espeak-ng writes them) and their classes.
// ANCHOR: sampa
pub const SAMPA: [(&str, &str); 77] = [
    ("_", "[SIL]"),
    ("A", "AA"),
    ("A:", "AA"),
    ("Q", "AA"),
    ("{", "AE"),
    ("a", "AE"),
    ("@", "AH"),
    ("V", "AH"),
    ("O", "AO"),
    ("O:", "AO"),
    ("O2", "AO"),
    ("aU", "AW"),
    ("AI", "AY"),
    ("aI", "AY"),
    ("b", "B"),
    ("tS", "CH"),
    ("d", "D"),
    ("4", "D"),
    ("D", "DH"),
    ("E", "EH"),
    ("e", "EH"),
    ("e@", "EH"),
    ("r=", "ER"),
    ("@`", "ER"),
    ("3:", "ER"),
    ("EI", "EY"),
    ("eI", "EY"),
    ("f", "F"),
    ("g", "G"),
    ("h", "HH"),
    ("I", "IH"),
    ("I@", "IH"),
    ("i", "IY"),
    ("i:", "IY"),
    ("dZ", "JH"),
    ("k", "K"),
    ("k_h", "K"),
    ("l", "L"),
    ("l=", "L"),
    ("5", "L"),
    ("m", "M"),
    ("m=", "M"),
    ("n", "N"),
    ("n=", "N"),
    ("N", "NG"),
    ("@U", "OW"),
    ("oU", "OW"),
    ("OI", "OY"),
    ("p", "P"),
    ("p_h", "P"),
    ("r", "R"),
    ("s", "S"),
    ("S", "SH"),
    ("t", "T"),
    ("t_h", "T"),
    ("?", "T"),
    ("T", "TH"),
    ("U", "UH"),
    ("U@", "UH"),
    ("u", "UW"),
    ("u:", "UW"),
    ("v", "V"),
    ("w", "W"),
    ("W", "W"),
    ("j", "Y"),
    ("z", "Z"),
    ("Z", "ZH"),
    ("x", "HH"),
    ("i@", "IH"),
    ("3", "ER"),
    // The German MBROLA voices speaking English (espeak-ng's mb-deN-en).
    ("6", "ER"),
    ("R", "R"),
    ("a:", "AA"),
    ("e:", "EY"),
    ("o:", "OW"),
    ("OY", "OY"),
    ("L", "L"),
];
// ANCHOR_END: sampa

/// Festival's and Flite's US phones (radio) and their classes.
// ANCHOR: radio
pub const RADIO: [(&str, &str); 51] = [
    ("pau", "[SIL]"),
    ("h#", "[SIL]"),
    ("brth", "[SIL]"),
    ("aa", "AA"),
    ("ae", "AE"),
    ("ah", "AH"),
    ("ax", "AH"),
    ("ao", "AO"),
    ("aw", "AW"),
    ("ay", "AY"),
    ("b", "B"),
    ("ch", "CH"),
    ("d", "D"),
    ("dx", "D"),
    ("dh", "DH"),
    ("eh", "EH"),
    ("er", "ER"),
    ("axr", "ER"),
    ("ey", "EY"),
    ("f", "F"),
    ("g", "G"),
    ("hh", "HH"),
    ("hv", "HH"),
    ("ih", "IH"),
    ("iy", "IY"),
    ("jh", "JH"),
    ("k", "K"),
    ("l", "L"),
    ("el", "L"),
    ("m", "M"),
    ("em", "M"),
    ("n", "N"),
    ("en", "N"),
    ("nx", "N"),
    ("ng", "NG"),
    ("ow", "OW"),
    ("oy", "OY"),
    ("p", "P"),
    ("r", "R"),
    ("s", "S"),
    ("sh", "SH"),
    ("t", "T"),
    ("th", "TH"),
    ("uh", "UH"),
    ("uw", "UW"),
    ("v", "V"),
    ("w", "W"),
    ("y", "Y"),
    ("z", "Z"),
    ("zh", "ZH"),
    ("ssil", "[SIL]"),
];
// ANCHOR_END: radio

/// Festival's British phones (MRPA) and their classes. The non-rhotic
/// diphthongs of NEAR, SQUARE and CURE take the class of their first part,
/// as CMUdict's IH R, EH R and UH R do.
// ANCHOR: mrpa
pub const MRPA: [(&str, &str); 45] = [
    ("#", "[SIL]"),
    ("uh", "AH"),
    ("@", "AH"),
    ("e", "EH"),
    ("e@", "EH"),
    ("a", "AE"),
    ("o", "AA"),
    ("aa", "AA"),
    ("i", "IH"),
    ("i@", "IH"),
    ("u", "UH"),
    ("u@", "UH"),
    ("ii", "IY"),
    ("uu", "UW"),
    ("oo", "AO"),
    ("@@", "ER"),
    ("ai", "AY"),
    ("ei", "EY"),
    ("oi", "OY"),
    ("au", "AW"),
    ("ou", "OW"),
    ("p", "P"),
    ("t", "T"),
    ("k", "K"),
    ("b", "B"),
    ("d", "D"),
    ("g", "G"),
    ("s", "S"),
    ("z", "Z"),
    ("sh", "SH"),
    ("zh", "ZH"),
    ("f", "F"),
    ("v", "V"),
    ("th", "TH"),
    ("dh", "DH"),
    ("ch", "CH"),
    ("jh", "JH"),
    ("h", "HH"),
    ("m", "M"),
    ("n", "N"),
    ("ng", "NG"),
    ("l", "L"),
    ("y", "Y"),
    ("r", "R"),
    ("w", "W"),
];
// ANCHOR_END: mrpa

/// espeak-ng's own phonemes (its English phoneme table) and their classes.
/// Numbered and marked variants (`@2`, `I#`, `t#`) are the same sound in
/// another context; `;` is merged into the phone before it by the reader.
// ANCHOR: espeak
pub const ESPEAK: [(&str, &str); 80] = [
    ("_", "[SIL]"),
    ("_:", "[SIL]"),
    ("_!", "[SIL]"),
    ("_|", "[SIL]"),
    ("a", "AE"),
    ("aa", "AE"),
    ("a#", "AH"),
    ("A:", "AA"),
    ("A@", "AA"),
    ("0", "AA"),
    ("@", "AH"),
    ("@2", "AH"),
    ("@5", "AH"),
    ("@-", "AH"),
    ("V", "AH"),
    ("O:", "AO"),
    ("O@", "AO"),
    ("o@", "AO"),
    ("O2", "AO"),
    ("0@", "AO"),
    ("aU", "AW"),
    ("aI", "AY"),
    ("aI2", "AY"),
    ("aI3", "AY"),
    ("aI@", "AY"),
    ("b", "B"),
    ("tS", "CH"),
    ("d", "D"),
    ("t#", "D"),
    ("D", "DH"),
    ("E", "EH"),
    ("e", "EH"),
    ("e@", "EH"),
    ("3", "ER"),
    ("3:", "ER"),
    ("VR", "ER"),
    ("eI", "EY"),
    ("f", "F"),
    ("g", "G"),
    ("h", "HH"),
    ("x", "HH"),
    ("I", "IH"),
    ("I2", "IH"),
    ("I#", "IH"),
    ("IR", "IH"),
    ("i@", "IH"),
    ("i@3", "IH"),
    ("i", "IY"),
    ("i:", "IY"),
    ("dZ", "JH"),
    ("k", "K"),
    ("l", "L"),
    ("@L", "L"),
    ("l-", "L"),
    ("m", "M"),
    ("m-", "M"),
    ("n", "N"),
    ("n-", "N"),
    ("N", "NG"),
    ("oU", "OW"),
    ("OI", "OY"),
    ("p", "P"),
    ("r", "R"),
    ("r-", "R"),
    ("s", "S"),
    ("S", "SH"),
    ("t", "T"),
    ("t2", "T"),
    ("t[", "T"),
    ("?", "T"),
    ("T", "TH"),
    ("U", "UH"),
    ("U@", "UH"),
    ("u:", "UW"),
    ("v", "V"),
    ("w", "W"),
    ("w#", "W"),
    ("j", "Y"),
    ("z", "Z"),
    ("Z", "ZH"),
];
// ANCHOR_END: espeak

impl PhoneSet {
    /// Every phone of the set with its class.
    pub fn map(self) -> &'static [(&'static str, &'static str)] {
        match self {
            PhoneSet::Sampa => &SAMPA,
            PhoneSet::Radio => &RADIO,
            PhoneSet::Mrpa => &MRPA,
            PhoneSet::Espeak => &ESPEAK,
        }
    }

    /// The class of `phone` in this set.
    pub fn class_of(self, phone: &str) -> Option<&'static str> {
        self.map()
            .iter()
            .find(|(p, _)| *p == phone)
            .map(|(_, c)| *c)
    }

    pub fn name(self) -> &'static str {
        match self {
            PhoneSet::Sampa => "SAMPA (espeak-ng's MBROLA names)",
            PhoneSet::Radio => "radio (Festival and Flite, US)",
            PhoneSet::Mrpa => "MRPA (Festival, British)",
            PhoneSet::Espeak => "espeak-ng's own phonemes",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use speech::hw1p2;

    #[test]
    fn every_phone_maps_to_a_class_once_and_every_class_is_reached() {
        for set in [
            PhoneSet::Sampa,
            PhoneSet::Radio,
            PhoneSet::Mrpa,
            PhoneSet::Espeak,
        ] {
            let mut reached = [false; 40];
            for (n, (phone, class)) in set.map().iter().enumerate() {
                let i = hw1p2::phoneme_index(class)
                    .unwrap_or_else(|| panic!("{set:?}: {phone} → {class}, not a class"));
                reached[i] = true;
                assert!(
                    !set.map()[..n].iter().any(|(p, _)| p == phone),
                    "{set:?}: {phone} twice"
                );
                assert_eq!(set.class_of(phone), Some(*class));
            }
            let missing: Vec<_> = hw1p2::PHONEMES
                .iter()
                .zip(reached)
                .filter(|(_, r)| !r)
                .collect();
            assert!(missing.is_empty(), "{set:?} never reaches {missing:?}");
        }
    }

    #[test]
    fn the_sets_agree_on_what_phonetics_says() {
        // The same sound in the three alphabets, by the IPA: the vowel of
        // "thought", of "nurse", of "lot" (British), the dark l and the flap.
        let same = [
            ("O:", "ao", "oo", "AO"),
            ("3:", "er", "@@", "ER"),
            ("Q", "aa", "o", "AA"),
            ("5", "el", "l", "L"),
            ("4", "dx", "d", "D"),
            ("@U", "ow", "ou", "OW"),
            ("e@", "eh", "e@", "EH"),
        ];
        for (sampa, radio, mrpa, class) in same {
            assert_eq!(PhoneSet::Sampa.class_of(sampa), Some(class), "{sampa}");
            assert_eq!(PhoneSet::Radio.class_of(radio), Some(class), "{radio}");
            assert_eq!(PhoneSet::Mrpa.class_of(mrpa), Some(class), "{mrpa}");
        }
        assert_eq!(PhoneSet::Radio.class_of("Q"), None);
    }
}
