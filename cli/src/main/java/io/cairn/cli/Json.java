package io.cairn.cli;

import com.google.protobuf.ByteString;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A minimal JSON writer for cairnctl's output. Hand-written because protobuf's JsonFormat prints
 * uint64 values as strings, and amounts must be numbers. Values: {@link Map} (object, insertion
 * order), {@link List} (array), {@link String}, {@link Boolean}, {@link Integer}/{@link Long}
 * (signed), {@link Unsigned} (uint64), {@link Double}, or null.
 */
public final class Json {
  /** An unsigned 64-bit value, printed as its unsigned decimal. */
  public record Unsigned(long value) {}

  private Json() {}

  public static Unsigned u64(long v) {
    return new Unsigned(v);
  }

  public static Map<String, Object> object() {
    return new LinkedHashMap<>();
  }

  public static String hex(ByteString b) {
    StringBuilder sb = new StringBuilder(b.size() * 2);
    for (int i = 0; i < b.size(); i++) {
      int x = b.byteAt(i) & 0xff;
      sb.append(Character.forDigit(x >> 4, 16)).append(Character.forDigit(x & 0xf, 16));
    }
    return sb.toString();
  }

  public static String write(Object value) {
    StringBuilder sb = new StringBuilder();
    write(sb, value);
    return sb.toString();
  }

  private static void write(StringBuilder sb, Object v) {
    if (v == null) {
      sb.append("null");
    } else if (v instanceof Unsigned u) {
      sb.append(Long.toUnsignedString(u.value()));
    } else if (v instanceof String s) {
      string(sb, s);
    } else if (v instanceof Boolean || v instanceof Integer || v instanceof Long) {
      sb.append(v);
    } else if (v instanceof Double d) {
      sb.append(d.isNaN() || d.isInfinite() ? "null" : String.format("%.3f", d));
    } else if (v instanceof Map<?, ?> m) {
      sb.append('{');
      Iterator<? extends Map.Entry<?, ?>> it = m.entrySet().iterator();
      while (it.hasNext()) {
        Map.Entry<?, ?> e = it.next();
        string(sb, String.valueOf(e.getKey()));
        sb.append(": ");
        write(sb, e.getValue());
        if (it.hasNext()) {
          sb.append(", ");
        }
      }
      sb.append('}');
    } else if (v instanceof List<?> l) {
      sb.append('[');
      for (int i = 0; i < l.size(); i++) {
        if (i > 0) {
          sb.append(", ");
        }
        write(sb, l.get(i));
      }
      sb.append(']');
    } else {
      throw new IllegalArgumentException("not a JSON value: " + v.getClass());
    }
  }

  private static void string(StringBuilder sb, String s) {
    sb.append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> sb.append("\\\"");
        case '\\' -> sb.append("\\\\");
        case '\n' -> sb.append("\\n");
        case '\r' -> sb.append("\\r");
        case '\t' -> sb.append("\\t");
        default -> {
          if (c < 0x20) {
            sb.append(String.format("\\u%04x", (int) c));
          } else {
            sb.append(c);
          }
        }
      }
    }
    sb.append('"');
  }
}
