package io.cairn.node.api;

import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.UnknownFieldSet;
import io.grpc.MethodDescriptor;
import io.grpc.ServiceDescriptor;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Refuses request bytes that a strict protobuf decoder would refuse or that two decoders could read
 * differently, before any handler sees them. A {@code Submit}'s bytes go into the log as they came
 * and auditors decode them with their own tools, so every replica and every outside decoder must
 * read the same numbers from them (issue 18: a mint amount sent as a 10-byte varint for 2^64 was
 * read as about 2^63 here, where other decoders refuse or wrap it).
 *
 * <p>The rule: the bytes must be exactly what this node's protobuf would write for the message they
 * parse to, and hold no field this API does not define. That refuses overlong and overflowing
 * varints, fields out of number order, repeated scalars not packed, default values sent explicitly,
 * and unknown fields (which protobuf-java would otherwise keep and carry into the log: up to the
 * request limit per operation). Every protobuf library's encoder writes this form (fields in number
 * order, proto3 defaults omitted, packed repeated scalars), so only hand-made or hostile bytes are
 * refused. Bytes that do not parse at all are left to the handler's parser, whose failure {@link
 * ApiServer.RequestGuard} reports.
 */
final class StrictDecoding {
  private final Map<String, Message> prototypes = new HashMap<>();

  /** Checks the requests of every method of {@code service} whose request is a protobuf. */
  StrictDecoding(ServiceDescriptor service) {
    this(service, java.util.Set.of());
  }

  /**
   * As {@link #StrictDecoding(ServiceDescriptor)}, except the methods named in {@code
   * checkedByTheirHandler}: their handlers parse the raw bytes anyway and call {@link
   * #reason(Message, byte[])} on what they parsed (Submit: one parse per write, not two).
   */
  StrictDecoding(ServiceDescriptor service, java.util.Set<String> checkedByTheirHandler) {
    for (MethodDescriptor<?, ?> m : service.getMethods()) {
      if (!checkedByTheirHandler.contains(m.getFullMethodName())
          && m.getRequestMarshaller() instanceof MethodDescriptor.PrototypeMarshaller<?> p
          && p.getMessagePrototype() instanceof Message proto) {
        prototypes.put(m.getFullMethodName(), proto);
      }
    }
  }

  /**
   * Null when {@code raw} is a canonical encoding of {@code method}'s request with no unknown
   * field, or when it does not parse (the handler's parser says why); else what is wrong, for an
   * INVALID_ARGUMENT.
   */
  String check(String method, byte[] raw) {
    Message prototype = prototypes.get(method);
    if (prototype == null) {
      return null;
    }
    Message parsed;
    try {
      parsed = prototype.getParserForType().parseFrom(raw);
    } catch (InvalidProtocolBufferException e) {
      return null;
    }
    return reason(parsed, raw);
  }

  /**
   * Null when {@code raw}, which parsed to {@code parsed}, is its canonical encoding and holds no
   * unknown field; else what is wrong, for an INVALID_ARGUMENT.
   */
  static String reason(Message parsed, byte[] raw) {
    String unknown = unknownField(parsed, "");
    if (unknown != null) {
      return "unknown field " + unknown + ": this API defines no such field";
    }
    if (!Arrays.equals(parsed.toByteArray(), raw)) {
      return "not canonical protobuf (an overlong or overflowing varint, fields out of number"
          + " order, an unpacked repeated field or a default value sent): send the bytes a"
          + " protobuf encoder writes";
    }
    return null;
  }

  /** The path of the first unknown field in {@code m} or its sub-messages, or null. */
  static String unknownField(Message m, String path) {
    UnknownFieldSet unknown = m.getUnknownFields();
    if (!unknown.asMap().isEmpty()) {
      int number = unknown.asMap().keySet().iterator().next();
      return (path.isEmpty() ? "" : path + ".") + "#" + number;
    }
    for (Map.Entry<FieldDescriptor, Object> e : m.getAllFields().entrySet()) {
      FieldDescriptor f = e.getKey();
      if (f.getJavaType() != FieldDescriptor.JavaType.MESSAGE) {
        continue;
      }
      String here = path.isEmpty() ? f.getName() : path + "." + f.getName();
      if (f.isRepeated()) {
        List<?> items = (List<?>) e.getValue();
        for (int i = 0; i < items.size(); i++) {
          String found = unknownField((Message) items.get(i), here + "[" + i + "]");
          if (found != null) {
            return found;
          }
        }
      } else {
        String found = unknownField((Message) e.getValue(), here);
        if (found != null) {
          return found;
        }
      }
    }
    return null;
  }
}
