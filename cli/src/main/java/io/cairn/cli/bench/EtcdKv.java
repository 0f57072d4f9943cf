package io.cairn.cli.bench;

import com.google.protobuf.ByteString;
import com.google.protobuf.CodedInputStream;
import com.google.protobuf.CodedOutputStream;
import io.grpc.MethodDescriptor;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;

/**
 * The two etcd v3 gRPC calls the etcd bench makes, written against etcd's public API description
 * ({@code api/etcdserverpb/rpc.proto}) instead of a client library: {@code KV.Put} and {@code
 * Maintenance.Status}. Only the fields used are encoded or decoded; protobuf skips the rest. Why
 * not jetcd: it brings Vert.x and a second, unshaded Netty of mixed versions (4.1.118 and 4.1.124)
 * beside the shaded one of grpc 1.76 that cairnctl uses; two plain unary calls do not need that.
 */
final class EtcdKv {
  private EtcdKv() {}

  /** A put of {@code value} at {@code key}. */
  record Put(ByteString key, ByteString value) {}

  /** Of a Status reply: the answering member's id and the leader's member id. */
  record Status(long memberId, long leaderId) {}

  /**
   * {@code etcdserverpb.KV/Put}. PutRequest: key = 1 (bytes), value = 2 (bytes). PutResponse:
   * header = 1 (ResponseHeader: revision = 3); the reply is the revision the put created.
   */
  static final MethodDescriptor<Put, Long> PUT =
      MethodDescriptor.<Put, Long>newBuilder()
          .setType(MethodDescriptor.MethodType.UNARY)
          .setFullMethodName("etcdserverpb.KV/Put")
          .setRequestMarshaller(new Marshaller<>(EtcdKv::encodePut, null))
          .setResponseMarshaller(new Marshaller<>(null, EtcdKv::decodePutResponse))
          .build();

  /**
   * {@code etcdserverpb.Maintenance/Status}. StatusRequest has no fields. StatusResponse: header =
   * 1 (ResponseHeader: member_id = 2), leader = 4 (uint64).
   */
  static final MethodDescriptor<Boolean, Status> STATUS =
      MethodDescriptor.<Boolean, Status>newBuilder()
          .setType(MethodDescriptor.MethodType.UNARY)
          .setFullMethodName("etcdserverpb.Maintenance/Status")
          .setRequestMarshaller(new Marshaller<Boolean>(b -> new byte[0], null))
          .setResponseMarshaller(new Marshaller<>(null, EtcdKv::decodeStatus))
          .build();

  private static byte[] encodePut(Put p) {
    byte[] out =
        new byte
            [CodedOutputStream.computeBytesSize(1, p.key())
                + CodedOutputStream.computeBytesSize(2, p.value())];
    CodedOutputStream o = CodedOutputStream.newInstance(out);
    try {
      o.writeBytes(1, p.key());
      o.writeBytes(2, p.value());
      o.checkNoSpaceLeft();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out;
  }

  private static Long decodePutResponse(CodedInputStream in) throws IOException {
    long revision = 0;
    for (int tag = in.readTag(); tag != 0; tag = in.readTag()) {
      if (tag == (1 << 3 | 2)) {
        revision = headerField(in.readBytes().newCodedInput(), 3);
      } else {
        in.skipField(tag);
      }
    }
    return revision;
  }

  private static Status decodeStatus(CodedInputStream in) throws IOException {
    long member = 0;
    long leader = 0;
    for (int tag = in.readTag(); tag != 0; tag = in.readTag()) {
      if (tag == (1 << 3 | 2)) {
        member = headerField(in.readBytes().newCodedInput(), 2);
      } else if (tag == (4 << 3)) {
        leader = in.readUInt64();
      } else {
        in.skipField(tag);
      }
    }
    return new Status(member, leader);
  }

  /**
   * The varint field {@code number} of a ResponseHeader (cluster_id 1, member_id 2, revision 3).
   */
  private static long headerField(CodedInputStream in, int number) throws IOException {
    long value = 0;
    for (int tag = in.readTag(); tag != 0; tag = in.readTag()) {
      if (tag == (number << 3)) {
        value = in.readUInt64();
      } else {
        in.skipField(tag);
      }
    }
    return value;
  }

  private interface Decoder<T> {
    T decode(CodedInputStream in) throws IOException;
  }

  /** Encodes with a function to bytes, or decodes from the stream; each direction is used once. */
  private static final class Marshaller<T> implements MethodDescriptor.Marshaller<T> {
    private final java.util.function.Function<T, byte[]> encoder;
    private final Decoder<T> decoder;

    Marshaller(java.util.function.Function<T, byte[]> encoder, Decoder<T> decoder) {
      this.encoder = encoder;
      this.decoder = decoder;
    }

    @Override
    public InputStream stream(T value) {
      return new ByteArrayInputStream(encoder.apply(value));
    }

    @Override
    public T parse(InputStream stream) {
      try {
        return decoder.decode(CodedInputStream.newInstance(stream));
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  }
}
