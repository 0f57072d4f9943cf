package io.cairn.node.config;

import java.util.function.Function;

/**
 * A configuration key with the type of its value, so a reader gets that type without parsing:
 * {@code config.get(ConfigKeys.API_MAX_REQUEST_BYTES)} is a {@code long}. Sizes and durations are
 * {@code Long}, so arithmetic on them cannot overflow an int; counts are {@code Integer}; 0/1
 * switches are {@code Boolean}. Every value was range-checked when the configuration loaded, so
 * reading one never fails.
 *
 * @param <T> the value's type
 */
public final class Key<T> {
  private final ConfigKey spec;
  private final Function<String, T> parse;

  private Key(ConfigKey spec, Function<String, T> parse) {
    this.spec = spec;
    this.parse = parse;
  }

  /** A free-text key (validated, if at all, by {@link NodeConfig}). */
  static Key<String> text(String name, String defaultValue, String description) {
    return new Key<>(ConfigKey.text(name, defaultValue, description), s -> s);
  }

  /** A size or duration in {@code unit}, within [min, max]. */
  static Key<Long> longNumber(
      String name, long defaultValue, String unit, long min, long max, String description) {
    return new Key<>(
        ConfigKey.number(name, defaultValue, unit, min, max, description), Long::valueOf);
  }

  /** A count within [min, max]; the whole range must fit an int. */
  static Key<Integer> intNumber(
      String name, long defaultValue, String unit, long min, long max, String description) {
    if (min < Integer.MIN_VALUE || max > Integer.MAX_VALUE) {
      throw new IllegalArgumentException(name + ": range does not fit an int, use longNumber");
    }
    return new Key<>(
        ConfigKey.number(name, defaultValue, unit, min, max, description), Integer::valueOf);
  }

  /** A switch written 0 or 1 (in files, the environment and flags alike). */
  static Key<Boolean> flag(String name, boolean defaultValue, String description) {
    return new Key<>(
        ConfigKey.number(name, defaultValue ? 1 : 0, "0/1", 0, 1, description), "1"::equals);
  }

  /** The key's name, default, unit, range and description, as the docs list them. */
  public ConfigKey spec() {
    return spec;
  }

  public String name() {
    return spec.name();
  }

  T parse(String raw) {
    return parse.apply(raw);
  }

  @Override
  public String toString() {
    return spec.name();
  }
}
