package io.cairn.node.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ConfigKeysTest {
  private static final String PEERS = "n1=127.0.0.1:7101:7201,n2=127.0.0.1:7102:7202";

  @Test
  void everyKeyIsListedOnceUnderItsOwnName() {
    Set<String> names = new HashSet<>();
    for (Key<?> k : ConfigKeys.ALL) {
      assertTrue(names.add(k.name()), "listed twice: " + k.name());
    }
    assertEquals(ConfigKeys.ALL.size(), ConfigKeys.SPECS.size());
    assertTrue(names.containsAll(ConfigKeys.HOT), "a hot key that is not a key");
    for (Map<String, String> profile : ConfigProfiles.ALL.values()) {
      assertTrue(names.containsAll(profile.keySet()), "a profile sets an unknown key");
    }
  }

  @Test
  void typedReadsAgreeWithTheByNameReads() throws Exception {
    NodeConfig c =
        NodeConfig.load(
            null,
            Map.of("CAIRN_WATCH_ENABLED", "0"),
            Map.of(
                "node.id", "n1", "cluster.peers", PEERS, "api.max.inflight.bytes", "3221225472"));
    for (Key<?> k : ConfigKeys.ALL) {
      Object typed = c.get(k);
      String raw = c.get(k.name());
      if (typed instanceof Boolean b) {
        assertEquals(raw.equals("1"), b, k.name());
      } else {
        assertEquals(raw, typed.toString(), k.name());
      }
    }
    long bytes = c.get(ConfigKeys.API_MAX_INFLIGHT_BYTES);
    assertEquals(3L << 30, bytes); // over an int: the Long type is needed
    int ops = c.get(ConfigKeys.BATCH_MAX_OPS);
    assertEquals(4096, ops);
    assertFalse(c.get(ConfigKeys.WATCH_ENABLED));
    assertTrue(c.get(ConfigKeys.MERKLE_ENABLED));
    assertEquals("n1", c.get(ConfigKeys.NODE_ID));
  }

  @Test
  void anIntKeyWhoseRangeDoesNotFitAnIntIsRefused() {
    assertThrows(
        IllegalArgumentException.class,
        () -> Key.intNumber("x.bytes", 1, "bytes", 0, 1L << 40, "too wide for an int"));
  }
}
