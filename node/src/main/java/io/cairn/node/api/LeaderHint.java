package io.cairn.node.api;

import io.cairn.proto.errors.Errors;
import io.grpc.ForwardingServerCall;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import java.util.function.Supplier;

/**
 * Puts {@link Errors#LEADER_KEY} on every reply of a node that is not the leader and knows one (in
 * the headers, or in the trailers of a reply without headers), so a client served through a
 * follower can go to the leader directly next time. A hint only: the answer is the same either way.
 */
final class LeaderHint implements ServerInterceptor {
  private final Supplier<String> hint;

  LeaderHint(Supplier<String> hint) {
    this.hint = hint;
  }

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(
      ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
    return next.startCall(
        new ForwardingServerCall.SimpleForwardingServerCall<>(call) {
          private boolean headersSent;

          @Override
          public void sendHeaders(Metadata h) {
            headersSent = true;
            put(h);
            super.sendHeaders(h);
          }

          @Override
          public void close(Status status, Metadata trailers) {
            if (!headersSent) {
              put(trailers);
            }
            super.close(status, trailers);
          }

          private void put(Metadata m) {
            String leader = hint.get();
            if (leader != null) {
              m.put(Errors.LEADER_KEY, leader);
            }
          }
        },
        headers);
  }
}
