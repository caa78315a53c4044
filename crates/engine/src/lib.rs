//! The engine: the fast path. Stage 4's `train_step` and stage 3's `Mlp::forward`, for
//! the networks stage 5 trains, computed the same way but without the
//! overheads the teaching code accepts for clarity. The book's chapter
//! "Making it fast" walks through it.
//!
//! The arithmetic is the teaching code's: Z = A Wᵀ + b, then the activation;
//! softmax cross-entropy; dW = dZᵀ A, db = column sums of dZ, dA = dZ W,
//! dZ = dA ⊙ f′(Z); then Adam as `optim.rs` writes it, with the bias
//! corrections folded into two constants per step. What changes:
//!
//! - every matrix lives in a buffer allocated once and reused (a step
//!   allocates nothing on x86-64; elsewhere only the `gemm` crate's packing
//!   space);
//! - each product is one call into a library that blocks it for the caches
//!   and picks AVX-512 or AVX2 kernels at run time: faer's x86-64 kernels
//!   (the `private-gemm-x86` crate) on x86-64 with AVX2, the `gemm` crate
//!   elsewhere; transposes are read through strides instead of copied;
//! - each layer is split in two halves, one per core, and each core
//!   finishes its half: bias and activation after the forward product; the
//!   activation's derivative, the weight and bias gradients and Adam after
//!   the backward ones, while the data is in its cache; during a step the
//!   other core's thread waits for its halves spinning (`partner.rs`), so a
//!   hand-over costs about a microsecond instead of rayon's ten or more;
//! - the input gradient of the first layer, which training never uses, is
//!   not computed (a third of that layer's backward work);
//! - the first layer's input columns that hold one value in every example
//!   of the batch (MNIST's background) are left out of its two products:
//!   they fold into the bias, and their dW columns are c · db
//!   (`constant_inputs.rs`);
//! - the element-wise loops are compiled for AVX-512 and AVX2 as well, and
//!   picked at run time.
//!
//! Every value is computed by one thread in a fixed order, so the same
//! inputs give the same bits on every run. The results differ from the
//! teaching code's only by rounding (tests hold the two together).
//!
//! Supported: linear layers, each optionally followed by one element-wise
//! activation, trained with softmax cross-entropy on class labels by Adam or
//! AdamW, optionally with inverted dropout after each hidden layer (below).
//! Anything else (maxout, batch normalisation, MSE, SGD) returns an error
//! saying so; the teaching `train_step` handles it.
//!
//! Dropout ([`Trainer::with_dropout`], stage 7's): with a rate p in (0, 1),
//! a training step ([`Trainer::step_with`], [`train_epoch_with`]) multiplies
//! the output of each hidden layer (every linear layer but the last; after
//! its activation if it has one) by a mask M, A ← A ⊙ M, and its backward
//! pass multiplies dL/dA by the same mask before the activation's
//! derivative, dZ = (dA ⊙ M) ⊙ f′(Z); the next layer's dW uses the masked
//! A, which is what it saw. Neither the network's input nor the logits are
//! dropped, and evaluation ([`Trainer::forward`]) drops nothing. The masks
//! are drawn from the `ChaCha8Rng` the caller passes, as stage 7's
//! `dropout_mask` draws them: for each step, each hidden layer in order
//! (first first), a (batch, units) mask, one `rng.random::<f32>()` per
//! entry in column-major order (every example of unit 0, then of unit 1,
//! …), the entry 0 when its draw is below p, else 1/(1 − p) (computed in
//! f32). So the same generator gives the teaching code's masks, bit for
//! bit. They are drawn on one thread before the step's forward pass, and
//! the multiplications are fused into the element-wise passes that apply
//! the activation and its derivative. At p = 0 nothing is drawn and the
//! step is the one without dropout, bit for bit.

mod batch_copy;
mod trainer;

pub use batch_copy::BlockCopy;
pub use trainer::{
    EpochError, Input, PROCESSOR_KINDS, Trainer, Unsupported, faer_kernels, input, processor_kind,
    train_epoch, train_epoch_with,
};
