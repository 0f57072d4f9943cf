package io.cairn.node.config;

import java.io.IOException;
import java.nio.file.Files;
import java.util.Arrays;
import java.util.Map;
import java.util.function.BiConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Re-reads the node's config file when it changes (polled once a second by one daemon thread). Hot
 * keys take effect at once and are logged; a changed consensus-critical or static key (peers,
 * ports, storage, Raft, ledger, capacities) is logged as needing a restart and ignored; a file that
 * no longer validates is refused as a whole, naming the key, and the node keeps running with what
 * it had.
 */
public final class ConfigWatcher implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ConfigWatcher.class);

  /** What happened on a reload, for metrics. */
  public enum Outcome {
    APPLIED,
    REFUSED
  }

  private final HotSettings hot;
  private final BiConsumer<String, String> onHotChange;
  private final java.util.function.Consumer<Outcome> onReload;
  private final Thread thread;
  private NodeConfig current;
  private byte[] lastContent;
  private volatile boolean closed;

  public ConfigWatcher(
      NodeConfig config,
      HotSettings hot,
      BiConsumer<String, String> onHotChange,
      java.util.function.Consumer<Outcome> onReload) {
    this.current = config;
    this.hot = hot;
    this.onHotChange = onHotChange;
    this.onReload = onReload;
    this.lastContent = read();
    this.thread = new Thread(this::loop, "cairn-config-watch");
    this.thread.setDaemon(true);
  }

  public void start() {
    if (current.file() != null) {
      thread.start();
    }
  }

  private byte[] read() {
    try {
      return current.file() == null ? new byte[0] : Files.readAllBytes(current.file());
    } catch (IOException e) {
      return null;
    }
  }

  private void loop() {
    while (!closed) {
      try {
        Thread.sleep(1000);
      } catch (InterruptedException e) {
        return;
      }
      byte[] now = read();
      if (now == null || Arrays.equals(now, lastContent)) {
        continue;
      }
      lastContent = now;
      reload();
    }
  }

  /** Applies the file's current content; public so tests and signals can force it. */
  public synchronized void reload() {
    NodeConfig next;
    try {
      next = current.reload();
    } catch (ConfigException e) {
      LOG.error("config reload refused, keeping the running values: {}", e.getMessage());
      onReload.accept(Outcome.REFUSED);
      return;
    }
    Map<String, String> before = current.asMap();
    Map<String, String> after = next.asMap();
    for (Map.Entry<String, String> e : after.entrySet()) {
      String key = e.getKey();
      String old = before.get(key);
      if (old.equals(e.getValue())) {
        continue;
      }
      if (NodeConfig.HOT_KEYS.contains(key)) {
        if (!key.equals("log.level")) {
          hot.set(key, next.getLong(key));
        }
        onHotChange.accept(key, e.getValue());
        LOG.info("config reload: {} {} -> {} (applied)", key, old, e.getValue());
      } else {
        LOG.warn(
            "config reload: {} {} -> {} needs a restart (not a hot key); still using {}",
            key,
            old,
            e.getValue(),
            old);
      }
    }
    current = next;
    onReload.accept(Outcome.APPLIED);
  }

  @Override
  public void close() {
    closed = true;
    thread.interrupt();
  }
}
