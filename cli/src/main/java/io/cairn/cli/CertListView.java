package io.cairn.cli;

import io.cairn.cli.cert.CertAuthority;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.cert.CertificateFactory;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import org.bouncycastle.asn1.x500.RDN;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x500.style.IETFUtils;

/**
 * Formats {@code cert list}: one row per {@code .crt} file of a folder, read with the JDK, and
 * whether each is signed by the folder's {@code ca.crt}.
 */
final class CertListView {
  /** At most this many files are read: a certs folder holds a cluster's few, not thousands. */
  static final int MAX_FILES = 10_000;

  private static final int GENERAL_NAME_DNS = 2;
  private static final int GENERAL_NAME_IP = 7;

  /**
   * One certificate file; {@code error} is set (and the rest empty) when it could not be read.
   * {@code chains} is true when {@code ca.crt} signed it (for {@code ca.crt}: it signed itself).
   */
  record Row(
      String file,
      String kind,
      String cn,
      String subject,
      List<String> sans,
      String notAfter,
      boolean expired,
      boolean chains,
      String error) {}

  private final Path dir;
  private final List<Row> rows;

  private CertListView(Path dir, List<Row> rows) {
    this.dir = dir;
    this.rows = rows;
  }

  /** Reads every {@code *.crt} in {@code dir}, in file-name order. */
  static CertListView of(Path dir) throws IOException {
    X509Certificate ca = null;
    try {
      ca = read(dir.resolve(CertAuthority.CA_CERT));
    } catch (IOException e) {
      // No (readable) CA: nothing chains; the CA file's own row says why.
    }
    List<Path> files = new ArrayList<>();
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, "*.crt")) {
      for (Path f : ds) {
        if (files.size() == MAX_FILES) {
          throw new IOException("more than " + MAX_FILES + " .crt files in " + dir);
        }
        files.add(f);
      }
    } catch (NoSuchFileException e) {
      throw new IOException("no such folder: " + dir, e);
    }
    files.sort(null);
    List<Row> rows = new ArrayList<>();
    for (Path f : files) {
      rows.add(row(f, ca));
    }
    return new CertListView(dir, rows);
  }

  /** One file's row; {@code ca} null means nothing chains. */
  static Row row(Path file, X509Certificate ca) {
    String name = String.valueOf(file.getFileName());
    X509Certificate c;
    try {
      c = read(file);
    } catch (IOException e) {
      return new Row(name, "", "", "", List.of(), "", false, false, e.getMessage());
    }
    String cn = commonName(c);
    String kind =
        c.getBasicConstraints() >= 0
            ? "ca"
            : cn.startsWith(CertAuthority.NODE_PREFIX) ? "node" : "client";
    return new Row(
        name,
        kind,
        cn,
        c.getSubjectX500Principal().getName(),
        sans(c),
        c.getNotAfter().toInstant().toString(),
        c.getNotAfter().getTime() < System.currentTimeMillis(),
        chains(c, ca),
        null);
  }

  List<Object> json() {
    List<Object> out = new ArrayList<>();
    for (Row r : rows) {
      Map<String, Object> j = Json.object();
      j.put("file", dir.resolve(r.file()).toString());
      if (r.error() != null) {
        j.put("error", r.error());
      } else {
        j.put("kind", r.kind());
        j.put("cn", r.cn());
        j.put("subject", r.subject());
        j.put("sans", new ArrayList<Object>(r.sans()));
        j.put("not_after", r.notAfter());
        j.put("expired", r.expired());
        j.put("chains_to_ca", r.chains());
      }
      out.add(j);
    }
    return out;
  }

  String text() {
    if (rows.isEmpty()) {
      return "no certificates (*.crt) in " + dir;
    }
    StringBuilder sb = new StringBuilder();
    for (Row r : rows) {
      if (sb.length() > 0) {
        sb.append(System.lineSeparator());
      }
      if (r.error() != null) {
        sb.append(String.format("%-24s unreadable: %s", r.file(), r.error()));
        continue;
      }
      sb.append(
          String.format(
              "%-24s %-6s %-20s until %s%s  %s",
              r.file(),
              r.kind(),
              r.cn(),
              r.notAfter(),
              r.expired() ? " (EXPIRED)" : "",
              r.chains() ? "chains to ca.crt" : "DOES NOT CHAIN to ca.crt"));
      if (!r.sans().isEmpty()) {
        sb.append("  SANs ").append(String.join(",", r.sans()));
      }
    }
    return sb.toString();
  }

  private static X509Certificate read(Path file) throws IOException {
    try (InputStream in = Files.newInputStream(file)) {
      return (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
    } catch (GeneralSecurityException e) {
      throw new IOException("not a PEM X.509 certificate (" + e.getMessage() + ")", e);
    }
  }

  private static String commonName(X509Certificate c) {
    RDN[] cns = X500Name.getInstance(c.getSubjectX500Principal().getEncoded()).getRDNs(BCStyle.CN);
    return cns.length == 0 ? "" : IETFUtils.valueToString(cns[0].getFirst().getValue());
  }

  private static List<String> sans(X509Certificate c) {
    List<String> out = new ArrayList<>();
    try {
      Collection<List<?>> names = c.getSubjectAlternativeNames();
      if (names != null) {
        for (List<?> n : names) {
          int type = (Integer) n.get(0);
          if (type == GENERAL_NAME_DNS || type == GENERAL_NAME_IP) {
            out.add(String.valueOf(n.get(1)));
          }
        }
      }
    } catch (CertificateParsingException e) {
      out.add("(unreadable SANs)");
    }
    return out;
  }

  private static boolean chains(X509Certificate c, X509Certificate ca) {
    if (ca == null || !c.getIssuerX500Principal().equals(ca.getSubjectX500Principal())) {
      return false;
    }
    try {
      c.verify(ca.getPublicKey());
      return true;
    } catch (GeneralSecurityException e) {
      return false;
    }
  }
}
