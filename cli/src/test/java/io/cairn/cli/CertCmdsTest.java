package io.cairn.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cairn.cli.CairnctlTest.Run;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CertCmdsTest {
  @TempDir Path dir;

  Run cert(String... args) {
    String[] all = new String[args.length + 3];
    all[0] = "cert";
    System.arraycopy(args, 0, all, 1, args.length);
    all[args.length + 1] = "--dir";
    all[args.length + 2] = dir.toString();
    return CairnctlTest.run(all);
  }

  @Test
  void createCaWritesTheCaFilesAndPrintsThemButNoKey() throws Exception {
    Run r = cert("create-ca");
    assertEquals(0, r.code(), r.err());
    assertTrue(r.out().contains("wrote " + dir.resolve("ca.crt")), r.out());
    assertTrue(r.out().contains("wrote " + dir.resolve("ca.key")), r.out());
    assertTrue(r.out().contains("CN=Cairn CA,O=Cairn"), r.out());
    assertFalse(r.out().contains("PRIVATE KEY"), "a key is never printed");
    assertTrue(Files.readString(dir.resolve("ca.key")).startsWith("-----BEGIN PRIVATE KEY-----"));
  }

  @Test
  void createNodeWritesItsPairAndPrintsItsSans() {
    assertEquals(0, cert("create-ca").code());
    Run r = cert("create-node", "n1", "localhost", "127.0.0.1");
    assertEquals(0, r.code(), r.err());
    assertTrue(
        Files.exists(dir.resolve("node.n1.crt")) && Files.exists(dir.resolve("node.n1.key")));
    assertTrue(r.out().contains("wrote " + dir.resolve("node.n1.crt")), r.out());
    assertTrue(r.out().contains("SANs localhost, 127.0.0.1"), r.out());
    assertTrue(r.out().contains("CN=node:n1,O=Cairn"), r.out());
  }

  @Test
  void createClientWritesItsPair() {
    assertEquals(0, cert("create-ca").code());
    Run r = CairnctlTest.run("--json", "cert", "create-client", "admin", "--dir", dir.toString());
    assertEquals(0, r.code(), r.err());
    assertTrue(r.out().startsWith("{\"files\": [\""), r.out());
    assertTrue(r.out().contains("\"subject\": \"CN=admin,O=Cairn\""), r.out());
    assertTrue(Files.exists(dir.resolve("client.admin.crt")));
    assertTrue(Files.exists(dir.resolve("client.admin.key")));
  }

  @Test
  void anExistingFileIsAnErrorUnlessOverwriteIsGiven() {
    assertEquals(0, cert("create-ca").code());
    Run again = cert("create-ca");
    assertEquals(Cairnctl.LEDGER_CODE, again.code());
    assertEquals(
        "cairnctl: " + dir.resolve("ca.crt") + " exists: use --overwrite to replace it",
        again.err().strip());
    assertEquals(0, cert("create-ca", "--overwrite").code());
    assertEquals(0, cert("create-node", "n1", "localhost").code());
    assertEquals(Cairnctl.LEDGER_CODE, cert("create-node", "n1", "localhost").code());
    assertEquals(0, cert("create-node", "n1", "localhost", "--overwrite").code());
  }

  @Test
  void issuingWithoutACaSaysHowToMakeOne() {
    Run r = cert("create-client", "admin");
    assertEquals(Cairnctl.LEDGER_CODE, r.code());
    assertTrue(r.err().contains("ca.crt not found: make a CA first"), r.err());
  }

  @Test
  void badInputIsAUsageError() {
    assertEquals(0, cert("create-ca").code());
    Run nodeName = cert("create-client", "node-x");
    assertEquals(Cairnctl.USAGE, nodeName.code());
    assertTrue(nodeName.err().startsWith("cairnctl: client name 'node-x'"), nodeName.err());
    assertEquals(Cairnctl.USAGE, cert("create-client", "a b").code());
    assertEquals(Cairnctl.USAGE, cert("create-node", "n1").code(), "a node needs a host");
    assertEquals(Cairnctl.USAGE, cert("create-client", "bob", "--days", "0").code());
    assertEquals(Cairnctl.USAGE, CairnctlTest.run("cert").code());
  }

  @Test
  void listShowsEachCertsKindNameAndWhetherItChains(@TempDir Path other) throws Exception {
    assertEquals(0, cert("create-ca").code());
    assertEquals(0, cert("create-node", "n1", "localhost", "127.0.0.1").code());
    assertEquals(0, cert("create-client", "admin").code());
    assertEquals(0, CairnctlTest.run("cert", "create-ca", "--dir", other.toString()).code());
    assertEquals(
        0, CairnctlTest.run("cert", "create-client", "stranger", "--dir", other.toString()).code());
    Files.copy(other.resolve("client.stranger.crt"), dir.resolve("client.stranger.crt"));
    Run text = cert("list");
    assertEquals(0, text.code(), text.err());
    String[] lines = text.out().strip().split("\\R");
    assertEquals(4, lines.length, text.out());
    assertTrue(lines[0].matches("ca\\.crt +ca +Cairn CA +until .* chains to ca\\.crt"), lines[0]);
    assertTrue(
        lines[1].matches("client\\.admin\\.crt +client +admin .* chains to ca\\.crt"), lines[1]);
    assertTrue(lines[2].contains("DOES NOT CHAIN"), lines[2]);
    assertTrue(
        lines[3].matches("node\\.n1\\.crt +node +node:n1 .*SANs localhost,127\\.0\\.0\\.1"),
        lines[3]);
    Run json = CairnctlTest.run("--json", "cert", "list", "--dir", dir.toString());
    assertEquals(0, json.code(), json.err());
    assertTrue(json.out().contains("\"kind\": \"node\", \"cn\": \"node:n1\""), json.out());
    assertTrue(json.out().contains("\"sans\": [\"localhost\", \"127.0.0.1\"]"), json.out());
    assertTrue(json.out().contains("\"chains_to_ca\": false"), json.out());
  }

  @Test
  void everyCertCommandAnswersHelpNamingTheFilesItWrites() {
    assertTrue(CairnctlTest.run("cert", "create-ca", "--help").out().contains("DIR/ca.key"));
    assertTrue(
        CairnctlTest.run("cert", "create-node", "--help").out().contains("DIR/node.NODE_ID.crt"));
    Run client = CairnctlTest.run("cert", "create-client", "--help");
    assertEquals(0, client.code());
    assertTrue(client.out().contains("DIR/client.NAME.key"), client.out());
    assertTrue(client.out().contains("default $CAIRN_CERTS or ./certs"), client.out());
    assertEquals(0, CairnctlTest.run("cert", "list", "--help").code());
    assertTrue(CairnctlTest.run("cert", "--help").out().contains("create-node"));
  }
}
