package io.cairn.cli.bench;

import java.io.PrintWriter;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * What a closed-loop load records: latency per request (HdrHistogram, microseconds, up to 60 s),
 * counts of operations, requests, errors and unknown outcomes, and the first distinct error
 * messages (bounded to 20). Nothing is counted during the warm-up. Thread-safe.
 */
final class Meter {
  private static final long MAX_MICROS = TimeUnit.SECONDS.toMicros(60);
  private static final int MAX_ERROR_KINDS = 20;

  private final Recorder recorder = new Recorder(MAX_MICROS, 3);
  final AtomicLong ops = new AtomicLong();
  final AtomicLong requests = new AtomicLong();
  final AtomicLong errors = new AtomicLong();
  final AtomicLong unknown = new AtomicLong();
  private final Map<String, AtomicLong> errorKinds = new ConcurrentHashMap<>();
  private volatile boolean measuring;

  boolean measuring() {
    return measuring;
  }

  /** A request sent at {@code t0} (nanoTime) was answered: its latency counts. */
  void answered(long t0) {
    if (measuring) {
      long micros = TimeUnit.NANOSECONDS.toMicros(System.nanoTime() - t0);
      recorder.recordValue(Math.min(micros, MAX_MICROS));
      requests.incrementAndGet();
    }
  }

  /** {@code n} operations were answered. */
  void counted(int n) {
    if (measuring) {
      ops.addAndGet(n);
    }
  }

  /** A request of {@code n} operations failed: an unknown outcome or an error. */
  void failed(Exception e, int n, boolean unknownOutcome) {
    noteError(e);
    if (measuring) {
      (unknownOutcome ? unknown : errors).addAndGet(n);
    }
  }

  private void noteError(Exception e) {
    String key =
        e.getClass().getSimpleName()
            + ": "
            + String.valueOf(e.getMessage()).replaceAll("[0-9A-Za-z_-]{22}", "<id>");
    AtomicLong n = errorKinds.get(key);
    if (n == null && errorKinds.size() < MAX_ERROR_KINDS) {
      n = errorKinds.computeIfAbsent(key, k -> new AtomicLong());
    }
    if (n != null) {
      n.incrementAndGet();
    }
  }

  /**
   * Runs the clock of one load: turns measuring on at {@code phases[1]}, prints a progress line a
   * second on {@code err} ("warm-up" or "measuring", {@code noun} answered and per second, errors),
   * and returns the latencies recorded up to {@code phases[2]}.
   */
  Histogram progress(PrintWriter err, String noun, long[] phases) throws InterruptedException {
    long start = phases[0];
    long end = phases[2];
    Histogram total = new Histogram(MAX_MICROS, 3);
    long lastOps = 0;
    long lastErr = 0;
    while (System.nanoTime() < end) {
      long now = System.nanoTime();
      if (!measuring && now >= phases[1]) {
        recorder.getIntervalHistogram(); // drop warm-up samples
        measuring = true;
      }
      Thread.sleep(Math.max(1, Math.min(1000, TimeUnit.NANOSECONDS.toMillis(end - now))));
      if (measuring) {
        total.add(recorder.getIntervalHistogram());
      }
      long o = ops.get();
      long e = errors.get() + unknown.get();
      err.printf(
          "%5.1fs %s %s %d (%d/s) errors %d%n",
          (System.nanoTime() - start) / 1e9,
          measuring ? "measuring" : "warm-up  ",
          noun,
          o,
          o - lastOps,
          e - lastErr);
      err.flush();
      lastOps = o;
      lastErr = e;
    }
    return total;
  }

  /** Adds what was recorded since the last progress line (the stragglers) to {@code total}. */
  void drainInto(Histogram total) {
    total.add(recorder.getIntervalHistogram());
  }

  Map<String, Object> errorKindsJson() {
    Map<String, Object> kinds = io.cairn.cli.Json.object();
    errorKinds.forEach((k, v) -> kinds.put(k, v.get()));
    return kinds;
  }

  /** "\nerrors seen:" and one line per kind, or "" when there were none. */
  String errorKindsText() {
    StringBuilder errs = new StringBuilder();
    errorKinds.forEach((k, v) -> errs.append("\n  ").append(v.get()).append(" x ").append(k));
    return errs.length() > 0 ? "\nerrors seen:" + errs : "";
  }

  /** A closed loop's latency percentiles, in ms, under the names every bench's JSON uses. */
  static void putLatencies(Map<String, Object> j, Histogram h) {
    j.put("p50_ms", h.getValueAtPercentile(50) / 1000.0);
    j.put("p90_ms", h.getValueAtPercentile(90) / 1000.0);
    j.put("p99_ms", h.getValueAtPercentile(99) / 1000.0);
    j.put("p999_ms", h.getValueAtPercentile(99.9) / 1000.0);
    j.put("max_ms", h.getMaxValue() / 1000.0);
  }
}
