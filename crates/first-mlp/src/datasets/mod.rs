//! The data sets, ready for training: MNIST's images as normalised pixel
//! rows split into training, validation and test, and the speech corpus's
//! MFCC frames as windows with context.

pub mod mnist;
pub mod speech;
