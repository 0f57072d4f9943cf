package io.cairn.node.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NodeConfigTest {
  private static final String PEERS = "n1=127.0.0.1:7101:7201,n2=127.0.0.1:7102:7202";

  private static NodeConfig load(Path file, Map<String, String> env, Map<String, String> flags)
      throws ConfigException {
    return NodeConfig.load(file, env, flags);
  }

  @Test
  void flagsOverrideEnvironmentWhichOverridesTheFile(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("node.properties");
    Files.writeString(
        file, "node.id=n1\ncluster.peers=" + PEERS + "\nbatch.max.ops=10\napi.list.max.limit=7\n");
    NodeConfig c =
        load(
            file,
            Map.of("CAIRN_BATCH_MAX_OPS", "20", "CAIRN_API_LIST_MAX_LIMIT", "8"),
            Map.of("batch.max.ops", "30"));
    assertEquals(30, c.getLong("batch.max.ops"));
    assertEquals(8, c.getLong("api.list.max.limit"));
    assertEquals(Path.of("data/n1"), c.dataDir());
    assertEquals("127.0.0.1:7202", c.peers().get(1).apiEndpoint());
  }

  @Test
  void outOfRangeValueNamesTheKeyAndTheRange() {
    ConfigException e =
        assertThrows(
            ConfigException.class,
            () ->
                load(
                    null,
                    Map.of(),
                    Map.of("node.id", "n1", "cluster.peers", PEERS, "batch.max.ops", "-5")));
    assertTrue(e.getMessage().startsWith("batch.max.ops: -5 is out of range [1, "), e.getMessage());
  }

  @Test
  void unknownKeyInTheFileIsRefused(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("node.properties");
    Files.writeString(file, "node.id=n1\ncluster.peers=" + PEERS + "\nbatch.max.opz=10\n");
    ConfigException e = assertThrows(ConfigException.class, () -> load(file, Map.of(), Map.of()));
    assertTrue(e.getMessage().startsWith("batch.max.opz: unknown key"), e.getMessage());
  }

  @Test
  void portOutOfRangeIsRefused() {
    ConfigException e =
        assertThrows(
            ConfigException.class,
            () ->
                load(
                    null,
                    Map.of(),
                    Map.of("node.id", "n1", "cluster.peers", "n1=127.0.0.1:70000:7201")));
    assertTrue(e.getMessage().contains("out of range [1, 65535]"), e.getMessage());
  }

  @Test
  void nodeMustBeAPeer() {
    ConfigException e =
        assertThrows(
            ConfigException.class,
            () -> load(null, Map.of(), Map.of("node.id", "n9", "cluster.peers", PEERS)));
    assertTrue(e.getMessage().startsWith("node.id: 'n9' is not one of cluster.peers"));
  }

  @Test
  void requiredKeysAreNamed() {
    ConfigException e = assertThrows(ConfigException.class, () -> load(null, Map.of(), Map.of()));
    assertTrue(e.getMessage().startsWith("node.id: required"), e.getMessage());
  }

  @Test
  void everyDefaultIsWithinItsOwnBounds() {
    for (ConfigKey k : NodeConfig.KEYS) {
      if (k.isNumeric()) {
        long v = Long.parseLong(k.defaultValue());
        assertTrue(v >= k.min() && v <= k.max(), k.name());
      }
    }
  }

  @Test
  void aProfileSetsItsGroupAndTheFileStillOverridesIt(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("node.properties");
    Files.writeString(
        file,
        "node.id=n1\ncluster.peers=" + PEERS + "\nnode.profile=low-power\nbatch.max.ops=600\n");
    NodeConfig c = load(file, Map.of(), Map.of());
    assertEquals(600, c.getLong("batch.max.ops"));
    assertEquals(2, c.getLong("batch.max.inflight.entries"));
    NodeConfig t = load(file, Map.of("CAIRN_NODE_PROFILE", "throughput"), Map.of());
    assertEquals(16, t.getLong("batch.max.inflight.entries"));
    assertEquals(600, t.getLong("batch.max.ops"));
  }

  @Test
  void unknownProfileAndLogLevelAreRefused() {
    ConfigException p =
        assertThrows(
            ConfigException.class,
            () ->
                load(
                    null,
                    Map.of(),
                    Map.of("node.id", "n1", "cluster.peers", PEERS, "node.profile", "turbo")));
    assertTrue(p.getMessage().startsWith("node.profile: 'turbo' is not one of"), p.getMessage());
    ConfigException l =
        assertThrows(
            ConfigException.class,
            () ->
                load(
                    null,
                    Map.of(),
                    Map.of("node.id", "n1", "cluster.peers", PEERS, "log.level", "LOUD")));
    assertTrue(l.getMessage().startsWith("log.level: 'LOUD'"), l.getMessage());
  }

  @Test
  void everyProfileValidates() throws Exception {
    for (String profile : NodeConfig.PROFILES.keySet()) {
      load(
          null, Map.of(), Map.of("node.id", "n1", "cluster.peers", PEERS, "node.profile", profile));
    }
  }
}
