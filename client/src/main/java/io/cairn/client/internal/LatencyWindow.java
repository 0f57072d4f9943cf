package io.cairn.client.internal;

import java.util.Arrays;

/**
 * The last {@code capacity} latencies of successful attempts of one kind of call, and their 99th
 * percentile. Bounded: a ring of longs, overwritten oldest first. The percentile is recomputed
 * (copy and sort of the ring) at most once per {@link #RECOMPUTE_EVERY} new samples, so reading it
 * on every attempt costs a volatile read.
 */
public final class LatencyWindow {
  /** New samples between two recomputations of the percentile. */
  static final int RECOMPUTE_EVERY = 32;

  private final long[] nanos;
  private final int minSamples;
  private int next;
  private int size;
  private int sinceCompute;
  // -1: fewer than minSamples so far.
  private volatile long p99Nanos = -1;

  /**
   * A window of the last {@code capacity} samples that names a percentile once it holds {@code
   * minSamples}.
   */
  public LatencyWindow(int capacity, int minSamples) {
    if (capacity < 1 || minSamples < 1 || minSamples > capacity) {
      throw new IllegalArgumentException("1 <= minSamples <= capacity");
    }
    this.nanos = new long[capacity];
    this.minSamples = minSamples;
  }

  /** Adds one observed latency. */
  public synchronized void record(long latencyNanos) {
    assert latencyNanos >= 0 : latencyNanos;
    nanos[next] = latencyNanos;
    next = (next + 1) % nanos.length;
    size = Math.min(size + 1, nanos.length);
    sinceCompute++;
    if (size >= minSamples && (p99Nanos < 0 || sinceCompute >= RECOMPUTE_EVERY)) {
      long[] sorted = Arrays.copyOf(nanos, size);
      Arrays.sort(sorted);
      // Nearest rank: the smallest sample with at least 99% of samples at or below it.
      int rank = (int) Math.ceil(0.99 * size);
      p99Nanos = sorted[Math.max(0, rank - 1)];
      sinceCompute = 0;
    }
  }

  /** The 99th percentile of the window in nanoseconds, or -1 while it holds too few samples. */
  public long p99Nanos() {
    return p99Nanos;
  }
}
