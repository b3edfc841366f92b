//! Drawing values from the lab's distributions with the World's generator.
//!
//! Logarithms and exponentials come from `libm`, a pure-Rust port of musl's
//! maths, not from the platform's maths library, so every machine draws
//! exactly the same values from the same seed and a report is byte for byte
//! the same everywhere.

use super::net::unit;
use crate::model::SimDuration;
use crate::spec::{Dist, Dur};
use rand::Rng;

/// A value a distribution can be drawn over, as a float and back.
pub trait Scalar: Copy {
    /// The value as a float (nanoseconds for durations).
    fn to_f64(self) -> f64;
    /// The nearest value to a float, never negative.
    fn from_f64(x: f64) -> Self;
}

impl Scalar for u64 {
    fn to_f64(self) -> f64 {
        self as f64
    }
    fn from_f64(x: f64) -> u64 {
        // `as` saturates (+inf becomes u64::MAX) and maps NaN to 0.
        if x > 0.0 { x.round() as u64 } else { 0 }
    }
}

impl Scalar for Dur {
    fn to_f64(self) -> f64 {
        self.get().as_nanos() as f64
    }
    fn from_f64(x: f64) -> Dur {
        Dur(SimDuration::from_nanos(u64::from_f64(x)))
    }
}

/// Draws one value. A constant draws no random number, so constant
/// workloads leave the random stream to the things that need it.
pub fn sample<T: Scalar, R: Rng + ?Sized>(dist: &Dist<T>, rng: &mut R) -> T {
    match *dist {
        Dist::Constant(v) => v,
        Dist::Uniform(a, b) => {
            let (lo, hi) = (a.to_f64(), b.to_f64());
            T::from_f64(lo + (hi - lo) * unit(rng))
        }
        Dist::Exponential(mean) => T::from_f64(mean.to_f64() * standard_exponential(rng)),
        Dist::LogNormal { median, sigma } => {
            let z = standard_normal(rng);
            T::from_f64(median.to_f64() * libm::exp(sigma * z))
        }
    }
}

/// A draw from the exponential distribution of mean 1: `-ln(1 - U)`; the
/// gap to the next arrival of a Poisson process of rate 1.
#[inline]
pub fn standard_exponential<R: Rng + ?Sized>(rng: &mut R) -> f64 {
    -libm::log(1.0 - unit(rng))
}

/// A draw from the standard normal distribution, by Marsaglia's polar
/// method (one logarithm and one square root, both exact across
/// platforms; about 1.27 pairs of uniforms per draw).
pub fn standard_normal<R: Rng + ?Sized>(rng: &mut R) -> f64 {
    loop {
        let u = 2.0 * unit(rng) - 1.0;
        let v = 2.0 * unit(rng) - 1.0;
        let s = u * u + v * v;
        if s > 0.0 && s < 1.0 {
            return u * libm::sqrt(-2.0 * libm::log(s) / s);
        }
    }
}

/// Draws a duration.
pub fn sample_duration<R: Rng + ?Sized>(dist: &Dist<Dur>, rng: &mut R) -> SimDuration {
    sample(dist, rng).get()
}

/// The distribution's mean, for reports and theory checks.
pub fn mean<T: Scalar>(dist: &Dist<T>) -> f64 {
    match *dist {
        Dist::Constant(v) => v.to_f64(),
        Dist::Uniform(a, b) => (a.to_f64() + b.to_f64()) / 2.0,
        Dist::Exponential(m) => m.to_f64(),
        Dist::LogNormal { median, sigma } => median.to_f64() * libm::exp(sigma * sigma / 2.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_pcg::Pcg64Mcg;

    fn sample_mean<T: Scalar>(dist: &Dist<T>, seed: u64) -> f64 {
        let mut rng = Pcg64Mcg::seed_from_u64(seed);
        let n = 200_000;
        (0..n).map(|_| sample(dist, &mut rng).to_f64()).sum::<f64>() / n as f64
    }

    #[test]
    fn sample_means_match_theory() {
        let cases: [Dist<u64>; 4] = [
            Dist::Constant(1024),
            Dist::Uniform(100, 300),
            Dist::Exponential(1000),
            Dist::LogNormal {
                median: 1000,
                sigma: 0.5,
            },
        ];
        for (i, d) in cases.iter().enumerate() {
            let got = sample_mean(d, i as u64 + 1);
            let want = mean(d);
            assert!(
                (got - want).abs() / want < 0.01,
                "case {i}: {got} vs {want}"
            );
        }
    }

    #[test]
    fn huge_draws_saturate_instead_of_wrapping_to_zero() {
        assert_eq!(u64::from_f64(f64::INFINITY), u64::MAX);
        assert_eq!(u64::from_f64(1e300), u64::MAX);
        assert_eq!(u64::from_f64(f64::NAN), 0);
        assert_eq!(u64::from_f64(-3.0), 0);
    }

    #[test]
    fn durations_are_never_negative() {
        let d = Dist::Uniform(Dur::ZERO, Dur::from_millis(1));
        let mut rng = Pcg64Mcg::seed_from_u64(3);
        for _ in 0..1000 {
            assert!(sample_duration(&d, &mut rng) < SimDuration::from_millis(1));
        }
    }
}
