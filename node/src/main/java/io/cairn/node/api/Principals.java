package io.cairn.node.api;

import io.cairn.node.tls.TlsMaterial;
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
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;

/**
 * Who is calling: the CN of the client certificate the TLS handshake verified, put into the call's
 * {@link Context} for the handlers ({@link #current}). With TLS off (benchmarks only) every caller
 * is {@code plaintextPrincipal}, the configured bootstrap admin.
 *
 * <p>The handshake already refused connections without a certificate of the cluster's CA; a call
 * that still arrives without one (which should not happen) is refused here with UNAUTHENTICATED.
 */
final class Principals implements ServerInterceptor {
  static final Context.Key<String> KEY = Context.key("cairn-principal");

  private final boolean tls;
  private final String plaintextPrincipal;

  Principals(boolean tls, String plaintextPrincipal) {
    this.tls = tls;
    this.plaintextPrincipal = plaintextPrincipal;
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
      call.close(
          Status.UNAUTHENTICATED.withDescription(
              "the client certificate's CN must be 1-64 characters of [A-Za-z0-9._:-]"),
          new Metadata());
      return new ServerCall.Listener<>() {};
    }
    return Contexts.interceptCall(Context.current().withValue(KEY, principal), call, headers, next);
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
