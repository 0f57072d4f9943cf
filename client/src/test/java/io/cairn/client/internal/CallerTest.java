package io.cairn.client.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cairn.client.EndpointState;
import io.grpc.Context;
import io.grpc.stub.StreamObserver;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The retry engine's hedging and adaptive deadlines, with an RPC that never touches the network: it
 * answers at once from endpoints that are not held, and keeps the attempts sent to held ones for
 * the test to answer.
 */
class CallerTest {
  static final String A = "a.invalid:1";
  static final String B = "b.invalid:1";
  static final String C = "c.invalid:1";

  /** An attempt the fake RPC holds: where it went, its deadline, its observer, its context. */
  record Held(String endpoint, long deadlineMillis, StreamObserver<String> out, Context context) {}

  final Set<String> holding = ConcurrentHashMap.newKeySet();
  final List<Held> held = new CopyOnWriteArrayList<>();
  final List<String> sentTo = new CopyOnWriteArrayList<>();
  final ScheduledThreadPoolExecutor timer = new ScheduledThreadPoolExecutor(1);
  final ExecutorService callbacks = Executors.newFixedThreadPool(2);
  Caller caller;

  final Caller.Rpc<String, String> rpc =
      (stub, request, out) -> {
        String endpoint = stub.getChannel().authority();
        sentTo.add(endpoint);
        if (holding.contains(endpoint)) {
          long deadline = stub.getCallOptions().getDeadline().timeRemaining(TimeUnit.MILLISECONDS);
          held.add(new Held(endpoint, deadline, out, Context.current()));
          return;
        }
        out.onNext(endpoint);
        out.onCompleted();
      };

  Caller caller(boolean hedge) {
    return caller(hedge, 10);
  }

  Caller caller(boolean hedge, int maxAttempts) {
    timer.setRemoveOnCancelPolicy(true);
    caller =
        new Caller(
            List.of(A, B, C),
            new Caller.Policy(
                3000,
                20_000,
                maxAttempts,
                1,
                5,
                250,
                3.0,
                hedge,
                20,
                0,
                1000,
                new EndpointHealth.Settings(20, 10, 50, 1000, 0.8, 100)),
            timer,
            callbacks,
            e -> e,
            64,
            null,
            (e, s) -> {});
    return caller;
  }

  @AfterEach
  void close() throws Exception {
    if (caller != null) {
      caller.close();
    }
    timer.shutdownNow();
    callbacks.shutdownNow();
  }

  String call(Caller.Kind kind) throws Exception {
    return caller.call(kind, null, "q", rpc, List.of("id")).get(5, TimeUnit.SECONDS);
  }

  /** Enough fast successes of {@code kind} for its p99 to be known. */
  void warmUp(Caller.Kind kind) throws Exception {
    for (int i = 0; i < AttemptTimeouts.MIN_SAMPLES; i++) {
      call(kind);
    }
    sentTo.clear();
  }

  /** Waits (bounded) until the fake RPC holds {@code n} attempts. */
  void awaitHeld(int n) throws InterruptedException {
    for (int i = 0; i < 500 && held.size() < n; i++) {
      Thread.sleep(10);
    }
    assertEquals(n, held.size(), "attempts held: " + held);
  }

  @Test
  void aSlowReadIsHedgedToAnotherEndpointAndTheHedgesAnswerWins() throws Exception {
    caller(true);
    warmUp(Caller.Kind.READ);
    holding.add(A);
    // The fake RPC enforces no deadline: only a hedge can answer this read.
    assertEquals(B, call(Caller.Kind.READ));
    assertEquals(List.of(A, B), sentTo);
    assertTrue(held.get(0).context().isCancelled(), "the losing attempt is cancelled");
    assertEquals(EndpointState.CLOSED, caller.endpointStates().get(A), "a lost hedge is no fault");
  }

