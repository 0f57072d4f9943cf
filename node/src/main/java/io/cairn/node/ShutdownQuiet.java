package io.cairn.node;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.turbo.TurboFilter;
import ch.qos.logback.core.spi.FilterReply;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Marker;

/**
 * Keeps a clean stop's log clean. While a node stops, its peers' Raft calls keep arriving for a few
 * milliseconds and Ratis logs each refusal as a WARN or an ERROR with a stack trace (the server "is
 * not in [STARTING, RUNNING]: current state is CLOSING", streams CANCELLED): an operator reading
 * "ERROR" after {@code scripts/cluster down} would look for a fault that is not there. Only those
 * refusals are held back, only once the stop has begun, and their count is logged in the stop's
 * last line; any other warning still shows.
 */
public final class ShutdownQuiet extends TurboFilter {
  private static volatile boolean stopping;
  private static final AtomicInteger held = new AtomicInteger();

  /** The node has begun to stop. */
  public static void stopping() {
    stopping = true;
  }

  /** How many refusals were held back since the stop began. */
  public static int held() {
    return held.get();
  }

  @Override
  public FilterReply decide(
      Marker marker, Logger logger, Level level, String format, Object[] params, Throwable t) {
    if (!stopping
        || level == null
        || !level.isGreaterOrEqual(Level.WARN)
        || !logger.getName().startsWith("org.apache.ratis")) {
      return FilterReply.NEUTRAL;
    }
    Throwable thrown = t;
    if (thrown == null && params != null && params.length > 0) {
      thrown = params[params.length - 1] instanceof Throwable last ? last : null;
    }
    if (isRefusalWhileClosing(thrown)) {
      held.incrementAndGet();
      return FilterReply.DENY;
    }
    return FilterReply.NEUTRAL;
  }

  static boolean isRefusalWhileClosing(Throwable thrown) {
    for (Throwable c = thrown; c != null; c = c.getCause()) {
      String name = c.getClass().getSimpleName();
      if (name.equals("ServerNotReadyException") || name.equals("AlreadyClosedException")) {
        return true;
      }
      String text = String.valueOf(c.getMessage());
      if (name.equals("StatusRuntimeException")
          && (text.startsWith("CANCELLED") || text.startsWith("UNAVAILABLE"))) {
        return true;
      }
      if (c.getCause() == c) {
        break;
      }
    }
    return false;
  }
}
