package io.cairn.node.api;

import io.cairn.node.metrics.NodeMetrics;
import io.grpc.Attributes;
import io.grpc.ForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerTransportFilter;
import java.util.Set;
import java.util.function.LongSupplier;

/**
 * Puts every unary LedgerService call through the {@link AdmissionGate} as soon as its request
 * bytes are read: a refused call is closed with RESOURCE_EXHAUSTED, an OVERLOADED detail with a
 * retry hint and {@code not_applied}, and counted in {@code cairn.api.rejections{reason}}. The slot
 * is freed when the call closes, however it ends. Streaming calls and the exempt methods
 * (ClusterStatus: answered inline, and what operators need most during overload) are not gated.
 */
final class AdmissionInterceptor implements ServerInterceptor {
  static final Attributes.Key<AdmissionGate.Connection> CONNECTION =
      Attributes.Key.create("cairn.admission.connection");

  private final AdmissionGate gate;
  private final NodeMetrics metrics;
  private final LongSupplier retryAfterMillis;
  private final Set<String> exemptMethods;

  AdmissionInterceptor(
      AdmissionGate gate, NodeMetrics metrics, LongSupplier retryAfterMillis, Set<String> exempt) {
    this.gate = gate;
    this.metrics = metrics;
    this.retryAfterMillis = retryAfterMillis;
    this.exemptMethods = Set.copyOf(exempt);
  }

  /** Gives each new connection its own counter; register it on the server builder. */
  ServerTransportFilter transportFilter() {
    return new ServerTransportFilter() {
      @Override
      public Attributes transportReady(Attributes attrs) {
        return attrs.toBuilder().set(CONNECTION, new AdmissionGate.Connection()).build();
      }
    };
  }

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(
      ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
    MethodDescriptor<Q, R> method = call.getMethodDescriptor();
    if (method.getType() != MethodDescriptor.MethodType.UNARY
        || exemptMethods.contains(method.getFullMethodName())) {
      return next.startCall(call, headers);
    }
    AdmissionGate.Connection connection = call.getAttributes().get(CONNECTION);
    ServerCall.Listener<Q> delegate = next.startCall(call, headers);
    return new ForwardingServerCallListener.SimpleForwardingServerCallListener<>(delegate) {
      private long admittedBytes = -1;
      private boolean refused;

      @Override
      public void onMessage(Q message) {
        long size = message instanceof byte[] raw ? raw.length : 0;
        AdmissionGate.Refusal refusal = gate.tryAdmit(connection, size);
        if (refusal != null) {
          refused = true;
          metrics.rejection(refusal.tag);
          int retryAfter = (int) retryAfterMillis.getAsLong();
          call.close(
              ApiErrors.overloadedStatus(refusal.what, retryAfter),
              ApiErrors.trailers(ApiErrors.overloadedDetail(retryAfter)));
          return;
        }
        admittedBytes = size;
        super.onMessage(message);
      }

      @Override
      public void onHalfClose() {
        if (!refused) {
          super.onHalfClose();
        }
      }

      @Override
      public void onComplete() {
        release();
        super.onComplete();
      }

      @Override
      public void onCancel() {
        release();
        super.onCancel();
      }

      // gRPC calls exactly one of onComplete/onCancel, one callback at a time: no CAS needed.
      private void release() {
        if (admittedBytes >= 0) {
          gate.release(connection, admittedBytes);
          admittedBytes = -1;
        }
      }
    };
  }
}
