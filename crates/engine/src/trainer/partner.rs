//! The hand-over between the two cores inside one training step.
//!
//! A step splits each of its six or so phases in two halves, one per core,
//! a few hundred microseconds each. `rayon::join` costs several microseconds
//! per split (the book's chapter "Making it fast" has the figures): the second
//! half waits to be stolen by a thread that checks for work between
//! `sched_yield` calls, and a thread that waits long enough falls asleep
//! and must be woken. Here the other core's thread
//! spends the whole step spinning on one atomic instead: it runs the second
//! half a fraction of a microsecond after it is posted, and the poster sees
//! it finish as fast. Between steps it goes back to rayon's pool.
//!
//! Whoever claims a posted half first runs it: if the partner never shows
//! up (a pool of one thread, or a busy one), the poster runs both halves
//! itself, one after the other. A join that finds the partner taken (a
//! join inside a half, or on another thread) does the same.

use std::any::Any;
use std::cell::UnsafeCell;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::sync::atomic::{AtomicU8, Ordering};

/// No half posted: a join may take the partner.
const IDLE: u8 = 0;
/// A join took the partner and is writing `job`.
const WRITING: u8 = 1;
/// A half is in `job`, for whoever claims it first.
const POSTED: u8 = 2;
/// The partner claimed the half and is running it.
const RUNNING: u8 = 3;
/// The partner has finished the half (its panic, if any, is in `panic`).
const DONE: u8 = 4;
/// The step is over: the partner goes back to the pool.
const QUIT: u8 = 5;

/// A posted half: a closure behind a pointer and the function that calls it.
struct Job {
    closure: *mut (),
    run: unsafe fn(*mut ()),
}

/// Calls the `Option<F>` at `closure` once.
///
/// # Safety
/// `closure` must point to a live `Option<F>` that no one else is using.
unsafe fn run_once<F: FnOnce()>(closure: *mut ()) {
    // SAFETY: the caller's contract.
    if let Some(f) = unsafe { &mut *closure.cast::<Option<F>>() }.take() {
        f();
    }
}

/// The other core's thread for one step, and the one half it may be running.
pub(crate) struct Partner {
    state: AtomicU8,
    /// Written by the join that moved `state` from IDLE to WRITING, taken
    /// by whoever moves it from POSTED (to RUNNING or back to IDLE).
    job: UnsafeCell<Option<Job>>,
    /// Written by the partner only while `state` is RUNNING, read by the
    /// poster after it sees DONE.
    panic: UnsafeCell<Option<Box<dyn Any + Send>>>,
}

// SAFETY: `job` and `panic` are only touched under the protocol written on
// them, whose hand-overs are Release stores of `state` seen by Acquire
// loads; a posted closure is `Send` (see `join`).
unsafe impl Sync for Partner {}

/// Runs `work` on this thread with a partner on another of rayon's threads
/// for its [`Partner::join`]s; the partner leaves when `work` returns or
/// panics.
pub(crate) fn with_partner<R: Send>(work: impl FnOnce(&Partner) -> R + Send) -> R {
    let partner = Partner {
        state: AtomicU8::new(IDLE),
        job: UnsafeCell::new(None),
        panic: UnsafeCell::new(None),
    };
    /// Sends the partner home however `work` ends.
    struct Quit<'a>(&'a Partner);
    impl Drop for Quit<'_> {
        fn drop(&mut self) {
            self.0.state.store(QUIT, Ordering::Release);
        }
    }
    let (result, ()) = rayon::join(
        || {
            let _quit = Quit(&partner);
            work(&partner)
        },
        || partner.serve(),
    );
    result
}

impl Partner {
    /// The partner's loop: run each posted half, until the step is over.
    fn serve(&self) {
        loop {
            match self.state.load(Ordering::Acquire) {
                QUIT => return,
                POSTED => {
                    if self
                        .state
                        .compare_exchange(POSTED, RUNNING, Ordering::Acquire, Ordering::Relaxed)
                        .is_err()
                    {
                        continue;
                    }
                    // SAFETY: moving POSTED to RUNNING gave this thread the job.
                    let job = unsafe { (*self.job.get()).take() };
                    let outcome = catch_unwind(AssertUnwindSafe(|| {
                        if let Some(job) = job {
                            // SAFETY: the poster keeps the closure alive and
                            // untouched until it sees DONE.
                            unsafe { (job.run)(job.closure) }
                        }
                    }));
                    if let Err(payload) = outcome {
                        // SAFETY: RUNNING: only this thread touches `panic`.
                        unsafe { *self.panic.get() = Some(payload) };
                    }
                    self.state.store(DONE, Ordering::Release);
                }
                _ => std::hint::spin_loop(),
            }
        }
    }

