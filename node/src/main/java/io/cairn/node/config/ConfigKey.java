package io.cairn.node.config;

/**
 * One documented configuration key: its name, default, unit, bounds and what it limits. The
 * docs/configuration.md's table of keys is generated from {@link ConfigKeys#ALL}, so the docs
 * cannot drift from the code. Typed reads go through {@link Key}, which wraps one of these.
 */
public record ConfigKey(
    String name, String defaultValue, String unit, long min, long max, String description) {

  static ConfigKey text(String name, String defaultValue, String description) {
    return new ConfigKey(name, defaultValue, "", 0, 0, description);
  }

  static ConfigKey number(
      String name, long defaultValue, String unit, long min, long max, String description) {
    return new ConfigKey(name, Long.toString(defaultValue), unit, min, max, description);
  }

  boolean isNumeric() {
    return min != 0 || max != 0;
  }

  /** The environment variable that overrides this key: CAIRN_ + upper case, dots to underscores. */
  public String envName() {
    return "CAIRN_" + name.toUpperCase(java.util.Locale.ROOT).replace('.', '_');
  }
}
