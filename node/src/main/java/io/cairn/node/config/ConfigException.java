package io.cairn.node.config;

/** A configuration value is missing, unknown or out of range; the message names the key. */
public final class ConfigException extends Exception {
  public ConfigException(String message) {
    super(message);
  }
}
