package io.cairn.cli.bench;

import io.cairn.cli.Transport;
import io.cairn.client.CairnClient;
import io.cairn.client.CairnException;
import io.cairn.client.Ops;
import io.cairn.client.OutcomeUnknownException;
import io.cairn.proto.ErrorDetail;
import io.cairn.proto.LedgerServiceGrpc;
import io.cairn.proto.OperationResult;
import io.cairn.proto.ResultCode;
import io.cairn.proto.SubmitRequest;
import io.cairn.proto.SubmitResponse;
import io.cairn.proto.errors.Errors;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * {@code bench failover}'s two loads, run side by side: closed-loop callers sharing one {@link
 * CairnClient} (the client's own routing and retries), and closed-loop callers of the plain
 * generated gRPC stub, each with a channel of its own to one node (round-robin over the nodes), no
 * Cairn logic at all: a {@link #STUB_DEADLINE_MILLIS} ms deadline per attempt and, on any error, a
 * {@link #STUB_RETRY_SLEEP_MILLIS} ms sleep and the same request again (same operation id, so it is
 * exactly-once), at most {@link #STUB_MAX_ATTEMPTS} attempts and {@link #STUB_MAX_CALL_MILLIS} ms
 * per call. Every caller sends transfers of 1 between random bench accounts until {@link #stop}.
 */
final class FailoverLoad implements AutoCloseable {
  static final long STUB_DEADLINE_MILLIS = 1000;
  static final long STUB_RETRY_SLEEP_MILLIS = 50;
  static final int STUB_MAX_ATTEMPTS = 1000;
  static final long STUB_MAX_CALL_MILLIS = 30_000;

  private final String[] accounts;
  private final FailoverRecorder java;
  private final FailoverRecorder stub;
  private final List<String> stubEndpoints;
  private final List<ManagedChannel> channels = new ArrayList<>();
  private final List<Thread> threads = new ArrayList<>();
  private volatile boolean stopped;

  /**
   * @param stubEndpoints per stub caller, the endpoint it is bound to
   */
  FailoverLoad(
      String[] accounts,
      FailoverRecorder java,
      FailoverRecorder stub,
      List<String> stubEndpoints,
      Transport transport) {
    this.accounts = accounts.clone();
    this.java = java;
    this.stub = stub;
    this.stubEndpoints = List.copyOf(stubEndpoints);
    for (String e : stubEndpoints) {
      channels.add(transport.apply(NettyChannelBuilder.forTarget(e)).build());
    }
  }

  /** Starts every caller: {@code java.streams()} on {@code client}, one per stub endpoint. */
  void start(CairnClient client) {
    for (int w = 0; w < java.streams(); w++) {
      int caller = w;
      threads.add(thread("failover-java-" + w, () -> javaCaller(client, caller)));
    }
    for (int w = 0; w < stubEndpoints.size(); w++) {
      int caller = w;
      threads.add(thread("failover-stub-" + w, () -> stubCaller(caller)));
    }
  }

  private static Thread thread(String name, Runnable r) {
    Thread t = new Thread(r, name);
    t.setDaemon(true);
    t.start();
    return t;
  }

  /**
   * Asks every caller to stop: a Java caller after its current call, a stub caller after its
   * current attempt (a call it leaves unanswered that may have been applied counts as {@code
   * unansweredAtEnd}, not as unknown); waits for them, at most {@code millis}.
   */
  boolean stop(long millis) throws InterruptedException {
    stopped = true;
    long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
    for (Thread t : threads) {
      t.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(until - System.nanoTime())));
    }
    return threads.stream().noneMatch(Thread::isAlive);
  }

  private io.cairn.proto.Operation nextTransfer(SplittableRandom rnd) {
    int a = rnd.nextInt(accounts.length);
    int b = (a + 1 + rnd.nextInt(accounts.length - 1)) % accounts.length;
    return Ops.transfer(Ops.newId(), accounts[a], accounts[b], 1);
  }

  private void javaCaller(CairnClient client, int caller) {
    SplittableRandom rnd = new SplittableRandom(caller * 0x9E3779B97F4A7C15L + System.nanoTime());
    while (!stopped) {
      long sent = System.nanoTime();
      try {
        OperationResult r = client.single(nextTransfer(rnd));
        java.acked(caller, sent, System.nanoTime());
        count(java, r);
      } catch (OutcomeUnknownException e) {
        java.unknown(System.nanoTime());
      } catch (CairnException e) {
        java.failed(System.nanoTime());
      }
    }
  }

  private static void count(FailoverRecorder r, OperationResult res) {
    if (res.getCode() != ResultCode.OK) {
      r.nonOk.incrementAndGet();
    }
    if (res.getReplayed()) {
      r.replayed.incrementAndGet();
    }
  }

  private void stubCaller(int caller) {
    SplittableRandom rnd = new SplittableRandom(caller * 0x632BE59BD9B4E019L + System.nanoTime());
    LedgerServiceGrpc.LedgerServiceBlockingStub s =
        LedgerServiceGrpc.newBlockingStub(channels.get(caller));
    while (!stopped) {
      SubmitRequest req = SubmitRequest.newBuilder().addOperations(nextTransfer(rnd)).build();
      if (!stubCall(s, caller, req)) {
        return; // interrupted
      }
    }
  }

  /**
   * One stub call, resent until answered or out of bounds; false if interrupted. An answer counts
   * whatever its result code: the write was acknowledged.
   */
  private boolean stubCall(
      LedgerServiceGrpc.LedgerServiceBlockingStub s, int caller, SubmitRequest req) {
    long start = System.nanoTime();
    long until = start + TimeUnit.MILLISECONDS.toNanos(STUB_MAX_CALL_MILLIS);
    boolean mayHaveApplied = false;
    for (int attempt = 0; attempt < STUB_MAX_ATTEMPTS && System.nanoTime() < until; attempt++) {
      if (stopped && attempt > 0) {
        // The run is over: do not wait out the call's bounds; say how it stood.
        if (mayHaveApplied) {
          stub.unansweredAtEnd.incrementAndGet();
        }
        return true;
      }
      long sent = System.nanoTime();
      try {
        SubmitResponse r =
            s.withDeadlineAfter(STUB_DEADLINE_MILLIS, TimeUnit.MILLISECONDS).submit(req);
        stub.acked(caller, sent, System.nanoTime());
        count(stub, r.getResults(0));
        return true;
      } catch (StatusRuntimeException e) {
        mayHaveApplied |= outcomeUnknown(e);
      }
      try {
        Thread.sleep(STUB_RETRY_SLEEP_MILLIS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return false;
      }
    }
    if (mayHaveApplied) {
      stub.unknown(System.nanoTime());
    } else {
      stub.failed(System.nanoTime());
    }
    return true;
  }

  /**
   * Whether an attempt that ended with {@code e} may have been applied: a deadline, an
   * OUTCOME_UNKNOWN from the node, or UNAVAILABLE without a detail (the connection broke, maybe
   * after the request went out). A call that runs out of attempts after one of these is an unknown
   * outcome; after none of them, a failure.
   */
  static boolean outcomeUnknown(StatusRuntimeException e) {
    Status.Code code = e.getStatus().getCode();
    ErrorDetail d = Errors.detailOf(e);
    return code == Status.Code.DEADLINE_EXCEEDED
        || (code == Status.Code.UNAVAILABLE
            && (d == null ? !neverConnected(e) : d.getKind() == ErrorDetail.Kind.OUTCOME_UNKNOWN));
  }

  /** A refused connection: the request never left this process. */
  private static boolean neverConnected(Throwable e) {
    for (Throwable c = e; c != null; c = c.getCause()) {
      if (c instanceof java.net.ConnectException) {
        return true;
      }
    }
    return false;
  }

  @Override
  public void close() {
    stopped = true;
    for (ManagedChannel ch : channels) {
      ch.shutdownNow();
    }
  }
}
