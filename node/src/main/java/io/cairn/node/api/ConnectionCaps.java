package io.cairn.node.api;

import io.cairn.node.metrics.NodeMetrics;
import io.grpc.netty.shaded.io.netty.channel.Channel;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.nio.NioEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.socket.nio.NioServerSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.socket.nio.NioSocketChannel;
import io.grpc.netty.shaded.io.netty.util.concurrent.DefaultThreadFactory;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Caps the API's TCP connections, in all and per peer address, at accept: a connection over either
 * cap is closed before it costs a TLS engine or an HTTP/2 session. gRPC counts nothing before a
 * connection's handshake completes, so without this 10,000 sockets that never finish it each held a
 * TLS engine for the 20 s handshake timeout. Netty's NIO transport is used for the API port because
 * its accept step can be overridden; the Raft port is Ratis's own.
 */
final class ConnectionCaps {
  private final KeyedCaps<InetAddress> open;
  private final AtomicLong refused = new AtomicLong();
  private final EventLoopGroup boss =
      new NioEventLoopGroup(1, new DefaultThreadFactory("cairn-api-accept", true));
  private final EventLoopGroup workers =
      new NioEventLoopGroup(
          Math.max(2, Runtime.getRuntime().availableProcessors()),
          new DefaultThreadFactory("cairn-api-io", true));

  ConnectionCaps(int maxTotal, int maxPerAddress, NodeMetrics metrics) {
    this.open = new KeyedCaps<>(maxTotal, maxPerAddress);
    metrics.gauge("cairn.api.connections", "Open API connections", open, KeyedCaps::total);
    metrics.gauge(
        "cairn.api.connections.refused",
        "API connections closed at accept: over api.max.connections or its per-address cap",
        refused,
        AtomicLong::get);
  }

  EventLoopGroup boss() {
    return boss;
  }

  EventLoopGroup workers() {
    return workers;
  }

  /** The server channel type whose accept step applies the caps. */
  NioServerSocketChannel newServerChannel() {
    return new Capped();
  }

  int open() {
    return open.total();
  }

  long refused() {
    return refused.get();
  }

  /** After the server has stopped: stops the event loops. */
  void close() {
    boss.shutdownGracefully(0, 2, TimeUnit.SECONDS);
    workers.shutdownGracefully(0, 2, TimeUnit.SECONDS);
  }

  private final class Capped extends NioServerSocketChannel {
    @Override
    protected int doReadMessages(List<Object> buf) throws Exception {
      int before = buf.size();
      int accepted = super.doReadMessages(buf);
      for (int i = buf.size() - 1; i >= before; i--) {
        if (!(buf.get(i) instanceof NioSocketChannel child)) {
          continue;
        }
        InetAddress address = addressOf(child);
        if (address == null || open.tryAcquire(address) != null) {
          buf.remove(i);
          accepted--;
          refused.incrementAndGet();
          child.unsafe().closeForcibly(); // never registered: nothing else to undo
          continue;
        }
        child.closeFuture().addListener(f -> open.release(address));
      }
      return accepted;
    }
  }

  private static InetAddress addressOf(Channel child) {
    return child.remoteAddress() instanceof InetSocketAddress a ? a.getAddress() : null;
  }
}
