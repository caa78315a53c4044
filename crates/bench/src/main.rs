//! `cargo run --release -p bench -- --data DIR`: the side-by-side benchmark
//! (see the crate docs and the book's chapter "Making it fast").

use anyhow::Result;
use bench::harness::{self, BenchConfig};
use clap::Parser;

// The allocator `first-mlp` trains with (see its main.rs), so the engine
// is timed as it runs there.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    version,
    about = "Time the engine and the teaching code against JAX, PyTorch, NumPy, burn and candle on one MNIST workload, side by side (the Python peers that are installed)"
)]
struct Cli {
    #[command(flatten)]
    config: BenchConfig,
}

fn main() -> Result<()> {
    harness::run(&Cli::parse().config)
}