  @Test
  void whenTheFirstAttemptAnswersFirstTheHedgeIsCancelled() throws Exception {
    caller(true);
    warmUp(Caller.Kind.READ);
    holding.add(A);
    holding.add(B);
    CompletableFuture<String> f = caller.call(Caller.Kind.READ, null, "q", rpc, List.of());
    awaitHeld(2);
    assertEquals(B, held.get(1).endpoint(), "the hedge goes to a different endpoint");
    held.get(0).out().onNext("first");
    held.get(0).out().onCompleted();
    assertEquals("first", f.get(5, TimeUnit.SECONDS));
    assertTrue(held.get(1).context().isCancelled());
    assertFalse(held.get(0).context().isCancelled());
  }

  @Test
  void writesAreNeverHedged() throws Exception {
    caller(true);
    warmUp(Caller.Kind.READ);
    warmUp(Caller.Kind.WRITE);
    holding.add(A);
    CompletableFuture<String> f = caller.call(Caller.Kind.WRITE, null, "q", rpc, List.of("id"));
    awaitHeld(1);
    // A read here would have its hedge waiting on the timer; a write has nothing there.
    assertTrue(timer.getQueue().isEmpty(), "scheduled for the write: " + timer.getQueue());
    assertFalse(f.isDone());
    held.get(0).out().onNext("done");
    held.get(0).out().onCompleted();
    assertEquals("done", f.get(5, TimeUnit.SECONDS));
    assertEquals(List.of(A), sentTo);
  }

  @Test
  void aReadIsHedgedOnlyOnceItsP99IsKnownAndOnlyWhenHedgingIsOn() throws Exception {
    caller(true);
    holding.add(A);
    CompletableFuture<String> before = caller.call(Caller.Kind.READ, null, "q", rpc, List.of());
    awaitHeld(1);
    assertTrue(timer.getQueue().isEmpty(), "no p99 yet, no hedge");
    held.get(0).out().onNext("x");
    held.get(0).out().onCompleted();
    before.get(5, TimeUnit.SECONDS);
    caller.close();
    held.clear();
    holding.clear();

    caller(false);
    warmUp(Caller.Kind.READ);
    holding.add(A);
    CompletableFuture<String> off = caller.call(Caller.Kind.READ, null, "q", rpc, List.of());
    awaitHeld(1);
    assertTrue(timer.getQueue().isEmpty(), "hedging is off");
    assertFalse(off.isDone());
  }

  @Test
  void theAttemptDeadlineIsTheMaximumFirstAndThenFollowsTheP99() throws Exception {
    caller(false);
    holding.add(A);
    CompletableFuture<String> first = caller.call(Caller.Kind.WRITE, null, "q", rpc, List.of());
    awaitHeld(1);
    long firstDeadline = held.get(0).deadlineMillis();
    assertTrue(firstDeadline > 2000 && firstDeadline <= 3000, "deadline " + firstDeadline);
    held.get(0).out().onNext("x");
    held.get(0).out().onCompleted();
    first.get(5, TimeUnit.SECONDS);
    holding.clear();
    warmUp(Caller.Kind.WRITE);
    // Fast successes: 3 x p99 is far below the 250 ms floor, which is what an attempt gets.
    assertEquals(250, caller.attemptTimeoutMillis(Caller.Kind.WRITE));
    assertEquals(3000, caller.attemptTimeoutMillis(Caller.Kind.READ), "reads measured apart");
    holding.add(A);
    caller.call(Caller.Kind.WRITE, null, "q", rpc, List.of());
    awaitHeld(2);
    assertTrue(held.get(1).deadlineMillis() <= 250, "deadline " + held.get(1).deadlineMillis());
  }

  @Test
  void theLastAttemptACallMayMakeGetsTheMaximumDeadline() throws Exception {
    caller(false, 1);
    warmUp(Caller.Kind.WRITE);
    assertEquals(250, caller.attemptTimeoutMillis(Caller.Kind.WRITE));
    holding.add(A);
    caller.call(Caller.Kind.WRITE, null, "q", rpc, List.of());
    awaitHeld(1);
    long deadline = held.get(0).deadlineMillis();
    assertTrue(deadline > 2000 && deadline <= 3000, "deadline " + deadline);
  }
}
