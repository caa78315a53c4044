//! Speech for First MLP: NumPy's `.npy` files, the HW1P2 data layout and its
//! 40 phonemes, and an MFCC front end.

pub mod hw1p2;
pub mod mfcc;
pub mod npy;
