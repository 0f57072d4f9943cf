package io.cairn.client.internal;

import io.cairn.client.EndpointState;
import io.cairn.proto.ErrorDetail;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.circuitbreaker.CircuitBreakerConfig;
import io.grpc.Status;
import java.time.Clock;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;
import java.util.function.Consumer;

/**
 * One resilience4j circuit breaker per endpoint, fed only with transport outcomes: whether the node
 * could be reached and answered in time. A node that answers with any refusal (NOT_LEADER,
 * OVERLOADED, INVALID_ARGUMENT, a ledger result code) is reachable, and counts as a success.
 *
 * <p>Breakers move from open to half-open on the first call after their open wait (no timer thread
 * of resilience4j's is used), and let one probe through.
 */
public final class EndpointHealth {
  /**
   * Breaker thresholds: a count-based window of {@code windowCalls} attempts, judged once it holds
   * {@code minimumCalls}; it opens at {@code failureRatePercent} transport failures, or at {@code
   * slowCallRatePercent} slow successes (slower than {@code slowCallFraction} of the attempt
   * timeout they ran under), and stays open {@code openWaitMillis}.
   */
  public record Settings(
      int windowCalls,
      int minimumCalls,
      float failureRatePercent,
      long openWaitMillis,
      double slowCallFraction,
      float slowCallRatePercent) {}

  /** Where to send an attempt, and whether its breaker granted a permission for it. */
  public record Choice(String endpoint, boolean permitted) {}

  /** What became of one attempt, as the breaker sees it. */
  public enum Outcome {
    /** The node answered (a reply or a refusal): it is reachable. */
    ANSWERED,
    /** Unreachable, reset, or no answer within the attempt's deadline. */
    TRANSPORT_FAILURE,
    /** Cancelled by the client (a hedge that lost): says nothing of the node. */
    ABANDONED
  }

  // resilience4j's slow-call threshold is a fixed duration, ours moves with the adaptive attempt
  // timeout: durations are reported to it in units of (slowCallFraction x that timeout), so a
  // call is slow exactly when it took longer than the fraction of its own timeout.
  private static final Duration SLOW_UNIT = Duration.ofSeconds(1);

  private final CircuitBreakerConfig config;
  private final double slowCallFraction;
  private final Map<String, CircuitBreaker> breakers = new ConcurrentHashMap<>();
  private final Map<String, Long> openedAtNanos = new ConcurrentHashMap<>();
  private final BiConsumer<String, EndpointState> listener;
  private final Consumer<String> onHalfOpen;

  /**
   * Breakers with {@code settings}; {@code listener} hears every state change and {@code
   * onHalfOpen} every move to half-open (both on the thread that caused it; keep them short).
   */
  public EndpointHealth(
      Settings settings, BiConsumer<String, EndpointState> listener, Consumer<String> onHalfOpen) {
    this(settings, listener, onHalfOpen, Clock.systemUTC());
  }

  /** As the public constructor, with the clock that times the open wait (for tests). */
  EndpointHealth(
      Settings settings,
      BiConsumer<String, EndpointState> listener,
      Consumer<String> onHalfOpen,
      Clock clock) {
    this.slowCallFraction = settings.slowCallFraction();
    this.listener = listener;
    this.onHalfOpen = onHalfOpen;
    this.config =
        CircuitBreakerConfig.custom()
            .slidingWindowType(CircuitBreakerConfig.SlidingWindowType.COUNT_BASED)
            .slidingWindowSize(settings.windowCalls())
            .minimumNumberOfCalls(settings.minimumCalls())
            .failureRateThreshold(settings.failureRatePercent())
            .slowCallRateThreshold(settings.slowCallRatePercent())
            .slowCallDurationThreshold(SLOW_UNIT)
            .waitDurationInOpenState(Duration.ofMillis(settings.openWaitMillis()))
            .permittedNumberOfCallsInHalfOpenState(1)
            .automaticTransitionFromOpenToHalfOpenEnabled(false)
            .clock(clock)
            .build();
  }

