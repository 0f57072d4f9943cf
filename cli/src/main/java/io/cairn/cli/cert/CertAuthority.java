package io.cairn.cli.cert;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.PKCS8EncodedKeySpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Date;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Pattern;
import javax.security.auth.x500.X500Principal;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.util.IPAddress;

/**
 * A cluster's certificate authority, kept as two files in a folder, and the certificates it issues
 * into the same folder. Used by {@code cairnctl cert} and by tests that need throwaway
 * certificates.
 *
 * <p>Files (all PEM): {@code ca.crt} and {@code ca.key} for the CA; {@code node.<id>.crt/.key} for
 * a node (subject {@code CN=node:<id>,O=Cairn}, usable as TLS server and client); {@code
 * client.<name>.crt/.key} for a client (subject {@code CN=<name>,O=Cairn}, TLS client only). A
 * {@code .crt} holds the one certificate it names (the CA is in {@code ca.crt}); a {@code .key}
 * holds an unencrypted PKCS#8 private key ({@code -----BEGIN PRIVATE KEY-----}), created with mode
 * 0600 where the file system has POSIX permissions. Every key is ECDSA P-256 and every signature
 * SHA256withECDSA: the JDK's TLS stack and netty's PEM key loading both accept them.
 *
 * <p>Guarantees: nothing is ever overwritten unless {@link #withOverwrite(boolean)} (or {@link
 * #create(Path, Duration, boolean)}) asks for it, and then every file of the set is checked before
 * any is written; serial numbers are random and 128 bits long; certificates are valid from an hour
 * before now (for clocks that lag) and never outlive the CA (a longer validity is cut to the CA's
 * expiry). A certificate proves a name only; what that name may do is decided elsewhere.
 *
 * <p>Instances are immutable and safe to share between threads.
 */
public final class CertAuthority {
  /** The CA certificate's file name in the folder. */
  public static final String CA_CERT = "ca.crt";

  /** The CA private key's file name in the folder. */
  public static final String CA_KEY = "ca.key";

  /** The subject CN prefix that marks a node (the Raft port tells peers from clients by it). */
  public static final String NODE_PREFIX = "node:";

