package io.cairn.node.config;

/**
 * Prints the Markdown table of every configuration key. The table in docs/configuration.md is this
 * output (a test fails when they differ), so the docs cannot drift from the code.
 */
public final class ConfigDoc {
  private ConfigDoc() {}

  public static String markdown() {
    StringBuilder sb = new StringBuilder();
    sb.append("| key | default | unit | range | environment | reload | what it bounds |\n");
    sb.append("|---|---|---|---|---|---|---|\n");
    for (ConfigKey k : ConfigKeys.SPECS) {
      sb.append("| `")
          .append(k.name())
          .append("` | ")
          .append(k.defaultValue().isEmpty() ? "—" : "`" + k.defaultValue() + "`")
          .append(" | ")
          .append(k.unit())
          .append(" | ")
          .append(k.isNumeric() ? k.min() + "–" + k.max() : "")
          .append(" | `")
          .append(k.envName())
          .append("` | ")
          .append(ConfigKeys.HOT.contains(k.name()) ? "hot" : "restart")
          .append(" | ")
          .append(k.description())
          .append(" |\n");
    }
    return sb.toString();
  }

  public static void main(String[] args) {
    System.out.print(markdown());
  }
}
