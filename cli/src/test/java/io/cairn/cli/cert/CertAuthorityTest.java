package io.cairn.cli.cert;

import static java.nio.file.StandardCopyOption.REPLACE_EXISTING;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.SignatureException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CertAuthorityTest {
  static final String SERVER_AUTH = "1.3.6.1.5.5.7.3.1";
  static final String CLIENT_AUTH = "1.3.6.1.5.5.7.3.2";
  static final Duration YEAR = Duration.ofDays(365);

  @TempDir Path dir;

  @Test
  void theCaIsSelfSignedAndMaySignLeavesOnly() throws Exception {
    CertAuthority.create(dir, YEAR);
    X509Certificate ca = Pem.cert(dir.resolve("ca.crt"));
    ca.verify(ca.getPublicKey());
    assertEquals("CN=Cairn CA,O=Cairn", ca.getSubjectX500Principal().getName());
    assertEquals(0, ca.getBasicConstraints(), "CA with path length 0");
    assertTrue(ca.getCriticalExtensionOIDs().contains("2.5.29.19"), "basicConstraints critical");
    assertTrue(ca.getCriticalExtensionOIDs().contains("2.5.29.15"), "keyUsage critical");
    boolean[] usage = ca.getKeyUsage();
    assertTrue(usage[5] && usage[6], "keyCertSign and cRLSign");
    assertFalse(usage[0], "no digitalSignature");
    assertNotNull(ca.getExtensionValue("2.5.29.14"), "subjectKeyIdentifier");
    assertEquals("SHA256withECDSA", ca.getSigAlgName());
    assertEquals("EC", ca.getPublicKey().getAlgorithm());
    assertTrue(ca.getPublicKey().toString().contains("secp256r1"), ca.getPublicKey().toString());
  }

  @Test
  void validityStartsAnHourBackAndSerialsAreRandom128Bit() throws Exception {
    Instant before = Instant.now();
    CertAuthority ca = CertAuthority.create(dir, YEAR);
    ca.issueClient("alice", Duration.ofDays(30));
    ca.issueClient("bob", Duration.ofDays(30));
    X509Certificate alice = Pem.cert(dir.resolve("client.alice.crt"));
    X509Certificate bob = Pem.cert(dir.resolve("client.bob.crt"));
    Instant notBefore = alice.getNotBefore().toInstant();
    assertTrue(!notBefore.isAfter(before.minus(Duration.ofMinutes(59))), notBefore.toString());
    long days = Duration.between(Instant.now(), alice.getNotAfter().toInstant()).toDays();
    assertTrue(days == 29 || days == 30, "30 days, got " + days);
    for (X509Certificate c : List.of(ca.certificate(), alice, bob)) {
      assertEquals(1, c.getSerialNumber().signum());
      assertEquals(128, c.getSerialNumber().bitLength());
    }
    assertNotEquals(alice.getSerialNumber(), bob.getSerialNumber());
  }

  @Test
  void aNodeCertChainsToTheCaAndNamesItsHostsAsIpOrDns() throws Exception {
    CertAuthority ca = CertAuthority.create(dir, YEAR);
    Path[] files =
        ca.issueNode("n1", List.of("localhost", "127.0.0.1", "::1", "n1.cairn.test"), YEAR);
    assertEquals(dir.resolve("node.n1.crt"), files[0]);
    assertEquals(dir.resolve("node.n1.key"), files[1]);
    X509Certificate node = Pem.cert(files[0]);
    node.verify(Pem.cert(dir.resolve("ca.crt")).getPublicKey());
    assertEquals("CN=node:n1,O=Cairn", node.getSubjectX500Principal().getName());
    assertEquals("CN=Cairn CA,O=Cairn", node.getIssuerX500Principal().getName());
    assertEquals(
        List.of("2:localhost", "7:127.0.0.1", "7:0:0:0:0:0:0:0:1", "2:n1.cairn.test"), sans(node));
    assertEquals(List.of(SERVER_AUTH, CLIENT_AUTH), node.getExtendedKeyUsage());
    assertEquals(-1, node.getBasicConstraints(), "not a CA");
    assertTrue(node.getKeyUsage()[0], "digitalSignature");
    assertTrue(node.getCriticalExtensionOIDs().contains("2.5.29.15"), "keyUsage critical");
    assertNotNull(node.getExtensionValue("2.5.29.35"), "authorityKeyIdentifier");
    assertEquals(1, count(files[0], "BEGIN CERTIFICATE"), "the leaf only");
  }

  @Test
  void aClientCertIsForClientAuthOnlyAndHasNoSans() throws Exception {
    CertAuthority ca = CertAuthority.create(dir, YEAR);
    Path[] files = ca.issueClient("admin", YEAR);
    assertEquals(dir.resolve("client.admin.crt"), files[0]);
    X509Certificate client = Pem.cert(files[0]);
    client.verify(ca.certificate().getPublicKey());
    assertEquals("CN=admin,O=Cairn", client.getSubjectX500Principal().getName());
    assertEquals(List.of(CLIENT_AUTH), client.getExtendedKeyUsage());
    assertNull(client.getSubjectAlternativeNames());
    assertEquals(-1, client.getBasicConstraints());
    assertTrue(client.getKeyUsage()[0], "digitalSignature");
  }

  @Test
  void keysArePkcs8PemThatTheJdkLoadsAndThatMatchTheirCerts() throws Exception {
    CertAuthority ca = CertAuthority.create(dir, YEAR);
    Path[] node = ca.issueNode("n2", List.of("localhost"), YEAR);
    for (Path[] pair : List.of(node, new Path[] {dir.resolve("ca.crt"), dir.resolve("ca.key")})) {
      String text = Files.readString(pair[1], StandardCharsets.US_ASCII);
      assertTrue(text.startsWith("-----BEGIN PRIVATE KEY-----\n"), text);
      PrivateKey key = Pem.key(pair[1]);
      assertEquals("EC", key.getAlgorithm());
      assertTrue(signsFor(key, Pem.cert(pair[0])), pair[1] + " does not match " + pair[0]);
      if (Files.getFileStore(pair[1]).supportsFileAttributeView("posix")) {
        assertEquals(
            "rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(pair[1])));
      }
    }
    assertFalse(signsFor(Pem.key(node[1]), ca.certificate()), "a node key is not the CA's");
  }

  @Test
  void loadReadsTheCaBackAndIssuesWithIt() throws Exception {
    CertAuthority made = CertAuthority.create(dir, YEAR);
    CertAuthority loaded = CertAuthority.load(dir);
    assertArrayEquals(made.certificate().getEncoded(), loaded.certificate().getEncoded());
    Pem.cert(loaded.issueClient("carol", YEAR)[0]).verify(made.certificate().getPublicKey());
  }

  @Test
  void loadRefusesAKeyThatIsNotTheCas(@TempDir Path other) throws Exception {
    CertAuthority.create(dir, YEAR);
    CertAuthority.create(other, YEAR);
    Files.copy(other.resolve("ca.key"), dir.resolve("ca.key"), REPLACE_EXISTING);
    var e = assertThrows(IOException.class, () -> CertAuthority.load(dir));
    assertTrue(e.getMessage().contains("ca.key is not the private key of"), e.getMessage());
  }

  @Test
  void nothingIsOverwrittenUnlessAsked() throws Exception {
    CertAuthority ca = CertAuthority.create(dir, YEAR);
    var caAgain =
        assertThrows(FileAlreadyExistsException.class, () -> CertAuthority.create(dir, YEAR));
    assertTrue(caAgain.getMessage().contains("ca."), caAgain.getMessage());
    Path[] first = ca.issueNode("n1", List.of("localhost"), YEAR);
    byte[] before = Files.readAllBytes(first[0]);
    var again =
        assertThrows(
            FileAlreadyExistsException.class, () -> ca.issueNode("n1", List.of("localhost"), YEAR));
    assertEquals(first[0].toString(), again.getFile(), "the error names the file");
    assertArrayEquals(before, Files.readAllBytes(first[0]));
    Path[] second = ca.withOverwrite(true).issueNode("n1", List.of("localhost"), YEAR);
    assertFalse(Arrays.equals(before, Files.readAllBytes(second[0])));
    assertTrue(signsFor(Pem.key(second[1]), Pem.cert(second[0])));
  }

  @Test
  void aSetIsWrittenWholeOrNotAtAll() throws Exception {
    CertAuthority ca = CertAuthority.create(dir, YEAR);
    Files.writeString(dir.resolve("client.dave.key"), "mine");
    assertThrows(FileAlreadyExistsException.class, () -> ca.issueClient("dave", YEAR));
    assertFalse(Files.exists(dir.resolve("client.dave.crt")), "no half-written pair");
    assertEquals("mine", Files.readString(dir.resolve("client.dave.key")));
  }

  @Test
  void badNamesAreRefusedWithTheReason() throws Exception {
    CertAuthority ca = CertAuthority.create(dir, YEAR);
    var nodeClient =
        assertThrows(IllegalArgumentException.class, () -> ca.issueClient("node-x", YEAR));
    assertTrue(nodeClient.getMessage().contains("reserved for node"), nodeClient.getMessage());
    assertThrows(IllegalArgumentException.class, () -> ca.issueClient("Node1", YEAR));
    var space = assertThrows(IllegalArgumentException.class, () -> ca.issueClient("a b", YEAR));
    assertTrue(
        space.getMessage().contains("1-64 characters of [A-Za-z0-9._-]"), space.getMessage());
    assertThrows(IllegalArgumentException.class, () -> ca.issueClient("x".repeat(65), YEAR));
    assertThrows(IllegalArgumentException.class, () -> ca.issueClient("", YEAR));
    assertThrows(IllegalArgumentException.class, () -> ca.issueClient("a/b", YEAR));
    ca.issueClient("x".repeat(64), YEAR);
    assertThrows(
        IllegalArgumentException.class, () -> ca.issueNode("a b", List.of("localhost"), YEAR));
    assertThrows(
        IllegalArgumentException.class,
        () -> ca.issueNode("n".repeat(65), List.of("localhost"), YEAR));
    assertThrows(IllegalArgumentException.class, () -> ca.issueNode("n1", List.of(), YEAR));
    var host =
        assertThrows(
            IllegalArgumentException.class, () -> ca.issueNode("n1", List.of("bad host"), YEAR));
    assertTrue(host.getMessage().contains("'bad host'"), host.getMessage());
    assertThrows(IllegalArgumentException.class, () -> ca.issueClient("ok", Duration.ZERO));
    try (var files = Files.list(dir)) {
      assertEquals(4, files.count(), "only the CA and the 64-character client were written");
    }
  }

  @Test
  void aLeafNeverOutlivesItsCa() throws Exception {
    CertAuthority ca = CertAuthority.create(dir, Duration.ofDays(10));
    X509Certificate c = Pem.cert(ca.issueClient("eve", Duration.ofDays(100))[0]);
    assertEquals(ca.certificate().getNotAfter(), c.getNotAfter());
  }

  static boolean signsFor(PrivateKey key, X509Certificate cert) throws Exception {
    byte[] msg = "hello".getBytes(StandardCharsets.US_ASCII);
    Signature s = Signature.getInstance("SHA256withECDSA");
    s.initSign(key);
    s.update(msg);
    byte[] sig = s.sign();
    s.initVerify(cert.getPublicKey());
    s.update(msg);
    try {
      return s.verify(sig);
    } catch (SignatureException e) {
      return false;
    }
  }

  static List<String> sans(X509Certificate c) throws Exception {
    List<String> out = new ArrayList<>();
    Collection<List<?>> names = c.getSubjectAlternativeNames();
    for (List<?> n : names) {
      out.add(n.get(0) + ":" + n.get(1));
    }
    return out;
  }

  static int count(Path file, String needle) throws Exception {
    String text = Files.readString(file);
    int n = 0;
    for (int i = text.indexOf(needle); i >= 0; i = text.indexOf(needle, i + 1)) {
      n++;
    }
    return n;
  }
}