  private static final X500Principal CA_SUBJECT = new X500Principal("CN=Cairn CA,O=Cairn");
  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9._-]{1,64}");
  private static final String LABEL = "[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?";
  // Labels of letters, digits and inner hyphens; a wildcard only as the whole leftmost label.
  private static final Pattern DNS_NAME =
      Pattern.compile("(\\*\\.)?" + LABEL + "(\\." + LABEL + ")*");
  private static final int MAX_HOSTS = 100;
  private static final int MAX_HOST_CHARS = 253;
  private static final Duration CLOCK_SKEW = Duration.ofHours(1);
  private static final String SIGNATURE = "SHA256withECDSA";
  private static final SecureRandom RANDOM = new SecureRandom();

  private final Path dir;
  private final X509Certificate cert;
  private final PrivateKey key;
  private final boolean overwrite;

  private CertAuthority(Path dir, X509Certificate cert, PrivateKey key, boolean overwrite) {
    this.dir = dir;
    this.cert = cert;
    this.key = key;
    this.overwrite = overwrite;
  }

  /**
   * Makes a new CA in {@code dir} (created if missing): an ECDSA P-256 key and a self-signed
   * certificate, subject {@code CN=Cairn CA,O=Cairn}, that may sign leaf certificates only
   * (basicConstraints CA, path length 0). Writes {@code ca.crt} and {@code ca.key}.
   *
   * @throws FileAlreadyExistsException naming the file, if {@code ca.crt} or {@code ca.key} exists
   * @throws IllegalArgumentException if {@code validity} is not positive
   * @throws IOException if the files cannot be written
   */
  public static CertAuthority create(Path dir, Duration validity) throws IOException {
    return create(dir, validity, false);
  }

  /**
   * As {@link #create(Path, Duration)}; with {@code overwrite} true, replaces an existing {@code
   * ca.crt} and {@code ca.key}. Certificates the old CA issued then no longer chain to {@code
   * ca.crt}.
   */
  public static CertAuthority create(Path dir, Duration validity, boolean overwrite)
      throws IOException {
    Objects.requireNonNull(dir, "dir");
    checkValidity(validity);
    Path crt = dir.resolve(CA_CERT);
    Path keyFile = dir.resolve(CA_KEY);
    checkWritable(overwrite, crt, keyFile);
    KeyPair pair = newKeyPair();
    Instant now = Instant.now();
    X509v3CertificateBuilder b =
        new JcaX509v3CertificateBuilder(
            CA_SUBJECT,
            serial(),
            Date.from(now.minus(CLOCK_SKEW)),
            Date.from(now.plus(validity)),
            CA_SUBJECT,
            pair.getPublic());
    b.addExtension(Extension.basicConstraints, true, new BasicConstraints(0));
    b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
    b.addExtension(
        Extension.subjectKeyIdentifier,
        false,
        extensionUtils().createSubjectKeyIdentifier(pair.getPublic()));
    X509Certificate cert = sign(b, pair.getPrivate());
    Files.createDirectories(dir);
    writeKey(keyFile, pair.getPrivate(), overwrite);
    write(crt, pem("CERTIFICATE", encoded(cert)), overwrite, false);
    return new CertAuthority(dir, cert, pair.getPrivate(), false);
  }

  /**
   * Reads the CA in {@code dir} ({@code ca.crt} and {@code ca.key}) and checks that the key is the
   * certificate's and that the certificate is a CA.
   *
   * @throws NoSuchFileException if either file is missing
   * @throws IOException if a file cannot be read, is not the expected PEM, or the two do not match
   */
  public static CertAuthority load(Path dir) throws IOException {
    Path crt = dir.resolve(CA_CERT);
    Path keyFile = dir.resolve(CA_KEY);
    X509Certificate cert = readCert(crt);
    PrivateKey key = readKey(keyFile);
    if (cert.getBasicConstraints() < 0) {
      throw new IOException(crt + " is not a CA certificate (basicConstraints CA is not set)");
    }
    if (!keyMatches(key, cert)) {
      throw new IOException(keyFile + " is not the private key of " + crt);
    }
    return new CertAuthority(dir, cert, key, false);
  }

  /** This CA, but issuing replaces existing files when {@code overwrite} is true. */
  public CertAuthority withOverwrite(boolean overwrite) {
    return new CertAuthority(dir, cert, key, overwrite);
  }

  /** The folder this CA reads from and issues into. */
  public Path dir() {
    return dir;
  }

  /** The CA certificate (as in {@code ca.crt}). */
  public X509Certificate certificate() {
    return cert;
  }

  /**
   * Issues a node certificate: subject {@code CN=node:<nodeId>,O=Cairn}, a subject alternative name
   * for every host (an IP address entry for an IPv4 or IPv6 literal, a DNS name otherwise),
   * extended key usage serverAuth and clientAuth (the node serves its ports and dials its peers).
   * Writes {@code node.<nodeId>.crt} and {@code node.<nodeId>.key}.
   *
   * @param nodeId 1-64 characters of {@code [A-Za-z0-9._-]}, the node's {@code node.id}
   * @param hosts 1-100 names or addresses clients and peers use to reach the node
   * @return the certificate file and the key file, in that order
   * @throws IllegalArgumentException for a bad id, host or validity
   * @throws IllegalStateException if the CA has expired
   * @throws FileAlreadyExistsException naming the file, if one exists and overwrite is off
   * @throws IOException if the files cannot be written
   */
  public Path[] issueNode(String nodeId, List<String> hosts, Duration validity) throws IOException {
    checkName("node id", nodeId);
    GeneralNames sans = subjectAltNames(hosts);
    return issue(
        "node." + nodeId,
        new X500Principal("CN=" + NODE_PREFIX + nodeId + ",O=Cairn"),
        validity,
        new KeyPurposeId[] {KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth},
        sans);
  }

  /**
   * Issues a client certificate: subject {@code CN=<name>,O=Cairn}, extended key usage clientAuth
   * only. Writes {@code client.<name>.crt} and {@code client.<name>.key}.
   *
   * @param name 1-64 characters of {@code [A-Za-z0-9._-]}, not starting with {@code node} (in any
   *     case): that prefix is reserved for nodes
   * @return the certificate file and the key file, in that order
   * @throws IllegalArgumentException for a bad name or validity
   * @throws IllegalStateException if the CA has expired
   * @throws FileAlreadyExistsException naming the file, if one exists and overwrite is off
   * @throws IOException if the files cannot be written
   */
  public Path[] issueClient(String name, Duration validity) throws IOException {
    checkName("client name", name);
    if (name.toLowerCase(Locale.ROOT).startsWith("node")) {
      throw new IllegalArgumentException(
          "client name '" + name + "' starts with 'node', which is reserved for node certificates");
    }
    return issue(
        "client." + name,
        new X500Principal("CN=" + name + ",O=Cairn"),
        validity,
        new KeyPurposeId[] {KeyPurposeId.id_kp_clientAuth},
        null);
  }

  private Path[] issue(
      String base, X500Principal subject, Duration validity, KeyPurposeId[] eku, GeneralNames sans)
      throws IOException {
    checkValidity(validity);
    Instant now = Instant.now();
    Instant caNotAfter = cert.getNotAfter().toInstant();
    if (!caNotAfter.isAfter(now)) {
      throw new IllegalStateException(
          dir.resolve(CA_CERT) + " expired at " + caNotAfter + ": make a new CA");
    }
    Instant wanted = now.plus(validity);
    Instant notAfter = wanted.isAfter(caNotAfter) ? caNotAfter : wanted;
    Path crt = dir.resolve(base + ".crt");
    Path keyFile = dir.resolve(base + ".key");
    checkWritable(overwrite, crt, keyFile);
    KeyPair pair = newKeyPair();
    X509v3CertificateBuilder b =
        new JcaX509v3CertificateBuilder(
            cert,
            serial(),
            Date.from(now.minus(CLOCK_SKEW)),
            Date.from(notAfter),
            subject,
            pair.getPublic());
    JcaX509ExtensionUtils utils = extensionUtils();
    b.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
    b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature));
    b.addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(eku));
    if (sans != null) {
      b.addExtension(Extension.subjectAlternativeName, false, sans);
    }
    b.addExtension(
        Extension.subjectKeyIdentifier, false, utils.createSubjectKeyIdentifier(pair.getPublic()));
    try {
      b.addExtension(
          Extension.authorityKeyIdentifier, false, utils.createAuthorityKeyIdentifier(cert));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("cannot encode the CA certificate", e);
    }
    X509Certificate leaf = sign(b, key);
    writeKey(keyFile, pair.getPrivate(), overwrite);
    write(crt, pem("CERTIFICATE", encoded(leaf)), overwrite, false);
    return new Path[] {crt, keyFile};
  }

  private static GeneralNames subjectAltNames(List<String> hosts) {
    if (hosts == null || hosts.isEmpty() || hosts.size() > MAX_HOSTS) {
      throw new IllegalArgumentException("a node certificate needs 1 to " + MAX_HOSTS + " hosts");
    }
    List<GeneralName> names = new ArrayList<>();
    for (String raw : hosts) {
      String h = raw == null ? "" : raw.trim();
      if (h.startsWith("[") && h.endsWith("]")) {
        h = h.substring(1, h.length() - 1); // [::1], as in a URL
      }
      if (IPAddress.isValid(h)) {
        names.add(new GeneralName(GeneralName.iPAddress, h));
      } else if (h.length() <= MAX_HOST_CHARS && DNS_NAME.matcher(h).matches()) {
        names.add(new GeneralName(GeneralName.dNSName, h));
      } else {
        throw new IllegalArgumentException(
            "host '" + raw + "' is neither an IP address nor a DNS name");
      }
    }
    return new GeneralNames(names.toArray(new GeneralName[0]));
  }

  private static void checkName(String what, String name) {
    if (name == null || !NAME.matcher(name).matches()) {
      throw new IllegalArgumentException(
          what + " '" + name + "' must be 1-64 characters of [A-Za-z0-9._-]");
    }
  }

  private static void checkValidity(Duration validity) {
    if (validity == null || validity.isNegative() || validity.isZero()) {
      throw new IllegalArgumentException("validity must be positive, not " + validity);
    }
  }

  /** Refuses before anything is written, so a set of files is written whole or not at all. */
  private static void checkWritable(boolean overwrite, Path... files)
      throws FileAlreadyExistsException {
    if (overwrite) {
      return;
    }
    for (Path f : files) {
      if (Files.exists(f)) {
        throw new FileAlreadyExistsException(f.toString(), null, "exists (not overwriting it)");
      }
    }
  }

  private static KeyPair newKeyPair() {
    try {
      KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
      g.initialize(new ECGenParameterSpec("secp256r1"), RANDOM);
      return g.generateKeyPair();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("this JDK cannot make ECDSA P-256 keys", e);
    }
  }

  /** Random, positive, exactly 128 bits (the top bit set keeps the length fixed). */
  private static BigInteger serial() {
    return new BigInteger(128, RANDOM).setBit(127);
  }

  private static JcaX509ExtensionUtils extensionUtils() {
    try {
      return new JcaX509ExtensionUtils();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("this JDK has no SHA-1 for key identifiers", e);
    }
  }

  private static X509Certificate sign(X509v3CertificateBuilder b, PrivateKey signer) {
    try {
      return new JcaX509CertificateConverter()
          .getCertificate(b.build(new JcaContentSignerBuilder(SIGNATURE).build(signer)));
    } catch (OperatorCreationException | GeneralSecurityException e) {
      throw new IllegalStateException("cannot sign with " + SIGNATURE, e);
    }
  }

  private static byte[] encoded(X509Certificate c) {
    try {
      return c.getEncoded();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("cannot encode a certificate just made", e);
    }
  }

  private static boolean keyMatches(PrivateKey k, X509Certificate c) {
    try {
      byte[] probe = "cairn key check".getBytes(StandardCharsets.US_ASCII);
      Signature s = Signature.getInstance(SIGNATURE);
      s.initSign(k);
      s.update(probe);
      byte[] sig = s.sign();
      s.initVerify(c.getPublicKey());
      s.update(probe);
      return s.verify(sig);
    } catch (GeneralSecurityException e) {
      return false;
    }
  }

  private static X509Certificate readCert(Path file) throws IOException {
    try {
      return (X509Certificate)
          CertificateFactory.getInstance("X.509")
              .generateCertificate(new ByteArrayInputStream(Files.readAllBytes(file)));
    } catch (GeneralSecurityException e) {
      throw new IOException(file + " is not a PEM X.509 certificate: " + e.getMessage(), e);
    }
  }

  private static PrivateKey readKey(Path file) throws IOException {
    String text = Files.readString(file, StandardCharsets.US_ASCII);
    String begin = "-----BEGIN PRIVATE KEY-----";
    String end = "-----END PRIVATE KEY-----";
    int from = text.indexOf(begin);
    int to = text.indexOf(end);
    if (from < 0 || to < from) {
      throw new IOException(file + " is not a PKCS#8 PEM private key (" + begin + ")");
    }
    try {
      byte[] der = Base64.getMimeDecoder().decode(text.substring(from + begin.length(), to));
      return KeyFactory.getInstance("EC").generatePrivate(new PKCS8EncodedKeySpec(der));
    } catch (IllegalArgumentException | GeneralSecurityException e) {
      throw new IOException(file + " is not an EC private key: " + e.getMessage(), e);
    }
  }

  private static String pem(String type, byte[] der) {
    String body = Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(der);
    return "-----BEGIN " + type + "-----\n" + body + "\n-----END " + type + "-----\n";
  }

  private static void writeKey(Path file, PrivateKey k, boolean overwrite) throws IOException {
    write(file, pem("PRIVATE KEY", k.getEncoded()), overwrite, true);
  }

  /**
   * Writes {@code text}; a private key gets mode 0600 from its creation on (or before its content
   * when an existing file is replaced), where the file system has POSIX permissions.
   */
  private static void write(Path file, String text, boolean overwrite, boolean secret)
      throws IOException {
    boolean posix = file.getFileSystem().supportedFileAttributeViews().contains("posix");
    Set<PosixFilePermission> ownerOnly =
        EnumSet.of(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE);
    List<FileAttribute<?>> attrs = new ArrayList<>();
    if (secret && posix) {
      attrs.add(PosixFilePermissions.asFileAttribute(ownerOnly));
      if (overwrite && Files.exists(file)) {
        Files.setPosixFilePermissions(file, ownerOnly);
      }
    }
    Set<OpenOption> options =
        overwrite
            ? Set.of(
                StandardOpenOption.CREATE,
                StandardOpenOption.TRUNCATE_EXISTING,
                StandardOpenOption.WRITE)
            : Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
    ByteBuffer bytes = ByteBuffer.wrap(text.getBytes(StandardCharsets.US_ASCII));
    try (var ch = Files.newByteChannel(file, options, attrs.toArray(new FileAttribute<?>[0]))) {
      while (bytes.hasRemaining()) {
        ch.write(bytes);
      }
    } catch (FileAlreadyExistsException e) {
      throw new FileAlreadyExistsException(file.toString(), null, "exists (not overwriting it)");
    }
  }
}
