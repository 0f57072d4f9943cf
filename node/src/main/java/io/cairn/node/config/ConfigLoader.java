package io.cairn.node.config;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;

/**
 * Resolves a {@link NodeConfig} from its sources. Precedence, lowest to highest: defaults, the
 * profile ({@code node.profile}), the properties file, {@code CAIRN_*} environment variables,
 * {@code --set key=value} flags. An unknown key in the file or the flags is refused with a message
 * naming the key and where it was; the values are checked by {@link NodeConfig}.
 */
public final class ConfigLoader {
  private ConfigLoader() {}

  /** Where a configuration came from, kept so that a reload reads the same sources again. */
  record Sources(Path file, Map<String, String> env, Map<String, String> flags) {
    Sources {
      env = Map.copyOf(env);
      flags = Map.copyOf(flags);
    }
  }

  /** Resolves the configuration from a properties file (may be null), the environment and flags. */
  public static NodeConfig load(Path file, Map<String, String> env, Map<String, String> flags)
      throws ConfigException {
    return load(new Sources(file, env, flags));
  }

  static NodeConfig load(Sources sources) throws ConfigException {
    Path file = sources.file();
    Map<String, String> env = sources.env();
    Map<String, String> flags = sources.flags();
    Properties props = file == null ? new Properties() : read(file);
    Map<String, String> merged = new LinkedHashMap<>();
    for (ConfigKey key : ConfigKeys.SPECS) {
      merged.put(key.name(), key.defaultValue());
    }
    // The profile is chosen by the highest-precedence source that names one, then sits just
    // above the defaults so the file, the environment and flags can still override its values.
    String profile =
        flags
            .getOrDefault(
                "node.profile",
                env.getOrDefault(
                    "CAIRN_NODE_PROFILE", props.getProperty("node.profile", "balanced")))
            .trim();
    merged.putAll(ConfigProfiles.named(profile));
    for (String name : new TreeMap<>(propsAsMap(props)).keySet()) {
      put(merged, name, props.getProperty(name).trim(), "in " + file);
    }
    for (ConfigKey key : ConfigKeys.SPECS) {
      String v = env.get(key.envName());
      if (v != null) {
        merged.put(key.name(), v.trim());
      }
    }
    for (Map.Entry<String, String> e : flags.entrySet()) {
      put(merged, e.getKey(), e.getValue().trim(), "in --set");
    }
    if (merged.get("node.data.dir").isEmpty()) {
      merged.put("node.data.dir", "data/" + merged.get("node.id"));
    }
    // The CA file's folder holds the node's own pair by default (cairnctl cert create-node).
    Path certs = Path.of(merged.get("tls.ca.file")).toAbsolutePath().getParent();
    if (merged.get("tls.cert.file").isEmpty()) {
      merged.put(
          "tls.cert.file", certs.resolve("node." + merged.get("node.id") + ".crt").toString());
    }
    if (merged.get("tls.key.file").isEmpty()) {
      merged.put(
          "tls.key.file", certs.resolve("node." + merged.get("node.id") + ".key").toString());
    }
    return new NodeConfig(merged, sources);
  }

  /** Parses {@code --config FILE} and {@code --set k=v} arguments. */
  public static NodeConfig fromArgs(String[] args, Map<String, String> env) throws ConfigException {
    Path file = null;
    Map<String, String> flags = new LinkedHashMap<>();
    for (int i = 0; i < args.length; i++) {
      String a = args[i];
      if ((a.equals("--config") || a.equals("--set")) && i + 1 >= args.length) {
        throw new ConfigException(a + ": needs a value");
      }
      if (a.equals("--config")) {
        file = Path.of(args[++i]);
      } else if (a.equals("--set")) {
        String kv = args[++i];
        int eq = kv.indexOf('=');
        if (eq <= 0) {
          throw new ConfigException("--set " + kv + ": expected key=value");
        }
        flags.put(kv.substring(0, eq), kv.substring(eq + 1));
      } else {
        throw new ConfigException("unknown argument '" + a + "' (use --config FILE, --set k=v)");
      }
    }
    return load(file, env, flags);
  }

  private static Properties read(Path file) throws ConfigException {
    Properties props = new Properties();
    try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      props.load(r);
    } catch (IOException e) {
      throw new ConfigException("config file " + file + ": " + e.getMessage());
    }
    return props;
  }

  private static void put(Map<String, String> merged, String name, String value, String where)
      throws ConfigException {
    if (!NodeConfig.isKey(name)) {
      throw new ConfigException(name + ": unknown key " + where);
    }
    merged.put(name, value);
  }

  private static Map<String, String> propsAsMap(Properties p) {
    Map<String, String> m = new LinkedHashMap<>();
    for (String n : p.stringPropertyNames()) {
      m.put(n, p.getProperty(n));
    }
    return m;
  }
}
