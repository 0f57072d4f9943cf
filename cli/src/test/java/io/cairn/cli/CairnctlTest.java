package io.cairn.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.cairn.proto.ClusterStatusResponse;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class CairnctlTest {
  record Run(int code, String out, String err) {}

  static Run run(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int code = Cairnctl.run(args, new PrintWriter(out, true), new PrintWriter(err, true));
    return new Run(code, out.toString(), err.toString());
  }

  @Test
  void amountsAreUnsigned64BitDecimals() {
    assertEquals(-1L, Cairnctl.amount("18446744073709551615"));
    assertEquals(250, Cairnctl.amount("250"));
    assertThrows(IllegalArgumentException.class, () -> Cairnctl.amount("18446744073709551616"));
    assertThrows(IllegalArgumentException.class, () -> Cairnctl.amount("-1"));
    assertThrows(IllegalArgumentException.class, () -> Cairnctl.amount("0"));
    assertThrows(IllegalArgumentException.class, () -> Cairnctl.amount("ten"));
  }

  @Test
  void badInputExitsWithTwoAndOneLine() {
    Run r = run("mint", "alice", "ten");
    assertEquals(Cairnctl.USAGE, r.code());
    assertTrue(r.err().startsWith("cairnctl: amount 'ten'"), r.err());
    assertEquals(Cairnctl.USAGE, run("transfer", "alice").code());
    assertEquals(Cairnctl.USAGE, run("--no-such-flag", "summary").code());
    assertEquals(Cairnctl.USAGE, run("account").code());
  }

  @Test
  void aTransferIdNeedsItsCreationTime() {
    // An id alone would be stamped anew on each run, and a run after the ledger forgot the id
    // would apply a second time; refused before connecting.
    Run idOnly = run("--endpoint", "127.0.0.1:1", "transfer", "a", "b", "1", "--id", "pay-1");
    assertEquals(Cairnctl.USAGE, idOnly.code());
    assertTrue(idOnly.err().contains("--id and --created-at go together"), idOnly.err());
    Run timeOnly = run("--endpoint", "127.0.0.1:1", "transfer", "a", "b", "1", "--created-at", "5");
    assertEquals(Cairnctl.USAGE, timeOnly.code());
  }

  @Test
  void anUnreachableClusterExitsWithThree() {
    Run r = run("--plaintext", "--endpoint", "127.0.0.1:1", "--timeout", "1", "summary");
    assertEquals(Cairnctl.TRANSPORT, r.code());
    assertTrue(r.err().startsWith("cairnctl: "), r.err());
  }

  @Test
  void missingCertificatesAreABadSetUpThatNamesTheFile(
      @org.junit.jupiter.api.io.TempDir java.nio.file.Path empty) {
    Run r = run("--certs-dir", empty.toString(), "--endpoint", "127.0.0.1:1", "summary");
    assertEquals(Cairnctl.USAGE, r.code());
    assertTrue(r.err().contains(empty.resolve("ca.crt").toString()), r.err());
  }

  @Test
  void openLoopBenchNeedsARateAndBoundedSettings() {
    Run noRate = run("--endpoint", "127.0.0.1:1", "bench", "--open-loop");
    assertEquals(Cairnctl.USAGE, noRate.code());
    assertTrue(noRate.err().contains("--open-loop needs --rate"), noRate.err());
    assertEquals(
        Cairnctl.USAGE,
        run(
                "--endpoint",
                "127.0.0.1:1",
                "bench",
                "--open-loop",
                "--rate",
                "100",
                "--connections",
                "0")
            .code());
    Run help = run("bench", "--help");
    assertTrue(help.out().contains("--open-loop") && help.out().contains("--recovery"), help.out());
  }

  @Test
  void helpListsExitCodes() {
    Run r = run("--help");
    assertEquals(0, r.code());
    assertTrue(r.out().contains("Exit codes:"));
    assertTrue(r.out().contains("outcome unknown"));
  }

  @Test
  void everyCommandAnswersHelp() {
    Run r = run("bench-watch", "--help");
    assertEquals(0, r.code(), r.err());
    assertTrue(r.out().contains("--watchers"), r.out());
    assertEquals(0, run("transfer", "--help").code());
    assertEquals(0, run("cluster", "status", "--help").code());
  }

  @Test
  void benchWatchRefusesOutOfBoundsOptionsBeforeConnecting() {
    Run r = run("--endpoint", "127.0.0.1:1", "bench-watch", "--watchers", "0");
    assertEquals(Cairnctl.USAGE, r.code());
    assertTrue(r.err().contains("--watchers 1..20000"), r.err());
  }

  @Test
  void jsonPrintsUnsignedNumbersAndEscapesStrings() {
    Map<String, Object> o = Json.object();
    o.put("balance", Json.u64(-1L));
    o.put("name", "a\"b\\c\n");
    o.put("list", List.of(1, true));
    assertEquals(
        "{\"balance\": 18446744073709551615, \"name\": \"a\\\"b\\\\c\\n\", \"list\": [1, true]}",
        Json.write(o));
  }

  @Test
  void watchPrintsEachEntryAsTextOrOneJsonLine() {
    var entry =
        io.cairn.proto.WatchResponse.newBuilder()
            .setIndex(42)
            .setPrevIndex(40)
            .setTerm(2)
            .setNodeId("n2")
            .addEvents(
                io.cairn.proto.OperationEvent.newBuilder()
                    .setOperation(io.cairn.client.Ops.transfer("t1", "alice", "bob", 5))
                    .setResult(
                        io.cairn.proto.OperationResult.newBuilder()
                            .setId("t1")
                            .setCode(io.cairn.proto.ResultCode.OK)
                            .setAppliedIndex(42))
                    .addChanged(
                        io.cairn.proto.Account.newBuilder()
                            .setId("alice")
                            .setBalance(95)
                            .setVersion(3))
                    .addChanged(
                        io.cairn.proto.Account.newBuilder()
                            .setId("bob")
                            .setBalance(5)
                            .setVersion(2)))
            .build();
    String text = WatchCmd.text(entry);
    assertTrue(text.startsWith("index 42 (prev 40, term 2, from n2"), text);
    assertTrue(
        text.contains("transfer 5 alice -> bob  OK  [id t1]  alice=95 (v3)  bob=5 (v2)"), text);
    String json = Json.write(WatchCmd.json(entry));
    assertFalse(json.contains("\n"), json);
    assertTrue(json.startsWith("{\"index\": 42, \"prev_index\": 40,"), json);
    assertTrue(
        json.contains(
            "\"changed\": [{\"id\": \"alice\", \"balance\": 95, \"version\": 3, \"owner\": \"\"}"),
        json);
  }

  @Test
  void watchWithNoReachableNodeExitsWithThreeAndBadInputWithTwo() {
    Run r =
        run("--plaintext", "--endpoint", "127.0.0.1:1", "--timeout", "1", "watch", "--from", "1");
    assertEquals(Cairnctl.TRANSPORT, r.code(), r.err());
    assertEquals(Cairnctl.USAGE, run("watch", "--from", "-1").code());
    assertEquals(Cairnctl.USAGE, run("watch", "--from", "x").code());
  }

  static ClusterStatusResponse node(String id, String role, long index, int root) {
    return ClusterStatusResponse.newBuilder()
        .setNodeId(id)
        .setRole(role)
        .setAppliedIndex(index)
        .setStateRoot(ByteString.copyFrom(new byte[] {(byte) root}))
        .build();
  }

  @Test
  void clusterStatusFlagsDifferentRootsAtTheSameIndex() {
    var agree =
        new ClusterStatusView(
            List.of(
                new ClusterStatusView.Row("n1", "h:1", node("n1", "LEADER", 10, 1)),
                new ClusterStatusView.Row("n2", "h:2", node("n2", "FOLLOWER", 9, 2)),
                new ClusterStatusView.Row("n3", "h:3", null)));
    assertTrue(agree.rootsAgree(), "different indexes may have different roots");
    String json = Json.write(agree.json());
    assertTrue(json.contains("\"role\": \"LEADER\""), json);
    assertTrue(json.contains("\"reachable\": false"), json);
    var disagree =
        new ClusterStatusView(
            List.of(
                new ClusterStatusView.Row("n1", "h:1", node("n1", "LEADER", 10, 1)),
                new ClusterStatusView.Row("n2", "h:2", node("n2", "FOLLOWER", 10, 2))));
    assertFalse(disagree.rootsAgree());
    assertTrue(disagree.text().contains("WARNING"));
    assertTrue(Json.write(disagree.json()).contains("\"root_agreement\": false"));
  }

  @Test
  void rolesAreTypedInAnyCaseAndABadOneIsAUsageErrorBeforeConnecting() {
    assertEquals(io.cairn.proto.Role.ADMIN, RoleCmds.role("Admin"));
    assertEquals(io.cairn.proto.Role.ISSUER, RoleCmds.role("ISSUER"));
    assertEquals(io.cairn.proto.Role.MEMBER, RoleCmds.role("member"));
    Run r = run("--endpoint", "127.0.0.1:1", "role", "grant", "mo", "owner");
    assertEquals(Cairnctl.USAGE, r.code());
    assertTrue(r.err().contains("role 'owner' is not one of admin, issuer, member"), r.err());
    assertEquals(Cairnctl.USAGE, run("role").code());
    assertEquals(Cairnctl.USAGE, run("role", "revoke", "mo").code());
    assertEquals(0, run("role", "list", "--help").code());
    assertTrue(run("account", "create", "--help").out().contains("--owner"));
  }

  @Test
  void roleListPrintsEachPrincipalWithItsRoles() {
    var r =
        io.cairn.proto.ListRolesResponse.newBuilder()
            .addGrants(
                io.cairn.proto.RoleGrant.newBuilder()
                    .setPrincipal("ann")
                    .addRoles(io.cairn.proto.Role.ADMIN)
                    .addRoles(io.cairn.proto.Role.ISSUER))
            .addGrants(
                io.cairn.proto.RoleGrant.newBuilder()
                    .setPrincipal("mo")
                    .addRoles(io.cairn.proto.Role.MEMBER))
            .setNextStartAfter("mo")
            .build();
    String text = RoleCmds.RoleList.text(r);
    assertTrue(text.matches("(?s)ann +admin, issuer\nmo +member\n\\(more: --after mo\\).*"), text);
    String json = Json.write(RoleCmds.RoleList.json(r));
    assertTrue(
        json.startsWith(
            "{\"grants\": [{\"principal\": \"ann\", \"roles\": [\"admin\", \"issuer\"]}, "),
        json);
    assertTrue(json.contains("\"next_start_after\": \"mo\""), json);
  }

  @Test
  void operationsOwnersAndPrincipalsAreShownInWords() {
    assertEquals(
        "grant issuer to mo",
        Views.describe(io.cairn.client.Ops.grantRole("g", "mo", io.cairn.proto.Role.ISSUER)));
    assertEquals(
        "revoke member from mo",
        Views.describe(io.cairn.client.Ops.revokeRole("r", "mo", io.cairn.proto.Role.MEMBER)));
    assertEquals(
        "create a (owner mo)", Views.describe(io.cairn.client.Ops.createAccount("c", "a", "mo")));
    assertEquals("create a", Views.describe(io.cairn.client.Ops.createAccount("c", "a")));
    var entry =
        io.cairn.proto.WatchResponse.newBuilder()
            .setIndex(7)
            .addEvents(
                io.cairn.proto.OperationEvent.newBuilder()
                    .setOperation(io.cairn.client.Ops.transfer("t1", "a", "b", 5))
                    .setResult(
                        io.cairn.proto.OperationResult.newBuilder()
                            .setId("t1")
                            .setCode(io.cairn.proto.ResultCode.PERMISSION_DENIED))
                    .setPrincipal("mo"))
            .build();
    assertTrue(
        WatchCmd.text(entry).contains("transfer 5 a -> b  PERMISSION_DENIED  [id t1 by mo]"),
        WatchCmd.text(entry));
    assertTrue(Json.write(WatchCmd.json(entry)).contains("\"principal\": \"mo\""));
  }
}
