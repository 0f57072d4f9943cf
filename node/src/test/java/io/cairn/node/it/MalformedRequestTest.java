package io.cairn.node.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cairn.proto.ClusterStatusRequest;
import io.cairn.proto.ErrorDetail;
import io.cairn.proto.GetAccountRequest;
import io.cairn.proto.LedgerServiceGrpc;
import io.cairn.proto.Mint;
import io.cairn.proto.Operation;
import io.cairn.proto.SubmitRequest;
import io.cairn.proto.Transfer;
import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.protobuf.ProtoUtils;
import io.grpc.stub.ClientCalls;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 3, acceptance 5: malformed and oversized requests sent raw through gRPC (not through the
 * client) get INVALID_ARGUMENT with a message naming the problem, and the node stays up.
 */
class MalformedRequestTest {
  @TempDir static Path data;
  static LocalCluster cluster;
  static ManagedChannel channel;
  static LedgerServiceGrpc.LedgerServiceBlockingStub stub;

  static final Metadata.Key<ErrorDetail> DETAIL =
      Metadata.Key.of(
          "cairn-error-bin", ProtoUtils.metadataMarshaller(ErrorDetail.getDefaultInstance()));

  @BeforeAll
  static void up() throws Exception {
    cluster = new LocalCluster("malformed", 1, data, Map.of()).start();
    channel =
        NettyChannelBuilder.forTarget(cluster.endpoint(1))
            .sslContext(cluster.clientTls("admin"))
            .maxInboundMessageSize(64 << 20)
            .build();
    stub = LedgerServiceGrpc.newBlockingStub(channel);
  }

  @AfterAll
  static void down() throws Exception {
    if (channel != null) {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
    if (cluster != null) {
      cluster.close();
    }
  }

  private static Operation.Builder op(String id) {
    return Operation.newBuilder().setId(id).setCreatedAtMillis(System.currentTimeMillis());
  }

  private static StatusRuntimeException submitFails(SubmitRequest request) {
    return assertThrows(
        StatusRuntimeException.class,
        () -> stub.withDeadlineAfter(10, TimeUnit.SECONDS).submit(request));
  }

  private static void assertInvalid(StatusRuntimeException e, String mentions) {
    assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode(), e.toString());
    assertTrue(
        e.getStatus().getDescription().contains(mentions),
        "'" + e.getStatus().getDescription() + "' does not mention " + mentions);
    ErrorDetail d = e.getTrailers().get(DETAIL);
    assertEquals(ErrorDetail.Kind.INVALID_REQUEST, d.getKind());
  }

  @Test
  void badFieldsAreNamed() {
    assertInvalid(submitFails(SubmitRequest.getDefaultInstance()), "operations");
    assertInvalid(
        submitFails(SubmitRequest.newBuilder().addOperations(op("bad id!")).build()),
        "operations[0].id");
    assertInvalid(
        submitFails(
            SubmitRequest.newBuilder()
                .addOperations(
                    Operation.newBuilder()
                        .setId("x1")
                        .setMint(Mint.newBuilder().setAccount("a").setAmount(1)))
                .build()),
        "operations[0].created_at_millis");
    assertInvalid(
        submitFails(
            SubmitRequest.newBuilder()
                .addOperations(op("x2").setMint(Mint.newBuilder().setAccount("a")))
                .build()),
        "operations[0].mint.amount");
    assertInvalid(
        submitFails(
            SubmitRequest.newBuilder()
                .addOperations(op("x3").setMint(Mint.newBuilder().setAccount("a").setAmount(1)))
                .addOperations(
                    op("x4")
                        .setTransfer(Transfer.newBuilder().setFrom("a").setTo("a").setAmount(1)))
                .build()),
        "operations[1].transfer.to");
    assertInvalid(submitFails(SubmitRequest.newBuilder().addOperations(op("x5")).build()), "kind");
    var tooMany = SubmitRequest.newBuilder();
    for (int i = 0; i < 1001; i++) {
      tooMany.addOperations(op("m" + i).setMint(Mint.newBuilder().setAccount("a").setAmount(1)));
    }
    assertInvalid(submitFails(tooMany.build()), "limit per request is 1000");
    StatusRuntimeException read =
        assertThrows(
            StatusRuntimeException.class,
            () ->
                stub.withDeadlineAfter(10, TimeUnit.SECONDS)
                    .getAccount(GetAccountRequest.newBuilder().setAccount("").build()));
    assertInvalid(read, "account");
    assertNodeUp();
  }

  @Test
  void oversizedRequestsAreRefusedAsInvalid() {
    String huge = "a".repeat(1_500_000);
    StatusRuntimeException overAppLimit =
        submitFails(
            SubmitRequest.newBuilder()
                .addOperations(
                    op("big")
                        .setCreateAccount(
                            io.cairn.proto.CreateAccount.newBuilder().setAccount(huge)))
                .build());
    assertInvalid(overAppLimit, "limit is 1048576");
    StatusRuntimeException overAppLimitRaw = rawSubmit(new byte[3 << 20]);
    assertInvalid(overAppLimitRaw, "limit is 1048576");
    // Past 4x the limit gRPC stops reading before our code sees a byte (README, "Errors").
    StatusRuntimeException overTransport = rawSubmit(new byte[5 << 20]);
    assertEquals(Status.Code.RESOURCE_EXHAUSTED, overTransport.getStatus().getCode());
    assertNodeUp();
  }

  @Test
  void garbageBytesAreRefusedAsMalformed() {
    byte[] garbage = new byte[64];
    for (int i = 0; i < garbage.length; i++) {
      garbage[i] = (byte) (0xFF - i);
    }
    assertInvalid(rawSubmit(garbage), "malformed");
    assertNodeUp();
  }

  private static StatusRuntimeException rawSubmit(byte[] body) {
    MethodDescriptor<byte[], byte[]> raw =
        MethodDescriptor.<byte[], byte[]>newBuilder()
            .setType(MethodDescriptor.MethodType.UNARY)
            .setFullMethodName(LedgerServiceGrpc.getSubmitMethod().getFullMethodName())
            .setRequestMarshaller(new Bytes())
            .setResponseMarshaller(new Bytes())
            .build();
    return assertThrows(
        StatusRuntimeException.class,
        () ->
            ClientCalls.blockingUnaryCall(
                channel, raw, CallOptions.DEFAULT.withDeadlineAfter(10, TimeUnit.SECONDS), body));
  }

  private static void assertNodeUp() {
    var s =
        stub.withDeadlineAfter(5, TimeUnit.SECONDS)
            .clusterStatus(ClusterStatusRequest.getDefaultInstance());
    assertEquals("n1", s.getNodeId());
  }

  static final class Bytes implements MethodDescriptor.Marshaller<byte[]> {
    @Override
    public InputStream stream(byte[] value) {
      return new ByteArrayInputStream(value);
    }

    @Override
    public byte[] parse(InputStream stream) {
      try {
        return stream.readAllBytes();
      } catch (IOException e) {
        throw new IllegalStateException(e);
      }
    }
  }
}
