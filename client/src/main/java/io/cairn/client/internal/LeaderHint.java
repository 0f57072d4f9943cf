package io.cairn.client.internal;

import io.cairn.proto.errors.Errors;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ForwardingClientCall.SimpleForwardingClientCall;
import io.grpc.ForwardingClientCallListener.SimpleForwardingClientCallListener;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import java.util.function.Consumer;

/**
 * Reads the {@link Errors#LEADER_KEY} header a follower puts on a call it forwarded to the leader
 * ({@code <leader id>=<leader's API endpoint>}) and hands the endpoint to a consumer, so the next
 * writes go to the leader directly. Looks in the headers and, for a call that failed at once (whose
 * headers come with the trailers), in the trailers.
 */
public final class LeaderHint implements ClientInterceptor {
  private final Consumer<String> onLeader;

  /** An interceptor that passes every leader endpoint it sees to {@code onLeader}. */
  public LeaderHint(Consumer<String> onLeader) {
    this.onLeader = onLeader;
  }

  /** The endpoint in a {@code cairn-leader} value, or null when it names none. */
  public static String endpointOf(String value) {
    if (value == null) {
      return null;
    }
    String endpoint = value.substring(value.indexOf('=') + 1).trim();
    int colon = endpoint.lastIndexOf(':');
    return colon <= 0 || colon == endpoint.length() - 1 ? null : endpoint;
  }

  @Override
  public <Q, R> ClientCall<Q, R> interceptCall(
      MethodDescriptor<Q, R> method, CallOptions options, Channel next) {
    return new SimpleForwardingClientCall<Q, R>(next.newCall(method, options)) {
      @Override
      public void start(Listener<R> listener, Metadata headers) {
        super.start(
            new SimpleForwardingClientCallListener<R>(listener) {
              @Override
              public void onHeaders(Metadata h) {
                seen(h);
                super.onHeaders(h);
              }

              @Override
              public void onClose(Status status, Metadata trailers) {
                seen(trailers);
                super.onClose(status, trailers);
              }
            },
            headers);
      }
    };
  }

  private void seen(Metadata m) {
    String endpoint = m == null ? null : endpointOf(m.get(Errors.LEADER_KEY));
    if (endpoint != null) {
      onLeader.accept(endpoint);
    }
  }
}
