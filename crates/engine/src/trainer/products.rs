//! The matrix products of a step: one call each into faer's x86-64 kernels
//! or the `gemm` crate, with transposes read through strides. All of the
//! engine's `unsafe` calls into those libraries are here.

use super::Input;

// ANCHOR: multiply
/// `dst = op(lhs) · op(rhs)`, with `dst` a column-major matrix of the given
/// shape and op a transpose when its flag is set (read through swapped
/// strides, not copied): one call into a matrix-product library.
pub(super) fn multiply(
    dst: &mut [f32],
    (m, n): (usize, usize),
    lhs: Input<'_>,
    lhs_transposed: bool,
    rhs: Input<'_>,
    rhs_transposed: bool,
) {
    // (rows, columns, row stride, column stride) of op(M).
    let operand = |matrix: &Input<'_>, transposed: bool| {
        let (rs, cs) = matrix.strides();
        let (rs, cs) = (rs as isize, cs as isize);
        if transposed {
            (matrix.ncols(), matrix.nrows(), cs, rs)
        } else {
            (matrix.nrows(), matrix.ncols(), rs, cs)
        }
    };
    let (lhs_rows, k, lhs_rs, lhs_cs) = operand(&lhs, lhs_transposed);
    let (rhs_rows, rhs_columns, rhs_rs, rhs_cs) = operand(&rhs, rhs_transposed);
    assert_eq!(
        (lhs_rows, k, rhs_columns, dst.len()),
        (m, rhs_rows, n, m * n),
        "shapes of a product"
    );
    if k == 0 {
        // An empty sum (faer's kernels would leave `dst` as it was).
        dst.fill(0.0);
        return;
    }
    #[cfg(target_arch = "x86_64")]
    if let Some(instructions) = x86_kernels().filter(|_| m <= FAER_MAX_ROWS) {
        // SAFETY: as for `gemm::gemm` below; `alpha` is an f32 that
        // outlives the call, and `Accum::Replace` never reads `dst`.
        unsafe {
            x86_product(
                instructions,
                dst,
                (m, n, k),
                (lhs.as_ptr(), lhs_rs, lhs_cs),
                (rhs.as_ptr(), rhs_rs, rhs_cs),
            )
        };
        return;
    }
    // SAFETY: the shapes and strides above describe the two operands
    // exactly and `dst` holds m × n values in column order; `dst` is a
    // unique borrow, so it overlaps neither operand, and `read_dst = false`
    // means its old contents are never read.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst.as_mut_ptr(),
            m as isize,
            1,
            false,
            lhs.as_ptr(),
            lhs_cs,
            lhs_rs,
            rhs.as_ptr(),
            rhs_cs,
            rhs_rs,
            0.0,
            1.0,
            false,
            false,
            false,
            // The callers split the work between the cores themselves.
            gemm::Parallelism::None,
        );
    }
}

/// Products with more output rows than this (inference over a whole data
/// set) go to the `gemm` crate even where faer's kernels run: there faer's
/// were the slower of the two, and packed far more; up to a batch of 1,024
/// they were as fast or faster on every product of a step.
#[cfg(target_arch = "x86_64")]
const FAER_MAX_ROWS: usize = 1024;

/// Whether the fast path's products (of up to `FAER_MAX_ROWS` output rows)
/// run on faer's x86-64 kernels on this processor, rather than on the
/// `gemm` crate: they do not allocate per product.
pub fn faer_kernels() -> bool {
    #[cfg(target_arch = "x86_64")]
    return x86_kernels().is_some();
    #[cfg(not(target_arch = "x86_64"))]
    false
}

/// Every kind [`processor_kind`] names on x86-64.
pub const PROCESSOR_KINDS: [&str; 3] = [
    "x86-64 with AVX-512",
    "x86-64 with AVX2 and FMA",
    "x86-64 without AVX2 and FMA",
];

/// The kind of processor the fast path's kernels were picked for: runs on
/// two kinds add their products in different orders, so their results
/// differ in the last bits and their trainings drift apart.
pub fn processor_kind() -> &'static str {
    #[cfg(target_arch = "x86_64")]
    return match x86_kernels() {
        Some(private_gemm_x86::InstrSet::Avx512) => PROCESSOR_KINDS[0],
        Some(private_gemm_x86::InstrSet::Avx256) => PROCESSOR_KINDS[1],
        None => PROCESSOR_KINDS[2],
    };
    #[cfg(not(target_arch = "x86_64"))]
    std::env::consts::ARCH
}

