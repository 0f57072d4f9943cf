package io.cairn.node.raft;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.cairn.proto.LogEntry;
import io.cairn.proto.Mint;
import io.cairn.proto.Operation;
import io.cairn.proto.SubmitRequest;
import io.cairn.proto.Transfer;
import java.util.ArrayList;
import java.util.List;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.LongRange;
import org.junit.jupiter.api.Test;

class LedgerCommandTest {
  private static SubmitRequest request(int n, long amount, boolean atomic) {
    SubmitRequest.Builder b = SubmitRequest.newBuilder().setAtomic(atomic);
    for (int i = 0; i < n; i++) {
      b.addOperations(
          Operation.newBuilder()
              .setId("op-" + n + "-" + i)
              .setCreatedAtMillis(1_700_000_000_000L + i)
              .setTransfer(Transfer.newBuilder().setFrom("a" + i).setTo("b").setAmount(amount)));
    }
    return b.build();
  }

  @Property(tries = 200)
  void entryBytesFromClientBytesAreTheLogEntryEncoding(
      @ForAll @IntRange(min = 0, max = 8) int requests,
      @ForAll @LongRange(min = 1) long amount,
      @ForAll long leaderTime,
      @ForAll boolean withBootstrapAdmin) {
    List<SubmitRequest> parsed = new ArrayList<>();
    List<byte[]> raw = new ArrayList<>();
    List<String> principals = new ArrayList<>();
    for (int r = 0; r < requests; r++) {
      SubmitRequest q = request(r, amount + r, r % 2 == 0);
      parsed.add(q);
      raw.add(q.toByteArray());
      principals.add(r % 3 == 0 ? "" : "alice-" + r);
    }
    String admin = withBootstrapAdmin ? "admin" : "";
    LedgerCommand command = LedgerCommand.of(leaderTime, parsed, raw, principals, admin);
    byte[] expected =
        LogEntry.newBuilder()
            .setLeaderTimeMillis(leaderTime)
            .addAllRequests(parsed)
            .addAllPrincipals(principals)
            .setBootstrapAdmin(admin)
            .build()
            .toByteArray();
    assertArrayEquals(expected, command.getContent().toByteArray());
  }

  @Test
  void aFollowerDecodesWhatTheLeaderBuilt() throws Exception {
    SubmitRequest empty = SubmitRequest.getDefaultInstance();
    SubmitRequest mint =
        SubmitRequest.newBuilder()
            .addOperations(
                Operation.newBuilder()
                    .setId("m1")
                    .setCreatedAtMillis(5)
                    .setMint(Mint.newBuilder().setAccount("a").setAmount(-1L)))
            .build();
    LedgerCommand built =
        LedgerCommand.of(
            42,
            List.of(empty, mint),
            List.of(new byte[0], mint.toByteArray()),
            List.of("", "bob"),
            "admin");
    LedgerCommand decoded = LedgerCommand.decode(built.getContent());
    assertEquals(42, decoded.leaderTimeMillis());
    assertEquals(List.of(empty, mint), decoded.requests());
    assertEquals("", decoded.principal(0));
    assertEquals("bob", decoded.principal(1));
    assertEquals("admin", decoded.bootstrapAdmin());
  }

  @Test
  void anEntryFromBeforePrincipalsCountsEveryRequestAsNobody() throws Exception {
    SubmitRequest mint = request(1, 5, false);
    LogEntry old = LogEntry.newBuilder().setLeaderTimeMillis(7).addRequests(mint).build();
    LedgerCommand decoded =
        LedgerCommand.decode(
            org.apache.ratis.thirdparty.com.google.protobuf.ByteString.copyFrom(old.toByteArray()));
    assertEquals("", decoded.principal(0));
    assertEquals("", decoded.bootstrapAdmin());
    // Before principals, every caller could do everything: replay decides as it did then.
    assertEquals(new io.cairn.node.ledger.Caller("", true), decoded.caller(0));
  }

  @Test
  void aRecordedEmptyPrincipalIsNobodyNotTheBootstrapAdmin() throws Exception {
    SubmitRequest mint = request(1, 5, false);
    LedgerCommand built =
        LedgerCommand.of(1, List.of(mint), List.of(mint.toByteArray()), List.of(""), "admin");
    LedgerCommand decoded = LedgerCommand.decode(built.getContent());
    assertEquals(new io.cairn.node.ledger.Caller("", false), decoded.caller(0));
    assertEquals(new io.cairn.node.ledger.Caller("", false), built.caller(0));
  }
}
