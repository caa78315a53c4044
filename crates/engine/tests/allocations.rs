//! What a steady-state training step of the fast path costs in memory
//! traffic with the system: no page faults, and no allocation at all where
//! the products run on faer's x86-64 kernels (they keep their packing space
//! per thread); elsewhere, none but the `gemm` crate's own packing space (it
//! allocates per product and has no way to pass it in; the allocator then
//! hands the same blocks back each time).
//! Every allocation in this test binary is counted, on every thread.

use std::alloc::{GlobalAlloc, Layout};

use mimalloc::MiMalloc;
use std::sync::atomic::{AtomicUsize, Ordering};

use course_support::activation::Activation;
use course_support::network::{Init, Mlp};
use course_support::optim::Adam;
use engine::{Trainer, faer_kernels, input};
use nalgebra::DMatrix;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards to mimalloc (the allocator `first-mlp` uses), only
// counting calls.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: the caller's contract for `alloc`, passed on unchanged.
        unsafe { MiMalloc.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from this allocator, which is mimalloc's.
        unsafe { MiMalloc.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: as for `dealloc`, with the caller's `realloc` contract.
        unsafe { MiMalloc.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

#[test]
fn steady_state_rounds_take_no_page_faults_and_allocate_only_for_packing() {
    // The benchmark's network, at the benchmark's batch size.
    let mut mlp = Mlp::new(
        &[784, 512, 256, 10],
        &[Activation::Relu, Activation::Relu, Activation::Identity],
        Init::KaimingUniform,
        0,
        reference::init::init_weights,
    )
    .unwrap();
    let mut adam = Adam::new(1e-3);
    let mut trainer = Trainer::new(&mlp, 128).unwrap();
    // And steps with dropout, whose masks are drawn into buffers of their own.
    let (mut dropped, mut dropped_adam) = (mlp.clone(), Adam::new(1e-3));
    let mut dropout = Trainer::new(&mlp, 128).unwrap().with_dropout(0.2).unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let x = DMatrix::from_fn(128, 784, |r, c| {
        ((r * 31 + c * 17) % 97) as f32 / 97.0 - 0.5
    });
    // The steps' batch has constant columns, like MNIST's background, which
    // the first layer's products leave out; the forward passes' has none.
    let mut background = x.clone();
    background.columns_mut(0, 200).fill(-0.4242);
    let labels: Vec<usize> = (0..128).map(|r| r % 10).collect();
    const ROUNDS: usize = 10;
    // On the thread pool, as `engine::train_epoch` runs: a step started from
    // outside it would be queued for the pool, which allocates.
    let (loss, allocations, faults) = rayon::scope(|_| {
        // Warm-up: Adam's moments, the matrix product's per-thread packing
        // space, the forward pass's buffers.
        for _ in 0..5 {
            trainer
                .step(&mut mlp, &mut adam, input(&background), &labels)
                .unwrap();
            assert_eq!(trainer.skipped_inputs(), 200, "constant columns left out");
            trainer.forward(&mlp, input(&x)).unwrap();
            assert_eq!(trainer.skipped_inputs(), 0, "constant columns left out");
            dropout
                .step_with(
                    &mut dropped,
                    &mut dropped_adam,
                    input(&background),
                    &labels,
                    Some(&mut rng),
                )
                .unwrap();
        }
        let faults_before = minor_page_faults();
        let before = ALLOCATIONS.load(Ordering::Relaxed);
        let mut loss = 0.0;
        for _ in 0..ROUNDS {
            loss = trainer
                .step(&mut mlp, &mut adam, input(&background), &labels)
                .unwrap();
            trainer.forward(&mlp, input(&x)).unwrap();
            dropout
                .step_with(
                    &mut dropped,
                    &mut dropped_adam,
                    input(&background),
                    &labels,
                    Some(&mut rng),
                )
                .unwrap();
        }
        let allocations = ALLOCATIONS.load(Ordering::Relaxed) - before;
        let faults = minor_page_faults().zip(faults_before).map(|(a, b)| a - b);
        (loss, allocations, faults)
    });
    assert!(
        loss.is_finite() && loss < 2.3,
        "the steps trained: loss {loss}"
    );
    // Per round: a forward pass (2 + 2 + 1 products: two layers split
    // between the cores, the last one whole), and two steps (the same 5,
    // then 2 + 4 + 2 backward), 31 products.
    let products = 31 * ROUNDS;
    if faer_kernels() {
        assert_eq!(
            allocations, 0,
            "allocations in {ROUNDS} steady-state rounds with faer's kernels, which keep their packing space per thread"
        );
    } else {
        assert!(
            allocations <= 2 * products,
            "{allocations} allocations in {ROUNDS} rounds of {} products: more than the gemm crate's two per product",
            products / ROUNDS
        );
    }
    // With glibc's allocator the same rounds take about 38 page faults each
    // (the packing space handed back to the kernel and fetched again). A
    // stray fault elsewhere in the process (a thread's stack, the test
    // harness) is not that; fewer than one per round is.
    if let Some(faults) = faults {
        assert!(
            faults < ROUNDS as u64,
            "{faults} page faults in {ROUNDS} steady-state rounds"
        );
    }
}

/// This process's minor page faults so far (Linux; None elsewhere).
fn minor_page_faults() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which is in parentheses): state is
    // field 3, minflt field 10.
    let after_name = &stat[stat.rfind(')')? + 2..];
    after_name.split(' ').nth(7)?.parse().ok()
}
