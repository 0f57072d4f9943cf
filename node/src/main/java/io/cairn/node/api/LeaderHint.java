package io.cairn.node.api;

import io.cairn.proto.LedgerServiceGrpc;
import io.cairn.proto.errors.Errors;
import io.grpc.ForwardingServerCall;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import java.util.Set;
import java.util.function.Supplier;

/**
 * Puts {@link Errors#LEADER_KEY} on the replies of a follower to the calls it forwards to the
 * leader (writes, reads, membership changes; in the headers, or in the trailers of a reply without
 * headers), so a client served through a follower can go to the leader directly next time. A hint
 * only: the answer is the same either way. Watch and ClusterStatus, which a follower serves itself,
 * carry no hint, so a client that chose a follower for them is not drawn to the leader.
 */
final class LeaderHint implements ServerInterceptor {
  private static final Set<String> HINTED =
      Set.of(
          LedgerServiceGrpc.getSubmitMethod().getFullMethodName(),
          LedgerServiceGrpc.getAddMemberMethod().getFullMethodName(),
          LedgerServiceGrpc.getRemoveMemberMethod().getFullMethodName(),
          LedgerServiceGrpc.getGetAccountMethod().getFullMethodName(),
          LedgerServiceGrpc.getGetProofMethod().getFullMethodName(),
          LedgerServiceGrpc.getGetTransferMethod().getFullMethodName(),
          LedgerServiceGrpc.getListAccountsMethod().getFullMethodName(),
          LedgerServiceGrpc.getListTransfersMethod().getFullMethodName(),
          LedgerServiceGrpc.getListRolesMethod().getFullMethodName(),
          LedgerServiceGrpc.getGetLedgerSummaryMethod().getFullMethodName());

  private final Supplier<String> hint;

  LeaderHint(Supplier<String> hint) {
    this.hint = hint;
  }

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(
      ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
    if (!HINTED.contains(call.getMethodDescriptor().getFullMethodName())) {
      return next.startCall(call, headers);
    }
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
