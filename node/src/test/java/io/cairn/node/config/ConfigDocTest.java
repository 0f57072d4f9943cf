package io.cairn.node.config;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class ConfigDocTest {
  private static final String BEGIN = "<!-- config-keys:begin -->\n";
  private static final String END = "<!-- config-keys:end -->";

  @Test
  void readmeListsExactlyTheKeysTheNodeUnderstands() throws Exception {
    String readme = Files.readString(Path.of("..", "docs", "configuration.md"));
    int from = readme.indexOf(BEGIN);
    int to = readme.indexOf(END);
    String table =
        from < 0 || to < 0 ? "(markers missing)" : readme.substring(from + BEGIN.length(), to);
    assertEquals(
        ConfigDoc.markdown(),
        table,
        "docs/configuration.md's key table is stale: regenerate it with"
            + " java -cp node/target/classes io.cairn.node.config.ConfigDoc");
  }
}
