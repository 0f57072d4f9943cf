package io.cairn.node.raft;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.InvalidProtocolBufferException;
import io.cairn.node.ledger.Caller;
import io.cairn.node.ledger.Ledger;
import io.cairn.node.ledger.LedgerLimits;
import io.cairn.node.merkle.MerkleTree;
import io.cairn.proto.Account;
import io.cairn.proto.CreateAccount;
import io.cairn.proto.Mint;
import io.cairn.proto.Operation;
import io.cairn.proto.Proof;
import io.cairn.proto.SnapshotHeader;
import io.cairn.proto.SubmitRequest;
import io.cairn.proto.Transfer;
import io.cairn.proto.verify.ProofVerifier;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * Issue 18, "fuzzing in the build": mutated bytes (bit flips, overwritten, inserted and deleted
 * bytes, truncation) of valid log entries, snapshot files and proofs. Each decoder either refuses
 * them with its declared exception or yields something that applies without an exception and keeps
 * the ledger's invariants; none throws anything else. A short run (a few hundred tries per
 * property) is part of scripts/test; raise {@code -Djqwik.tries.default} for a long campaign.
 */
class HostileBytesTest {
  private static final Caller ADMIN = new Caller("", true);
  private static final LedgerLimits LIMITS = new LedgerLimits(600_000, 10_000, 30_000, 10_000);

  /** One change to a byte array. */
  record Mutation(int kind, int position, byte value) {
    byte[] apply(byte[] in) {
      if (in.length == 0) {
        return new byte[] {value};
      }
      int at = Math.floorMod(position, in.length);
      switch (kind) {
        case 0 -> { // flip one bit
          byte[] out = in.clone();
          out[at] ^= (byte) (1 << Math.floorMod(value, 8));
          return out;
        }
        case 1 -> { // overwrite a byte
          byte[] out = in.clone();
          out[at] = value;
          return out;
        }
        case 2 -> { // insert a byte
          byte[] out = new byte[in.length + 1];
          System.arraycopy(in, 0, out, 0, at);
          out[at] = value;
          System.arraycopy(in, at, out, at + 1, in.length - at);
          return out;
        }
        case 3 -> { // delete a byte
          byte[] out = new byte[in.length - 1];
          System.arraycopy(in, 0, out, 0, at);
          System.arraycopy(in, at + 1, out, at, in.length - at - 1);
          return out;
        }
        default -> { // truncate
          return java.util.Arrays.copyOf(in, at);
        }
      }
    }
  }

  @Provide
  Arbitrary<List<Mutation>> mutations() {
    Arbitrary<Mutation> one =
        Combinators.combine(
                Arbitraries.integers().between(0, 4),
                Arbitraries.integers().between(0, 1 << 20),
                Arbitraries.bytes())
            .as(Mutation::new);
    return one.list().ofMinSize(1).ofMaxSize(8);
  }

  private static byte[] mutate(byte[] seed, List<Mutation> ms) {
    byte[] b = seed;
    for (Mutation m : ms) {
      b = m.apply(b);
    }
    return b;
  }

  private static Operation op(String id, Operation.Builder b) {
    return b.setId(id).setCreatedAtMillis(5_000).build();
  }

  private static SubmitRequest seedRequest() {
    return SubmitRequest.newBuilder()
        .addOperations(
            op(
                "c1",
                Operation.newBuilder()
                    .setCreateAccount(CreateAccount.newBuilder().setAccount("a"))))
        .addOperations(
            op(
                "c2",
                Operation.newBuilder()
                    .setCreateAccount(CreateAccount.newBuilder().setAccount("b"))))
        .addOperations(
            op(
                "m1",
                Operation.newBuilder().setMint(Mint.newBuilder().setAccount("a").setAmount(100))))
        .addOperations(
            op(
                "t1",
                Operation.newBuilder()
                    .setTransfer(Transfer.newBuilder().setFrom("a").setTo("b").setAmount(40))))
        .build();
  }

  private static final byte[] LOG_ENTRY = logEntry();

  private static byte[] logEntry() {
    SubmitRequest r = seedRequest();
    return LedgerCommand.of(5_000, List.of(r), List.of(r.toByteArray()), List.of(""), "admin")
        .getContent()
        .toByteArray();
  }

