package io.cairn.node.api;

import io.cairn.node.metrics.NodeMetrics;
import io.grpc.ForwardingServerCall;
import io.grpc.ForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The receive deadline ({@code api.receive.timeout.millis}): a unary or server-streaming call whose
 * request has not fully arrived that long after its headers is closed with DEADLINE_EXCEEDED and
 * counted as {@code cairn.api.rejections{reason="receive_timeout"}}. Nothing of it reached a
 * handler, so it was never applied.
 *
 * <p>Without it a client that sends headers and then trickles its body (or never sends it) holds a
 * call slot and gRPC's buffer of the partial message for as long as its connection lives: the
 * admission gate only sees a request once it has arrived whole. The connection caps bound how many
 * such calls there can be; this bounds how long each lasts.
 *
 * <p>Calls waiting for their request sit in a set that one ticker sweeps once a second; a normal
 * call leaves it as soon as its message arrives, so the set holds only the slow ones (at most the
 * calls the connection caps allow). The ticker and the transport race for each slow call through
 * one state: whichever moves it out of WAITING first decides, and a call closed by the ticker drops
 * the message that arrives after. Every close and send of a watched call goes through one lock, so
 * a call is closed once.
 */
final class ReceiveDeadline implements ServerInterceptor, AutoCloseable {
  private static final int WAITING = 0;
  private static final int RECEIVED = 1;
  private static final int EXPIRED = 2;

  private final long timeoutMillis;
  private final long timeoutNanos;
  private final NodeMetrics metrics;
  private final Set<Watched<?, ?>> waiting = ConcurrentHashMap.newKeySet();
  private final ScheduledExecutorService ticker = ApiServer.ticker("cairn-receive");

  ReceiveDeadline(long timeoutMillis, NodeMetrics metrics) {
    this.timeoutMillis = timeoutMillis;
    this.timeoutNanos = TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
    this.metrics = metrics;
  }

  void start() {
    ticker.scheduleWithFixedDelay(this::sweep, 1000, 1000, TimeUnit.MILLISECONDS);
  }

  /** Calls still waiting for their request (for tests and the sweep). */
  int waiting() {
    return waiting.size();
  }

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(
      ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
    MethodDescriptor.MethodType type = call.getMethodDescriptor().getType();
    if (type != MethodDescriptor.MethodType.UNARY
        && type != MethodDescriptor.MethodType.SERVER_STREAMING) {
      return next.startCall(call, headers); // a client stream sends at its own pace
    }
    Watched<Q, R> watched = new Watched<>(call, System.nanoTime());
    waiting.add(watched);
    ServerCall.Listener<Q> delegate;
    try {
      delegate = next.startCall(watched, headers);
    } catch (RuntimeException e) {
      waiting.remove(watched);
      throw e;
    }
    return new ForwardingServerCallListener.SimpleForwardingServerCallListener<>(delegate) {
      @Override
      public void onMessage(Q message) {
        if (watched.arrived()) {
          super.onMessage(message);
        }
      }

      @Override
      public void onHalfClose() {
        // A half-close without a message also ends the wait (the handler refuses it).
        if (watched.arrived()) {
          super.onHalfClose();
        }
      }

      @Override
      public void onCancel() {
        waiting.remove(watched);
        super.onCancel();
      }

      @Override
      public void onComplete() {
        waiting.remove(watched);
        super.onComplete();
      }
    };
  }

  /** Closes every call whose request is overdue (the ticker's one task). */
  void sweep() {
    long now = System.nanoTime();
    for (Watched<?, ?> w : waiting) {
      if (now - w.startedNanos >= timeoutNanos && w.state.compareAndSet(WAITING, EXPIRED)) {
        waiting.remove(w);
        metrics.rejection("receive_timeout");
        w.close(
            Status.DEADLINE_EXCEEDED.withDescription(
                "the request did not arrive within api.receive.timeout.millis="
                    + timeoutMillis
                    + " ms of its headers; it was not applied"),
            new Metadata());
      }
    }
  }

  @Override
  public void close() {
    ticker.shutdownNow();
  }

  /** A call whose request is awaited: closes and sends under one lock, closed at most once. */
  private final class Watched<Q, R> extends ForwardingServerCall.SimpleForwardingServerCall<Q, R> {
    final long startedNanos;
    final AtomicInteger state = new AtomicInteger(WAITING);
    private boolean closed; // guarded by this

    Watched(ServerCall<Q, R> call, long startedNanos) {
      super(call);
      this.startedNanos = startedNanos;
    }

    /** Whether the request may go on: it arrived before the ticker gave up on it. */
    boolean arrived() {
      if (state.get() == WAITING && state.compareAndSet(WAITING, RECEIVED)) {
        waiting.remove(this);
      }
      return state.get() == RECEIVED;
    }

    @Override
    public synchronized void sendHeaders(Metadata headers) {
      if (!closed) {
        super.sendHeaders(headers);
      }
    }

    @Override
    public synchronized void sendMessage(R message) {
      if (!closed) {
        super.sendMessage(message);
      }
    }

    @Override
    public synchronized void close(Status status, Metadata trailers) {
      if (!closed) {
        closed = true;
        super.close(status, trailers);
      }
    }
  }
}
