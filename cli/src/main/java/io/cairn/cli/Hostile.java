package io.cairn.cli;

import io.cairn.proto.ClusterStatusRequest;
import io.cairn.proto.Consistency;
import io.cairn.proto.CreateAccount;
import io.cairn.proto.GetAccountRequest;
import io.cairn.proto.GetTransferRequest;
import io.cairn.proto.GrantRole;
import io.cairn.proto.LedgerServiceGrpc;
import io.cairn.proto.ListAccountsRequest;
import io.cairn.proto.Mint;
import io.cairn.proto.Operation;
import io.cairn.proto.ReadOptions;
import io.cairn.proto.Role;
import io.cairn.proto.SubmitRequest;
import io.cairn.proto.Transfer;
import io.cairn.proto.wire.RawBytes;
import io.grpc.MethodDescriptor;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The hostile calls {@code cairnctl fuzz} sends: a method of the ledger service and the bytes sent
 * to it. Every one must be refused, or its operations refused by result code, when sent by a
 * principal that holds no role.
 */
record Hostile(MethodDescriptor<byte[], byte[]> method, byte[] bytes) {
  private static final List<MethodDescriptor<byte[], byte[]>> UNARY = unaryMethods();
  private static final MethodDescriptor<byte[], byte[]> SUBMIT =
      RawBytes.method(LedgerServiceGrpc.getSubmitMethod());

  static Hostile next(SplittableRandom rnd) {
    return switch (rnd.nextInt(6)) {
      case 0 -> new Hostile(UNARY.get(rnd.nextInt(UNARY.size())), noise(rnd));
      case 1 -> new Hostile(SUBMIT, mutate(seed(rnd).toByteArray(), rnd));
      case 2 -> new Hostile(SUBMIT, withUnknownField(seed(rnd).toByteArray(), rnd));
      case 3 -> new Hostile(SUBMIT, seed(rnd).toByteArray()); // denied: no role
      case 4 -> hostileRead(rnd);
      default -> new Hostile(SUBMIT, outOfRange(rnd).toByteArray());
    };
  }

  private static byte[] noise(SplittableRandom rnd) {
    byte[] b = new byte[rnd.nextInt(512)];
    rnd.nextBytes(b);
    return b;
  }

  private static byte[] mutate(byte[] in, SplittableRandom rnd) {
    byte[] b = in.clone();
    int n = 1 + rnd.nextInt(4);
    for (int i = 0; i < n && b.length > 0; i++) {
      b[rnd.nextInt(b.length)] ^= (byte) (1 << rnd.nextInt(8));
    }
    return rnd.nextBoolean() ? b : java.util.Arrays.copyOf(b, rnd.nextInt(b.length + 1));
  }

  private static byte[] withUnknownField(byte[] in, SplittableRandom rnd) {
    byte[] b = java.util.Arrays.copyOf(in, in.length + 3);
    b[in.length] = (byte) ((20 + rnd.nextInt(80)) << 3); // a varint field no message defines
    b[in.length + 1] = (byte) 0x81; // an overlong 1
    b[in.length + 2] = 0x00;
    return b;
  }

  private static Operation.Builder op(SplittableRandom rnd) {
    return Operation.newBuilder()
        .setId("fz-" + Long.toHexString(rnd.nextLong()))
        .setCreatedAtMillis(System.currentTimeMillis());
  }

  private static SubmitRequest seed(SplittableRandom rnd) {
    Operation.Builder o = op(rnd);
    switch (rnd.nextInt(4)) {
      case 0 -> o.setCreateAccount(CreateAccount.newBuilder().setAccount("fz-acct"));
      case 1 -> o.setMint(Mint.newBuilder().setAccount("fz-acct").setAmount(1 + rnd.nextInt(9)));
      case 2 -> o.setTransfer(Transfer.newBuilder().setFrom("fz-a").setTo("fz-b").setAmount(1));
      default -> o.setGrantRole(GrantRole.newBuilder().setPrincipal("fuzzer").setRole(Role.ADMIN));
    }
    return SubmitRequest.newBuilder().addOperations(o).setAtomic(rnd.nextBoolean()).build();
  }

  private static SubmitRequest outOfRange(SplittableRandom rnd) {
    Operation.Builder o = op(rnd);
    switch (rnd.nextInt(5)) {
      case 0 -> o.setId("bad id " + rnd.nextInt()).setMint(Mint.newBuilder().setAccount("x"));
      case 1 -> o.setMint(Mint.newBuilder().setAccount("x").setAmount(-1L)); // 2^64 - 1
      case 2 -> o.setCreatedAtMillis(Long.MAX_VALUE).setMint(Mint.newBuilder().setAccount("x"));
      case 3 -> o.setCreateAccount(CreateAccount.newBuilder().setAccount("a".repeat(65)));
      default -> {
        return SubmitRequest.getDefaultInstance(); // empty
      }
    }
    return SubmitRequest.newBuilder().addOperations(o).build();
  }

  private static Hostile hostileRead(SplittableRandom rnd) {
    ReadOptions far =
        ReadOptions.newBuilder()
            .setConsistency(rnd.nextBoolean() ? Consistency.STALE : Consistency.LINEARIZABLE)
            .setMinAppliedIndex(Long.MAX_VALUE - rnd.nextInt(10))
            .build();
    return switch (rnd.nextInt(4)) {
      case 0 ->
          new Hostile(
              RawBytes.method(LedgerServiceGrpc.getGetAccountMethod()),
              GetAccountRequest.newBuilder().setAccount("x").setRead(far).build().toByteArray());
      case 1 ->
          new Hostile(
              RawBytes.method(LedgerServiceGrpc.getListAccountsMethod()),
              ListAccountsRequest.newBuilder().setLimit(-1).build().toByteArray());
      case 2 ->
          new Hostile(
              RawBytes.method(LedgerServiceGrpc.getGetTransferMethod()),
              GetTransferRequest.newBuilder().setId("").build().toByteArray());
      default ->
          new Hostile(
              RawBytes.method(LedgerServiceGrpc.getClusterStatusMethod()),
              ClusterStatusRequest.getDefaultInstance().toByteArray());
    };
  }

  private static List<MethodDescriptor<byte[], byte[]>> unaryMethods() {
    List<MethodDescriptor<byte[], byte[]>> out = new ArrayList<>();
    for (MethodDescriptor<?, ?> m : LedgerServiceGrpc.getServiceDescriptor().getMethods()) {
      if (m.getType() == MethodDescriptor.MethodType.UNARY) {
        out.add(RawBytes.method(m));
      }
    }
    return out;
  }
}