  @Property(tries = 400)
  void aLogEntryDecodesOrIsRefusedAndAppliesWithoutBreakingTheLedger(
      @ForAll("mutations") List<Mutation> ms) {
    byte[] bytes = mutate(LOG_ENTRY, ms);
    LedgerCommand command;
    try {
      command =
          LedgerCommand.decode(
              org.apache.ratis.thirdparty.com.google.protobuf.ByteString.copyFrom(bytes));
    } catch (InvalidProtocolBufferException refused) {
      return; // the node stops at such an entry (CorruptEntryTest)
    }
    Ledger ledger = new Ledger(LIMITS);
    long index = 1;
    for (int i = 0; i < command.requests().size(); i++) {
      SubmitRequest r = command.requests().get(i);
      ledger.apply(
          command.leaderTimeMillis(),
          index++,
          command.caller(i),
          r.getOperationsList(),
          r.getAtomic());
    }
    ledger.checkInvariants();
  }

  @Property(tries = 200)
  void aSnapshotFileLoadsVerifiedOrIsRefused(@ForAll("mutations") List<Mutation> ms)
      throws IOException {
    Path dir = Files.createTempDirectory("hostile-snapshot");
    try {
      Path file = dir.resolve("snapshot.1_1");
      Files.write(file, mutate(SNAPSHOT, ms));
      SnapshotFile.Loaded loaded;
      try {
        loaded = SnapshotFile.read(file, LIMITS);
      } catch (IOException refused) {
        return; // a checksum or format failure: the node does not load it
      }
      loaded.ledger().checkInvariants();
    } finally {
      try (var files = Files.list(dir)) {
        for (Path p : files.toList()) {
          Files.delete(p);
        }
      }
      Files.delete(dir);
    }
  }

  private static final byte[] SNAPSHOT = snapshot();

  private static byte[] snapshot() {
    try {
      Ledger ledger = new Ledger(LIMITS);
      ledger.apply(5_000, 1, ADMIN, seedRequest().getOperationsList(), false);
      Path dir = Files.createTempDirectory("seed-snapshot");
      Path file = dir.resolve("snapshot.1_1");
      SnapshotFile.write(
          file,
          SnapshotHeader.newBuilder()
              .setFormatVersion(SnapshotFile.FORMAT_VERSION)
              .setAppliedIndex(1)
              .setAppliedTerm(1)
              .build(),
          ledger.snapshotCopy());
      byte[] b = Files.readAllBytes(file);
      Files.delete(file);
      Files.delete(dir);
      return b;
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  private static final MerkleTree TREE = tree();
  private static final byte[] PROOF = TREE.prove("acct-7").toByteArray();

  private static MerkleTree tree() {
    List<Account> all = new ArrayList<>();
    for (int i = 0; i < 50; i++) {
      all.add(Account.newBuilder().setId("acct-" + i).setBalance(i * 10L).setVersion(1).build());
    }
    return MerkleTree.build(all, 64 << 10);
  }

  @Property(tries = 400)
  void aProofIsCheckedWithoutAnExceptionAndAChangedClaimNeverPasses(
      @ForAll("mutations") List<Mutation> ms) {
    byte[] bytes = mutate(PROOF, ms);
    Proof proof;
    try {
      proof = Proof.parseFrom(bytes);
    } catch (InvalidProtocolBufferException refused) {
      return;
    }
    ProofVerifier.Result r = ProofVerifier.verify(proof, TREE.root());
    if (r.valid()) {
      // A proof that still verifies must still say the same about the same account: a flipped
      // bit in a hash or a balance cannot pass.
      Proof original;
      try {
        original = Proof.parseFrom(PROOF);
      } catch (InvalidProtocolBufferException e) {
        throw new AssertionError(e);
      }
      assertTrue(
          sameClaim(original, proof),
          "a changed proof verified: " + proof + " (was " + original + ")");
    }
  }

  private static boolean sameClaim(Proof a, Proof b) {
    return a.getAccount().equals(b.getAccount())
        && a.getLeaf().equals(b.getLeaf())
        && a.getPresent() == b.getPresent();
  }
}
