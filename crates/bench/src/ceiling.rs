//! How fast this machine could possibly train the benchmark's MLP: the
//! floating-point work of an epoch, and the processor's peak rate of fused
//! multiply-adds (measured, not looked up), which bound every f32
//! implementation from below, whatever its kernels.

use std::time::Instant;

/// Floating-point operations (2 per multiply-add) of one epoch of training
/// an MLP of these widths on `examples` examples: the forward products, the
/// weight gradients, and the input gradients of every layer but the first
/// (nothing needs dL/dX). Biases, activations, the loss and the optimiser
/// are left out: they grow with the parameters, not with the products.
pub fn training_flop(widths: &[usize], examples: usize) -> f64 {
    let products: Vec<f64> = widths
        .windows(2)
        .map(|w| w[0] as f64 * w[1] as f64)
        .collect();
    let forward: f64 = products.iter().sum();
    let input_gradients: f64 = products.iter().skip(1).sum();
    2.0 * examples as f64 * (2.0 * forward + input_gradients)
}

/// The fused multiply-add rate of `threads` threads running at once, in
/// GFLOP/s (best of three runs of ~0.1 s), with the widest vectors this
/// processor has; None where no such loop is written here (not x86-64 with
/// AVX2 and FMA).
pub fn fma_peak_gflops(threads: usize) -> Option<f64> {
    let kernel = fma_kernel()?;
    let threads = threads.max(1);
    let best_seconds = (0..3)
        .map(|_| {
            let start = Instant::now();
            std::thread::scope(|scope| {
                for _ in 0..threads {
                    scope.spawn(|| std::hint::black_box(kernel.run(FMA_ROUNDS)));
                }
            });
            start.elapsed().as_secs_f64()
        })
        .fold(f64::INFINITY, f64::min);
    let flop = threads as f64 * FMA_ROUNDS as f64 * kernel.flop_per_round();
    Some(flop / best_seconds / 1e9)
}

/// Rounds of the FMA loop per thread: ~0.1 s on a 3.5 GHz core.
const FMA_ROUNDS: u64 = 30_000_000;

/// Independent accumulators: enough to cover the latency of an FMA (4
/// cycles) times the FMA units (2), so that the loop runs at throughput.
const ACCUMULATORS: usize = 12;

#[derive(Clone, Copy)]
enum FmaKernel {
    Avx512,
    Avx2,
}

fn fma_kernel() -> Option<FmaKernel> {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512f") {
            return Some(FmaKernel::Avx512);
        }
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
        {
            return Some(FmaKernel::Avx2);
        }
    }
    None
}

impl FmaKernel {
    fn flop_per_round(self) -> f64 {
        let lanes = match self {
            Self::Avx512 => 16.0,
            Self::Avx2 => 8.0,
        };
        2.0 * lanes * ACCUMULATORS as f64
    }

    fn run(self, rounds: u64) -> f32 {
        #[cfg(target_arch = "x86_64")]
        {
            // SAFETY: `fma_kernel` picked the variant the processor supports.
            unsafe {
                match self {
                    Self::Avx512 => x86::fma_avx512(rounds),
                    Self::Avx2 => x86::fma_avx2(rounds),
                }
            }
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            let _ = rounds;
            unreachable!("no FMA kernel is picked off x86-64")
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::ACCUMULATORS;
    use std::arch::x86_64::*;

    /// `rounds` × 12 vector FMAs on registers only. Safety: needs AVX-512F.
    #[target_feature(enable = "avx512f")]
    pub unsafe fn fma_avx512(rounds: u64) -> f32 {
        let mut acc = [_mm512_set1_ps(0.0); ACCUMULATORS];
        let (a, b) = (_mm512_set1_ps(0.999), _mm512_set1_ps(1e-3));
        for _ in 0..rounds {
            for x in &mut acc {
                *x = _mm512_fmadd_ps(*x, a, b);
            }
        }
        acc.iter().map(|&x| _mm512_reduce_add_ps(x)).sum()
    }

    /// The same with 256-bit vectors. Safety: needs AVX2 and FMA.
    #[target_feature(enable = "avx2,fma")]
    pub unsafe fn fma_avx2(rounds: u64) -> f32 {
        let mut acc = [_mm256_set1_ps(0.0); ACCUMULATORS];
        let (a, b) = (_mm256_set1_ps(0.999), _mm256_set1_ps(1e-3));
        for _ in 0..rounds {
            for x in &mut acc {
                *x = _mm256_fmadd_ps(*x, a, b);
            }
        }
        let mut lanes = [0.0f32; 8];
        acc.iter()
            .map(|&x| {
                // SAFETY: `lanes` holds 8 f32.
                unsafe { _mm256_storeu_ps(lanes.as_mut_ptr(), x) };
                lanes.iter().sum::<f32>()
            })
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn training_flop_counts_by_hand() {
        // 2-3-1: forward 6 + 3, weight gradients 6 + 3, input gradient of
        // the second layer 3: 21 multiply-adds per example.
        assert_eq!(training_flop(&[2, 3, 1], 10), 2.0 * 10.0 * 21.0);
        // The benchmark: forward 784·512 + 512·256 + 256·10 = 535,040;
        // the same again for dW; 512·256 + 256·10 = 133,632 for dA.
        let per_example = 2.0 * 535_040.0 + 133_632.0;
        assert_eq!(
            training_flop(&[784, 512, 256, 10], 468 * 128),
            2.0 * 59_904.0 * per_example
        );
        // A linear model has no input gradient to compute.
        assert_eq!(training_flop(&[784, 10], 1), 2.0 * 2.0 * 7840.0);
    }

    #[test]
    fn the_fma_loop_reports_a_rate_where_it_runs() {
        match fma_kernel() {
            Some(_) => {
                let rate = fma_peak_gflops(1).expect("a kernel was picked");
                assert!(rate.is_finite() && rate > 0.0, "rate {rate}");
            }
            None => assert!(fma_peak_gflops(1).is_none()),
        }
    }
}
