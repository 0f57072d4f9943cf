package io.cairn.proto.wire;

import io.grpc.KnownLength;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;

/**
 * A gRPC marshaller that passes messages as the bytes they are, unparsed: the node's API reads
 * requests this way so its guards see them before parsing, and raw callers (tests, the fuzzer) send
 * bytes no encoder would write.
 */
public final class RawBytes implements MethodDescriptor.Marshaller<byte[]> {
  /** The marshaller; it holds no state. */
  public static final RawBytes INSTANCE = new RawBytes();

  private RawBytes() {}

  /** {@code method} with bytes in and out, same name and type. */
  public static MethodDescriptor<byte[], byte[]> method(MethodDescriptor<?, ?> method) {
    return MethodDescriptor.<byte[], byte[]>newBuilder()
        .setType(method.getType())
        .setFullMethodName(method.getFullMethodName())
        .setRequestMarshaller(INSTANCE)
        .setResponseMarshaller(INSTANCE)
        .build();
  }

  @Override
  public InputStream stream(byte[] value) {
    return new ByteArrayInputStream(value);
  }

  @Override
  public byte[] parse(InputStream stream) {
    try {
      // gRPC's streams know their length: read into an array of exactly that size, not
      // readAllBytes' 8 KiB chunks (allocated, zeroed and copied for every small message).
      if (stream instanceof KnownLength) {
        byte[] exact = new byte[stream.available()];
        if (stream.readNBytes(exact, 0, exact.length) == exact.length && stream.read() == -1) {
          return exact;
        }
        throw new IOException("stream shorter or longer than its known length");
      }
      return stream.readAllBytes();
    } catch (IOException e) {
      throw Status.INTERNAL.withDescription("reading message: " + e).asRuntimeException();
    }
  }
}
