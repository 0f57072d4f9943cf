package io.cairn.client.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.concurrent.TimeUnit;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.DoubleRange;
import net.jqwik.api.constraints.LongRange;
import net.jqwik.api.constraints.Size;
import org.junit.jupiter.api.Test;

/** Attempt deadlines follow the observed p99 of successful attempts, within their bounds. */
class AttemptTimeoutsTest {
  static long ms(long millis) {
    return TimeUnit.MILLISECONDS.toNanos(millis);
  }

  static void record(AttemptTimeouts t, Caller.Kind kind, int n, long millis) {
    for (int i = 0; i < n; i++) {
      t.recordSuccess(kind, ms(millis));
    }
  }

  @Test
  void theTimeoutIsTheMaximumUntilEnoughAttemptsSucceeded() {
    AttemptTimeouts t = new AttemptTimeouts(3, 10, 3000);
    record(t, Caller.Kind.WRITE, AttemptTimeouts.MIN_SAMPLES - 1, 5);
    assertEquals(3000, t.attemptMillis(Caller.Kind.WRITE, 0));
    assertEquals(-1, t.p99Nanos(Caller.Kind.WRITE));
    record(t, Caller.Kind.WRITE, 1, 5);
    assertEquals(15, t.attemptMillis(Caller.Kind.WRITE, 0));
  }

  @Test
  void theTimeoutIsTheP99TimesTheMultiplier() {
    AttemptTimeouts t = new AttemptTimeouts(3, 10, 3000);
    // 990 fast attempts and 10 slow ones: the 99th percentile is the fast latency...
    record(t, Caller.Kind.READ, 990, 20);
    record(t, Caller.Kind.READ, 10, 400);
    assertEquals(60, t.attemptMillis(Caller.Kind.READ, 0));
    // ... and 20 more slow ones (30 of 1,020, over 1%) make it the slow one.
    record(t, Caller.Kind.READ, 20 + LatencyWindow.RECOMPUTE_EVERY, 400);
    assertEquals(1200, t.attemptMillis(Caller.Kind.READ, 0));
  }

  @Test
  void theTimeoutStaysWithinItsBounds() {
    AttemptTimeouts t = new AttemptTimeouts(3, 250, 1000);
    record(t, Caller.Kind.WRITE, 200, 1);
    assertEquals(250, t.attemptMillis(Caller.Kind.WRITE, 0), "below min");
    record(t, Caller.Kind.WRITE, AttemptTimeouts.WINDOW, 5000);
    assertEquals(1000, t.attemptMillis(Caller.Kind.WRITE, 0), "above max");
  }

  @Test
  void theWindowForgetsOldLatencies() {
    AttemptTimeouts t = new AttemptTimeouts(2, 1, 10_000);
    record(t, Caller.Kind.WRITE, AttemptTimeouts.WINDOW, 900);
    assertEquals(1800, t.attemptMillis(Caller.Kind.WRITE, 0));
    // The percentile is recomputed every RECOMPUTE_EVERY samples, so it may lag by that many.
    record(t, Caller.Kind.WRITE, AttemptTimeouts.WINDOW + LatencyWindow.RECOMPUTE_EVERY, 30);
    assertEquals(60, t.attemptMillis(Caller.Kind.WRITE, 0));
  }

  @Test
  void writesAndReadsAreMeasuredApart() {
    AttemptTimeouts t = new AttemptTimeouts(3, 1, 3000);
    record(t, Caller.Kind.WRITE, 200, 100);
    record(t, Caller.Kind.READ, 200, 2);
    assertEquals(300, t.attemptMillis(Caller.Kind.WRITE, 0));
    assertEquals(6, t.attemptMillis(Caller.Kind.READ, 0));
  }

  @Test
  void everyTimedOutAttemptOfACallDoublesTheNextDeadlineUpToTheMaximum() {
    AttemptTimeouts t = new AttemptTimeouts(3, 100, 1000);
    record(t, Caller.Kind.WRITE, 200, 10);
    assertEquals(
        List.of(100L, 200L, 400L, 800L, 1000L, 1000L),
        List.of(
            t.attemptMillis(Caller.Kind.WRITE, 0),
            t.attemptMillis(Caller.Kind.WRITE, 1),
            t.attemptMillis(Caller.Kind.WRITE, 2),
            t.attemptMillis(Caller.Kind.WRITE, 3),
            t.attemptMillis(Caller.Kind.WRITE, 4),
            t.attemptMillis(Caller.Kind.WRITE, 60)));
  }

  @Property(tries = 300)
  void anyLatenciesGiveADeadlineBetweenMinAndMax(
      @ForAll @Size(min = 0, max = 1500) List<@LongRange(min = 0, max = 60_000) Long> millis,
      @ForAll @DoubleRange(min = 1, max = 20) double multiplier,
      @ForAll @LongRange(min = 1, max = 5000) long min,
      @ForAll @LongRange(min = 1, max = 5000) long max,
      @ForAll @LongRange(min = 0, max = 100) long timedOut) {
    AttemptTimeouts t = new AttemptTimeouts(multiplier, min, max);
    for (long m : millis) {
      t.recordSuccess(Caller.Kind.READ, ms(m));
    }
    long d = t.attemptMillis(Caller.Kind.READ, (int) timedOut);
    assertTrue(d >= Math.min(min, max) && d <= max, d + " not in [" + min + ", " + max + "]");
    if (millis.size() < AttemptTimeouts.MIN_SAMPLES) {
      assertEquals(max, d, "too few samples: the maximum");
    }
  }
}