  /**
   * Whether a failed attempt counts against its endpoint: a transport failure (no answer from the
   * node, or none in time), not a refusal the node sent. UNAVAILABLE with a NOT_LEADER, NO_LEADER
   * or NOT_READY detail is a node answering; RESOURCE_EXHAUSTED, INVALID_ARGUMENT,
   * PERMISSION_DENIED and the rest are answers too.
   */
  public static boolean isTransportFailure(Status.Code code, ErrorDetail detail) {
    if (code == Status.Code.DEADLINE_EXCEEDED) {
      return detail == null;
    }
    if (code != Status.Code.UNAVAILABLE) {
      return false;
    }
    if (detail == null) {
      return true;
    }
    ErrorDetail.Kind k = detail.getKind();
    return k != ErrorDetail.Kind.NOT_LEADER
        && k != ErrorDetail.Kind.NO_LEADER
        && k != ErrorDetail.Kind.NOT_READY;
  }

  /**
   * The first of {@code candidates} (in order of preference) whose breaker lets a call through,
   * with its permission taken. When none does: with {@code mustAdmit}, null; else the candidate
   * whose breaker opened earliest, without a permission, so a call never stalls for want of an
   * endpoint.
   */
  public Choice choose(List<String> candidates, boolean mustAdmit) {
    for (String c : candidates) {
      if (breaker(c).tryAcquirePermission()) {
        return new Choice(c, true);
      }
    }
    if (mustAdmit || candidates.isEmpty()) {
      return null;
    }
    String earliest = null;
    Long earliestAt = null; // null: never opened (taken first)
    for (String c : candidates) {
      Long at = openedAtNanos.get(c);
      if (earliest == null || (earliestAt != null && (at == null || at - earliestAt < 0))) {
        earliest = c;
        earliestAt = at;
      }
    }
    return new Choice(earliest, false);
  }

  /**
   * Feeds one attempt's {@code outcome} to {@code choice}'s breaker: its latency, and the attempt
   * timeout it ran under (for the slow-call rule). Call exactly once per chosen attempt.
   */
  public void record(Choice choice, Outcome outcome, long latencyNanos, long timeoutNanos) {
    CircuitBreaker b = breaker(choice.endpoint());
    switch (outcome) {
      case ANSWERED -> {
        double unit = Math.max(1, slowCallFraction * timeoutNanos);
        long reported = (long) (latencyNanos / unit * SLOW_UNIT.toNanos());
        b.onSuccess(reported, TimeUnit.NANOSECONDS);
      }
      case TRANSPORT_FAILURE -> b.onError(latencyNanos, TimeUnit.NANOSECONDS, TRANSPORT);
      case ABANDONED -> {
        if (choice.permitted()) {
          b.releasePermission();
        }
      }
    }
  }

  /** Whether {@code endpoint}'s breaker is open now (not closed, not half-open). */
  public boolean isOpen(String endpoint) {
    return state(endpoint) == EndpointState.OPEN;
  }

  /** The state of {@code endpoint}'s breaker; CLOSED for one never used. */
  public EndpointState state(String endpoint) {
    CircuitBreaker b = breakers.get(endpoint);
    return b == null ? EndpointState.CLOSED : map(b.getState());
  }

  /** The states of {@code endpoints}, in their order. */
  public Map<String, EndpointState> states(List<String> endpoints) {
    Map<String, EndpointState> out = new LinkedHashMap<>();
    for (String e : endpoints) {
      out.put(e, state(e));
    }
    return out;
  }

  private CircuitBreaker breaker(String endpoint) {
    return breakers.computeIfAbsent(endpoint, this::newBreaker);
  }

  private CircuitBreaker newBreaker(String endpoint) {
    CircuitBreaker b = CircuitBreaker.of(endpoint, config);
    b.getEventPublisher()
        .onStateTransition(
            e -> {
              EndpointState to = map(e.getStateTransition().getToState());
              if (to == EndpointState.OPEN) {
                openedAtNanos.put(endpoint, System.nanoTime());
              } else if (to == EndpointState.HALF_OPEN) {
                onHalfOpen.accept(endpoint);
              }
              try {
                listener.accept(endpoint, to);
              } catch (RuntimeException ignored) {
                // An application's listener must not break the call that changed the state.
              }
            });
    return b;
  }

  private static EndpointState map(CircuitBreaker.State s) {
    return switch (s) {
      case OPEN, FORCED_OPEN -> EndpointState.OPEN;
      case HALF_OPEN -> EndpointState.HALF_OPEN;
      default -> EndpointState.CLOSED;
    };
  }

  // Stands for a transport failure in the breaker's books; no stack trace, nothing to read.
  private static final RuntimeException TRANSPORT =
      new RuntimeException("transport failure", null, false, false) {};
}
