package io.cairn.node.config;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The current values of the numeric {@link NodeConfig#HOT_KEYS}: components read them on every use,
 * so a reload takes effect without a restart. Everything else stays in the immutable {@link
 * NodeConfig} the node started with.
 */
public final class HotSettings {
  private final Map<String, AtomicLong> values = new ConcurrentHashMap<>();

  public HotSettings(NodeConfig config) {
    for (String key : NodeConfig.HOT_KEYS) {
      if (!key.equals("log.level")) {
        values.put(key, new AtomicLong(config.getLong(key)));
      }
    }
  }

  /** The live value of a hot numeric key. */
  public long get(String key) {
    AtomicLong v = values.get(key);
    if (v == null) {
      throw new IllegalArgumentException("not a hot numeric key: " + key);
    }
    return v.get();
  }

  public int getInt(String key) {
    return Math.toIntExact(get(key));
  }

  void set(String key, long value) {
    values.get(key).set(value);
  }

  /** Hot numeric keys and their live values, sorted (for metrics). */
  public Map<String, AtomicLong> view() {
    return new TreeMap<>(values);
  }
}
