// Descriptive statistics of repeated runs, as the paper reports them: mean,
// sample standard deviation, the 95% confidence interval of the mean from
// Student's t with n−1 degrees of freedom (its half-width), the coefficient
// of variation, and min, median, max. Arithmetic from simple-statistics, the
// t quantile from @stdlib, nothing from a hand table.
import tQuantile from '@stdlib/stats-base-dists-t-quantile';
import { max, mean, median, min, sampleStandardDeviation } from 'simple-statistics';

export interface Summary {
  n: number;
  mean: number;
  /** Sample standard deviation (n − 1); null with fewer than two values. */
  sd: number | null;
  /** Half-width of the 95% confidence interval of the mean; null with fewer than two values. */
  ci95: number | null;
  /** sd / mean; null without sd or with a zero mean. */
  cv: number | null;
  min: number;
  median: number;
  max: number;
}

/** The two-sided 95% quantile of Student's t with `df` degrees of freedom. */
export function t975(df: number): number {
  return tQuantile(0.975, df);
}

/** Undefined for no values; NaN and infinities are refused (a bad record, not a number to average). */
export function summarize(values: readonly number[]): Summary | undefined {
  if (values.length === 0) return undefined;
  const bad = values.find((v) => !Number.isFinite(v));
  if (bad !== undefined) throw new RangeError(`cannot summarize ${bad}`);
  const xs = [...values];
  const n = xs.length;
  const m = mean(xs);
  const sd = n >= 2 ? sampleStandardDeviation(xs) : null;
  return {
    n,
    mean: m,
    sd,
    ci95: sd === null ? null : (t975(n - 1) * sd) / Math.sqrt(n),
    cv: sd === null || m === 0 ? null : sd / m,
    min: min(xs),
    median: median(xs),
    max: max(xs),
  };
}
