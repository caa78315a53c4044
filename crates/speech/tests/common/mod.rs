//! Builders of hostile `.npy` and WAV files, shared by the attack corpus
//! and the fuzzer.
#![allow(dead_code)]

/// An `.npy` file (version 1) with this header text and data.
pub fn npy(header: &str, data: &[u8]) -> Vec<u8> {
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend((header.len() as u16).to_le_bytes());
    out.extend(header.as_bytes());
    out.extend(data);
    out
}

/// The header NumPy writes for `descr` and a shape written as Python does.
pub fn header(descr: &str, shape: &str) -> String {
    format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}\n")
}

pub fn f32_bytes(values: &[f32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

pub fn utf32(codes: &[u32]) -> Vec<u8> {
    codes.iter().flat_map(|c| c.to_le_bytes()).collect()
}

/// The fields of a WAV header that a file can set to anything.
#[derive(Clone, Debug)]
pub struct Wav {
    pub format_tag: u16,
    pub channels: u16,
    pub rate: u32,
    pub block_align: u16,
    pub bits: u16,
    /// For WAVE_FORMAT_EXTENSIBLE (0xfffe): the valid bits and a float subformat.
    pub valid_bits: u16,
    pub float_subformat: bool,
    /// The data chunk's declared length, and the bytes actually there.
    pub data_len: u32,
    pub data: Vec<u8>,
}

impl Wav {
    pub fn bytes(&self) -> Vec<u8> {
        let mut fmt = Vec::new();
        fmt.extend(self.format_tag.to_le_bytes());
        fmt.extend(self.channels.to_le_bytes());
        fmt.extend(self.rate.to_le_bytes());
        fmt.extend(
            u32::from(self.block_align)
                .wrapping_mul(self.rate)
                .to_le_bytes(),
        );
        fmt.extend(self.block_align.to_le_bytes());
        fmt.extend(self.bits.to_le_bytes());
        if self.format_tag == 0xfffe {
            fmt.extend(22u16.to_le_bytes());
            fmt.extend(self.valid_bits.to_le_bytes());
            fmt.extend(0u32.to_le_bytes());
            let first = if self.float_subformat { 3 } else { 1 };
            fmt.extend([
                first, 0, 0, 0, 0, 0, 0x10, 0, 0x80, 0, 0, 0xaa, 0, 0x38, 0x9b, 0x71,
            ]);
        }
        let mut body = b"WAVE".to_vec();
        body.extend(b"fmt ");
        body.extend((fmt.len() as u32).to_le_bytes());
        body.extend(fmt);
        body.extend(b"data");
        body.extend(self.data_len.to_le_bytes());
        body.extend(&self.data);
        let mut out = b"RIFF".to_vec();
        out.extend((body.len() as u32).to_le_bytes());
        out.extend(body);
        out
    }
}

/// A mono 16 kHz file of 32-bit float samples.
pub fn float_wav(samples: &[f32]) -> Wav {
    let data = f32_bytes(samples);
    Wav {
        format_tag: 3,
        channels: 1,
        rate: 16_000,
        block_align: 4,
        bits: 32,
        valid_bits: 32,
        float_subformat: true,
        data_len: data.len() as u32,
        data,
    }
}
