package io.cairn.node;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.Status;
import java.io.IOException;
import org.apache.ratis.protocol.exceptions.ServerNotReadyException;
import org.junit.jupiter.api.Test;

/** Which failures a stopping node keeps out of its log: only refusals of calls while closing. */
class ShutdownQuietTest {
  @Test
  void onlyRefusalsWhileClosingAreHeldBack() {
    assertTrue(
        ShutdownQuiet.isRefusalWhileClosing(
            new ServerNotReadyException("n1@group is not in [STARTING, RUNNING]: CLOSING")));
    assertTrue(
        ShutdownQuiet.isRefusalWhileClosing(
            new java.util.concurrent.CompletionException(
                Status.CANCELLED.withDescription("client cancelled").asRuntimeException())));
    assertFalse(ShutdownQuiet.isRefusalWhileClosing(new IOException("disk full")));
    assertFalse(ShutdownQuiet.isRefusalWhileClosing(Status.INTERNAL.asRuntimeException()));
    assertFalse(ShutdownQuiet.isRefusalWhileClosing(null));
  }
}
