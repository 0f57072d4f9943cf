package io.cairn.client.internal;

import java.util.concurrent.TimeUnit;

/**
 * Attempt deadlines that follow observed latency: per kind of call (writes, reads) a window of the
 * last successful attempts, and a timeout of {@code clamp(p99 * multiplier, min, max)}. Until a
 * window holds enough samples the timeout is {@code max}, the fixed timeout of old.
 *
 * <p>Only successes are sampled, so a cluster that slows past the timeout could leave it too short
 * for any attempt to succeed; {@link #attemptMillis} doubles the timeout for every attempt of the
 * same call that already timed out, so a call reaches {@code max} after a few timeouts and the
 * window learns the new latency from its success.
 */
public final class AttemptTimeouts {
  /** Samples kept per kind of call. */
  static final int WINDOW = 1024;

  /** Samples needed before the percentile is trusted. */
  static final int MIN_SAMPLES = 100;

  private final LatencyWindow writes = new LatencyWindow(WINDOW, MIN_SAMPLES);
  private final LatencyWindow reads = new LatencyWindow(WINDOW, MIN_SAMPLES);
  private final double multiplier;
  private final long minMillis;
  private final long maxMillis;

  /**
   * Timeouts of {@code clamp(p99 * multiplier, minMillis, maxMillis)}; a {@code minMillis} above
   * {@code maxMillis} is taken as {@code maxMillis}.
   */
  public AttemptTimeouts(double multiplier, long minMillis, long maxMillis) {
    if (!(multiplier >= 1) || minMillis < 1 || maxMillis < 1) {
      throw new IllegalArgumentException("multiplier >= 1, min and max >= 1 ms");
    }
    this.multiplier = multiplier;
    this.maxMillis = maxMillis;
    this.minMillis = Math.min(minMillis, maxMillis);
  }

  /** Records the latency of a successful attempt of {@code kind}. */
  public void recordSuccess(Caller.Kind kind, long latencyNanos) {
    window(kind).record(latencyNanos);
  }

  /** The observed p99 of {@code kind} in nanoseconds, or -1 while too few attempts succeeded. */
  public long p99Nanos(Caller.Kind kind) {
    return window(kind).p99Nanos();
  }

  /**
   * The deadline of the next attempt of a {@code kind} call in which {@code timeoutsSoFar} attempts
   * already passed theirs: the adaptive timeout doubled that many times, at most {@code max}.
   */
  public long attemptMillis(Caller.Kind kind, int timeoutsSoFar) {
    long p99 = p99Nanos(kind);
    long base;
    if (p99 < 0) {
      base = maxMillis;
    } else {
      double millis = Math.ceil(p99 * multiplier / TimeUnit.MILLISECONDS.toNanos(1));
      base = Math.max(minMillis, Math.min(maxMillis, (long) millis));
    }
    long t = base << Math.min(20, Math.max(0, timeoutsSoFar));
    long result = Math.min(maxMillis, t);
    assert result >= Math.min(minMillis, maxMillis) && result <= maxMillis : result;
    return result;
  }

  /** The upper bound of every attempt timeout. */
  public long maxMillis() {
    return maxMillis;
  }

  private LatencyWindow window(Caller.Kind kind) {
    // A pinned read is a read: it shares the reads' latency.
    return kind == Caller.Kind.WRITE ? writes : reads;
  }
}