    /// Runs `first` here and `second` on the partner, at once, and returns
    /// when both are done; a panic in either is raised here afterwards.
    /// When the partner is taken, runs them here one after the other.
    pub(crate) fn join<A: FnOnce(), B: FnOnce() + Send>(&self, first: A, second: B) {
        if self
            .state
            .compare_exchange(IDLE, WRITING, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            first();
            second();
            return;
        }
        let mut second = Some(second);
        // SAFETY: moving IDLE to WRITING gave this call `job`; `second`
        // outlives its use: this function does not return before the half
        // is claimed back or DONE.
        unsafe {
            *self.job.get() = Some(Job {
                closure: (&raw mut second).cast(),
                run: run_once::<B>,
            });
        }
        self.state.store(POSTED, Ordering::Release);
        let first_outcome = catch_unwind(AssertUnwindSafe(first));
        let second_outcome = if self
            .state
            .compare_exchange(POSTED, IDLE, Ordering::Acquire, Ordering::Relaxed)
            .is_ok()
        {
            // Not claimed: run it here.
            // SAFETY: moving POSTED to IDLE gave this thread the job back.
            unsafe { (*self.job.get()).take() };
            catch_unwind(AssertUnwindSafe(|| {
                if let Some(second) = second.take() {
                    second();
                }
            }))
        } else {
            while self.state.load(Ordering::Acquire) != DONE {
                std::hint::spin_loop();
            }
            // SAFETY: DONE: the partner no longer touches `panic`.
            let panic = unsafe { (*self.panic.get()).take() };
            self.state.store(IDLE, Ordering::Release);
            panic.map_or(Ok(()), Err)
        };
        if let Err(payload) = first_outcome.and(second_outcome) {
            resume_unwind(payload);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_halves_run_once_and_see_each_others_writes_after_the_join() {
        let (mut left, mut right) = (Vec::new(), Vec::new());
        let total = with_partner(|partner| {
            for i in 0..1000 {
                partner.join(|| left.push(i), || right.push(2 * i));
            }
            left.len() + right.len()
        });
        assert_eq!(total, 2000);
        assert_eq!(left, (0..1000).collect::<Vec<_>>());
        assert_eq!(right, (0..1000).map(|i| 2 * i).collect::<Vec<_>>());
    }

    #[test]
    fn joins_inside_a_half_or_on_two_threads_at_once_run_every_half_once() {
        let count = std::sync::atomic::AtomicUsize::new(0);
        let bump = || {
            count.fetch_add(1, Ordering::Relaxed);
        };
        with_partner(|partner| {
            for _ in 0..200 {
                partner.join(|| partner.join(bump, bump), bump);
                rayon::join(|| partner.join(bump, bump), || partner.join(bump, bump));
            }
        });
        assert_eq!(count.into_inner(), 200 * 7);
    }

    #[test]
    fn a_pool_of_one_thread_runs_both_halves_here() {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .unwrap();
        let here = std::thread::current().id();
        let threads = pool.install(|| {
            with_partner(|partner| {
                let (mut a, mut b) = (None, None);
                partner.join(
                    || a = Some(std::thread::current().id()),
                    || b = Some(std::thread::current().id()),
                );
                (a, b)
            })
        });
        assert_eq!(threads.0, threads.1);
        assert_ne!(threads.0, Some(here), "ran on the pool's thread");
    }

    #[test]
    fn a_panic_in_either_half_reaches_the_caller_after_both_finish() {
        for panicking_half in [0, 1] {
            let mut first_finished = false;
            let second_finished = std::sync::atomic::AtomicBool::new(false);
            let outcome = catch_unwind(AssertUnwindSafe(|| {
                with_partner(|partner| {
                    partner.join(
                        || {
                            if panicking_half == 0 {
                                panic!("first half");
                            }
                            first_finished = true;
                        },
                        || {
                            if panicking_half == 1 {
                                panic!("second half");
                            }
                            std::thread::sleep(std::time::Duration::from_millis(20));
                            second_finished.store(true, Ordering::Relaxed);
                        },
                    )
                })
            }));
            let payload = outcome.expect_err("the panic is raised");
            let message = payload.downcast_ref::<&str>().copied();
            let expected = ["first half", "second half"][panicking_half];
            assert_eq!(message, Some(expected));
            assert_eq!(first_finished, panicking_half == 1);
            assert_eq!(second_finished.into_inner(), panicking_half == 0);
        }
    }
}