/// The instruction set of faer's x86-64 kernels (`private-gemm-x86`) on
/// this processor, as faer picks it: None without AVX2 and FMA. They run
/// the products of this network a little faster than the `gemm` crate's,
/// and keep their packing space per thread instead of allocating it per
/// product.
#[cfg(target_arch = "x86_64")]
fn x86_kernels() -> Option<private_gemm_x86::InstrSet> {
    use private_gemm_x86::InstrSet;
    if std::arch::is_x86_feature_detected!("avx512f") {
        Some(InstrSet::Avx512)
    } else if std::arch::is_x86_feature_detected!("avx2")
        && std::arch::is_x86_feature_detected!("fma")
    {
        Some(InstrSet::Avx256)
    } else {
        None
    }
}

/// `multiply`'s product on faer's x86-64 kernels: `dst` column-major
/// (m, n), the operands as (pointer, row stride, column stride).
///
/// Safety: the processor has `instructions`, and the operands hold the
/// (m, k) and (k, n) values their strides describe.
#[cfg(target_arch = "x86_64")]
unsafe fn x86_product(
    instructions: private_gemm_x86::InstrSet,
    dst: &mut [f32],
    (m, n, k): (usize, usize, usize),
    (lhs, lhs_rs, lhs_cs): (*const f32, isize, isize),
    (rhs, rhs_rs, rhs_cs): (*const f32, isize, isize),
) {
    use private_gemm_x86::{Accum, DType, DstKind, IType};
    let alpha = 1.0f32;
    let none = std::ptr::null();
    // SAFETY: the caller's conditions, and `dst` is a unique borrow of
    // m × n values with row stride 1 and column stride m.
    unsafe {
        private_gemm_x86::gemm(
            DType::F32,
            IType::U64,
            instructions,
            m,
            n,
            k,
            dst.as_mut_ptr().cast(),
            1,
            m as isize,
            none,
            none,
            DstKind::Full,
            Accum::Replace,
            lhs.cast(),
            lhs_rs,
            lhs_cs,
            false,
            none,
            0,
            rhs.cast(),
            rhs_rs,
            rhs_cs,
            false,
            (&raw const alpha).cast(),
            // The callers split the work between the cores themselves.
            1,
        );
    }
}
// ANCHOR_END: multiply

#[cfg(test)]
mod tests {
    use nalgebra::DMatrix;

    use super::super::input;
    use super::*;
    use rand::{RngExt, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    /// Every product, whichever library runs it (faer's kernels up to
    /// `FAER_MAX_ROWS` output rows on x86-64, the `gemm` crate above and
    /// elsewhere), and with either operand read transposed, against the
    /// sum computed in f64: to within the rounding of the sum of |terms|.
    #[test]
    fn products_match_the_sums_in_f64_on_both_libraries() {
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        for (m, n, k) in [
            (7, 5, 3),
            (128, 37, 100),
            (1024, 9, 33),
            (1025, 9, 33),
            (1500, 17, 0),
        ] {
            for (lhs_transposed, rhs_transposed) in
                [(false, false), (true, false), (false, true), (true, true)]
            {
                let stored = |rows: usize, columns: usize, transposed: bool| match transposed {
                    true => (columns, rows),
                    false => (rows, columns),
                };
                let (lr, lc) = stored(m, k, lhs_transposed);
                let (rr, rc) = stored(k, n, rhs_transposed);
                let lhs = DMatrix::from_fn(lr, lc, |_, _| rng.random_range(-1.0f32..1.0));
                let rhs = DMatrix::from_fn(rr, rc, |_, _| rng.random_range(-1.0f32..1.0));
                let mut dst = vec![f32::NAN; m * n];
                multiply(
                    &mut dst,
                    (m, n),
                    input(&lhs),
                    lhs_transposed,
                    input(&rhs),
                    rhs_transposed,
                );
                let op = |matrix: &DMatrix<f32>, transposed: bool, i: usize, j: usize| {
                    f64::from(if transposed {
                        matrix[(j, i)]
                    } else {
                        matrix[(i, j)]
                    })
                };
                for j in 0..n {
                    for i in 0..m {
                        let terms = (0..k).map(|l| {
                            op(&lhs, lhs_transposed, i, l) * op(&rhs, rhs_transposed, l, j)
                        });
                        let (sum, size) = terms.fold((0.0, 0.0), |(s, a), t| (s + t, a + t.abs()));
                        let found = f64::from(dst[i + j * m]);
                        assert!(
                            (found - sum).abs() <= 4.0 * k as f64 * f64::from(f32::EPSILON) * size,
                            "({m} x {k}) · ({k} x {n}), transposed ({lhs_transposed}, {rhs_transposed}): \
                             entry ({i}, {j}) is {found}, the sum in f64 {sum}"
                        );
                    }
                }
            }
        }
    }
}
