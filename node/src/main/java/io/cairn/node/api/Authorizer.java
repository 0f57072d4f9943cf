package io.cairn.node.api;

import io.cairn.proto.ErrorDetail;
import io.cairn.proto.LedgerServiceGrpc;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.StatusRuntimeException;
import java.util.Set;

/**
 * Who may call what, for the calls that are not ledger operations (those are decided per operation,
 * in the replicated ledger, so that every replica decides alike):
 *
 * <ul>
 *   <li>{@code AddMember} and {@code RemoveMember}: an admin;
 *   <li>reads and Watch: any principal that holds a role (admin, issuer or member);
 *   <li>{@code ClusterStatus}, {@code Submit}, health and reflection: any authenticated caller (the
 *       handshake already required a certificate of the cluster's CA).
 * </ul>
 *
 * <p>Roles are read from this node's applied state, as every read is: a role granted or revoked is
 * seen here once this node has applied that operation. The bootstrap admin holds every right.
 * Refusals are gRPC PERMISSION_DENIED with {@link ErrorDetail.Kind#PERMISSION_DENIED}.
 */
final class Authorizer implements ServerInterceptor {
  /** The roles of principals, as this node has applied them. */
  interface RoleSource {
    boolean isAdmin(String principal);

    boolean holdsAnyRole(String principal);
  }

  private static final Set<String> ADMIN_CALLS =
      Set.of(
          LedgerServiceGrpc.getAddMemberMethod().getFullMethodName(),
          LedgerServiceGrpc.getRemoveMemberMethod().getFullMethodName(),
          LedgerServiceGrpc.getSaveSnapshotMethod().getFullMethodName());

  private static final Set<String> OPEN_CALLS =
      Set.of(
          LedgerServiceGrpc.getSubmitMethod().getFullMethodName(),
          LedgerServiceGrpc.getClusterStatusMethod().getFullMethodName());

  private final RoleSource roles;
  private final String bootstrapAdmin;

  Authorizer(RoleSource roles, String bootstrapAdmin) {
    this.roles = roles;
    this.bootstrapAdmin = bootstrapAdmin;
  }

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(
      ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
    String method = call.getMethodDescriptor().getFullMethodName();
    String principal = Principals.current();
    String refusal = refusal(method, principal);
    if (refusal != null) {
      StatusRuntimeException denied = ApiErrors.permissionDenied(refusal);
      call.close(denied.getStatus(), denied.getTrailers());
      return new ServerCall.Listener<>() {};
    }
    return next.startCall(call, headers);
  }

  /** Why {@code principal} may not call {@code method}, or null when it may. */
  String refusal(String method, String principal) {
    // Submit is on every transfer's path: it and the other open calls never look at roles.
    if (OPEN_CALLS.contains(method) || !method.startsWith(LedgerServiceGrpc.SERVICE_NAME + "/")) {
      return null; // health and reflection too: any authenticated caller
    }
    if (!bootstrapAdmin.isEmpty() && bootstrapAdmin.equals(principal)) {
      return null;
    }
    if (ADMIN_CALLS.contains(method)) {
      return roles.isAdmin(principal)
          ? null
          : principal + " is not an admin (cairnctl role grant " + principal + " admin)";
    }
    return roles.holdsAnyRole(principal) ? null : ApiErrors.holdsNoRole(principal);
  }
}
