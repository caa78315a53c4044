//! Speech for First MLP: NumPy's `.npy` files, the HW1P2 data layout and its
//! 40 phonemes.

pub mod hw1p2;
pub mod npy;
