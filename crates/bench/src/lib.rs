//! First MLP's benchmark: one fixed MNIST workload ([`workload`]) run by
//! the engine's fast path, the teaching code, NumPy, JAX, PyTorch, burn and
//! candle ([`runners`], [`rust_peers`], `peers/`), each in its own process
//! ([`harness`]), beside the processor's measured ceiling ([`ceiling`]).
//!
//! A crate of its own so that neither a learner's stage nor the course's
//! command line ever builds burn, candle or the timing machinery.

pub mod ceiling;
pub mod harness;
pub mod runners;
pub mod rust_peers;
pub mod workload;
