package io.cairn.node.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnknownFieldSet;
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
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
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

  /**
   * Issue 18: the inbound limit is the request limit, so gRPC refuses an oversized request from its
   * length prefix and the node never buffers more than the limit for a half-sent one.
   */
  @Test
  void oversizedRequestsAreRefusedBeforeTheyAreBuffered() {
    String huge = "a".repeat(1_500_000);
    StatusRuntimeException overAppLimit =
        submitFails(
            SubmitRequest.newBuilder()
                .addOperations(
                    op("big")
                        .setCreateAccount(
                            io.cairn.proto.CreateAccount.newBuilder().setAccount(huge)))
                .build());
    assertEquals(Status.Code.RESOURCE_EXHAUSTED, overAppLimit.getStatus().getCode());
    assertTrue(
        overAppLimit.getStatus().getDescription().contains("1048576"), overAppLimit.toString());
    assertNull(io.cairn.proto.errors.Errors.detailOf(overAppLimit), "gRPC's own refusal");
    StatusRuntimeException justOver = rawSubmit(new byte[(1 << 20) + 1]);
    assertEquals(Status.Code.RESOURCE_EXHAUSTED, justOver.getStatus().getCode());
    StatusRuntimeException fiveMiB = rawSubmit(new byte[5 << 20]);
    assertEquals(Status.Code.RESOURCE_EXHAUSTED, fiveMiB.getStatus().getCode());
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

  @Test
  void unknownFieldsAreRefusedAndNamed() {
    // protobuf-java keeps unknown fields and would carry them into the log; 512 KiB of them in
    // an operation (under the request limit, so the size check does not catch it) is refused.
    Operation withJunk =
        op("junk-1")
            .setMint(Mint.newBuilder().setAccount("a").setAmount(1))
            .setUnknownFields(
                UnknownFieldSet.newBuilder()
                    .addField(
                        99,
                        UnknownFieldSet.Field.newBuilder()
                            .addLengthDelimited(ByteString.copyFrom(new byte[512 << 10]))
                            .build())
                    .build())
            .build();
    assertInvalid(
        submitFails(SubmitRequest.newBuilder().addOperations(withJunk).build()),
        "unknown field operations[0].#99");
    assertNodeUp();
  }

  @Test
  void overlongAndOverflowingVarintsAreRefused() throws IOException {
    // amount = 1 written in two bytes, and amount = 2^64 in ten (protobuf-java reads the latter
    // modulo 2^64; other decoders refuse it): neither may reach the log.
    byte[] overlongOne = {(byte) 0x81, 0x00};
    byte[] twoTo64 = {
      (byte) 0x80,
      (byte) 0x80,
      (byte) 0x80,
      (byte) 0x80,
      (byte) 0x80,
      (byte) 0x80,
      (byte) 0x80,
      (byte) 0x80,
      (byte) 0x80,
      0x02
    };
    for (byte[] amount : List.of(overlongOne, twoTo64)) {
      assertInvalid(rawSubmit(mintWithRawAmount(amount)), "not canonical");
    }
    assertNodeUp();
  }

  @Test
  void aListLimitOf2To31OrMoreIsCappedNotAnError() {
    // limit is a uint32: 2^32 - 1 arrives in Java as -1.
    var page =
        stub.withDeadlineAfter(10, TimeUnit.SECONDS)
            .listAccounts(io.cairn.proto.ListAccountsRequest.newBuilder().setLimit(-1).build());
    assertTrue(page.getAccountsCount() <= 1000);
    var roles =
        stub.withDeadlineAfter(10, TimeUnit.SECONDS)
            .listRoles(io.cairn.proto.ListRolesRequest.newBuilder().setLimit(1 << 31).build());
    assertTrue(roles.getGrantsCount() <= 1000);
  }

  @Test
  void aWatchFromFarPastTheLogIsOutOfRange() {
    var it =
        stub.withDeadlineAfter(10, TimeUnit.SECONDS)
            .watch(io.cairn.proto.WatchRequest.newBuilder().setFromIndex(1L << 40).build());
    StatusRuntimeException e = assertThrows(StatusRuntimeException.class, it::hasNext);
    assertEquals(Status.Code.OUT_OF_RANGE, e.getStatus().getCode(), e.toString());
    assertTrue(e.getStatus().getDescription().contains("watch.max.ahead.entries"), e.toString());
  }

  @Test
  void oneClientCannotTakeEveryWatchStream() throws Exception {
    // watch.max.watchers.per.principal is 100 by default (watch.max.watchers 1,000).
    var async = LedgerServiceGrpc.newStub(channel);
    List<io.grpc.stub.ClientCallStreamObserver<?>> open = new java.util.ArrayList<>();
    java.util.concurrent.CompletableFuture<Status> refused =
        new java.util.concurrent.CompletableFuture<>();
    try {
      for (int i = 0; i < 101; i++) {
        async.watch(
            io.cairn.proto.WatchRequest.getDefaultInstance(),
            new io.grpc.stub.ClientResponseObserver<
                io.cairn.proto.WatchRequest, io.cairn.proto.WatchResponse>() {
              @Override
              public void beforeStart(
                  io.grpc.stub.ClientCallStreamObserver<io.cairn.proto.WatchRequest> call) {
                synchronized (open) {
                  open.add(call);
                }
              }

              @Override
              public void onNext(io.cairn.proto.WatchResponse r) {}

              @Override
              public void onError(Throwable t) {
                refused.complete(Status.fromThrowable(t));
              }

              @Override
              public void onCompleted() {}
            });
      }
      Status s = refused.get(10, TimeUnit.SECONDS);
      assertEquals(Status.Code.RESOURCE_EXHAUSTED, s.getCode(), s.toString());
      assertTrue(s.getDescription().contains("per.principal"), s.toString());
    } finally {
      synchronized (open) {
        open.forEach(c -> c.cancel("test over", null));
      }
    }
  }

  /** A Submit of one mint of account "a" whose amount varint is {@code amount}, as given. */
  private static byte[] mintWithRawAmount(byte[] amount) throws IOException {
    java.io.ByteArrayOutputStream mint = new java.io.ByteArrayOutputStream();
    mint.write(new byte[] {0x0A, 0x01, 'a', 0x10}); // account = "a", then field 2 (amount)
    mint.write(amount);
    byte[] head = op("raw-1").build().toByteArray(); // id and created_at, canonical
    java.io.ByteArrayOutputStream operation = new java.io.ByteArrayOutputStream();
    operation.write(head);
    operation.write(new byte[] {(byte) 0x5A, (byte) mint.size()}); // field 11 (mint)
    mint.writeTo(operation);
    java.io.ByteArrayOutputStream request = new java.io.ByteArrayOutputStream();
    request.write(new byte[] {0x0A, (byte) operation.size()}); // field 1 (operations)
    operation.writeTo(request);
    return request.toByteArray();
  }

  private static StatusRuntimeException rawSubmit(byte[] body) {
    MethodDescriptor<byte[], byte[]> raw =
        io.cairn.proto.wire.RawBytes.method(LedgerServiceGrpc.getSubmitMethod());
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
}
