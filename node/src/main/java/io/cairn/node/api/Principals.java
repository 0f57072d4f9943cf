package io.cairn.node.api;

import io.cairn.node.tls.TlsMaterial;
import io.cairn.proto.errors.Errors;
import io.cairn.proto.rules.Rules;
import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.function.Predicate;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;

/**
 * Who is calling: the CN of the client certificate the TLS handshake verified, put into the call's
 * {@link Context} for the handlers ({@link #current}). With TLS off (benchmarks only) every caller
 * is {@code plaintextPrincipal}, the configured bootstrap admin.
 *
 * <p>A replica that forwards a call ({@link Forwarder}) connects with its own certificate ({@code
 * CN=node:<id>}) and names the caller in {@link Errors#FORWARDED_FOR_KEY}; that principal is the
 * call's, but only when the certificate is a current member's. Anyone else sending the header is
 * refused with UNAUTHENTICATED.
 *
 * <p>The handshake already refused connections without a certificate of the cluster's CA; a call
 * that still arrives without one (which should not happen) is refused here with UNAUTHENTICATED.
 */
final class Principals implements ServerInterceptor {
  static final Context.Key<String> KEY = Context.key("cairn-principal");
  static final Context.Key<Boolean> FORWARDED = Context.key("cairn-forwarded");

  private final boolean tls;
  private final String plaintextPrincipal;
  private final Predicate<String> isMember;

  /**
   * @param isMember whether a node id is a member of the group: only a member's certificate may
   *     forward calls on behalf of others
   */
  Principals(boolean tls, String plaintextPrincipal, Predicate<String> isMember) {
    this.tls = tls;
    this.plaintextPrincipal = plaintextPrincipal;
    this.isMember = isMember;
  }

  /** Whether the call being handled was forwarded by a replica (then it is never forwarded on). */
  static boolean forwarded() {
    return Boolean.TRUE.equals(FORWARDED.get());
  }

  /** The principal of the call being handled on this thread ("" outside any call). */
  static String current() {
    String p = KEY.get();
    return p == null ? "" : p;
  }

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(
      ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
    String principal =
        tls
            ? principalOf(call.getAttributes().get(Grpc.TRANSPORT_ATTR_SSL_SESSION))
            : plaintextPrincipal;
    if (!Rules.isValidPrincipal(principal)) {
      return refuse(call, "the client certificate's CN must be 1-64 characters of [A-Za-z0-9._:-]");
    }
    String onBehalfOf = headers.get(Errors.FORWARDED_FOR_KEY);
    if (onBehalfOf != null && tls) {
      if (!isReplica(principal)) {
        if (principal.startsWith(TlsMaterial.PEER_PREFIX)) {
          // A node of this cluster that is not (yet, or any more) a member here: a joining node
          // learns the new configuration from the log before this node counts it. Retryable, so
          // the client goes to another node instead of failing for good.
          return refuse(
              call,
              Status.UNAVAILABLE,
              principal + " is not a member here (yet): it may not forward; try another node");
        }
        return refuse(call, Errors.FORWARDED_FOR_KEY.name() + " may only come from a replica");
      }
      if (!Rules.isValidPrincipal(onBehalfOf)) {
        return refuse(call, "a forwarded call must name a valid principal");
      }
      principal = onBehalfOf;
    }
    Context ctx = Context.current().withValue(KEY, principal);
    if (onBehalfOf != null) {
      ctx = ctx.withValue(FORWARDED, Boolean.TRUE);
    }
    return Contexts.interceptCall(ctx, call, headers, next);
  }

  private boolean isReplica(String principal) {
    return principal.startsWith(TlsMaterial.PEER_PREFIX)
        && isMember.test(principal.substring(TlsMaterial.PEER_PREFIX.length()));
  }

  private static <Q, R> ServerCall.Listener<Q> refuse(ServerCall<Q, R> call, String why) {
    return refuse(call, Status.UNAUTHENTICATED, why);
  }

  private static <Q, R> ServerCall.Listener<Q> refuse(
      ServerCall<Q, R> call, Status status, String why) {
    call.close(status.withDescription(why), new Metadata());
    return new ServerCall.Listener<>() {};
  }

  private static String principalOf(SSLSession session) {
    if (session == null) {
      return "";
    }
    try {
      Certificate[] chain = session.getPeerCertificates();
      return chain.length > 0 && chain[0] instanceof X509Certificate x
          ? TlsMaterial.principalOf(x)
          : "";
    } catch (SSLPeerUnverifiedException e) {
      return "";
    }
  }
}
