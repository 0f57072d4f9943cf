package io.cairn.cli;

import io.cairn.cli.cert.CertAuthority;
import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code cairnctl cert create-ca|create-node|create-client|list}: a local CA and the certificates
 * it issues, as files in one folder ({@link CertAuthority} does the work). Works offline; no
 * cluster is asked anything.
 */
final class CertCmds {
  /** Longest validity --days takes: a hundred years. */
  static final int MAX_DAYS = 36500;

  private CertCmds() {}

  @Command(
      name = "cert",
      description = {
        "Make and list the cluster's certificates (offline).",
        "Files in one folder: ca.crt, ca.key, node.<id>.crt/.key and"
            + " client.<name>.crt/.key. Keys are ECDSA P-256, unencrypted PKCS#8 PEM, mode"
            + " 0600. Keep ca.key private."
      },
      subcommands = {CreateCa.class, CreateNode.class, CreateClient.class, ListCerts.class})
  static final class CertCmd extends CliCommand.Group {}

  /** The certs folder, shared by the cert commands. */
  static final class DirOption {
    // Not --certs-dir: a global option of that name (for TLS connections) is planned on the root.
    @Option(
        names = "--dir",
        paramLabel = "DIR",
        defaultValue = "${env:CAIRN_CERTS:-certs}",
        description = "certs folder; default $CAIRN_CERTS or ./certs")
    Path dir;
  }

  /** A command that writes files: --overwrite, and the failures all of them share. */
  abstract static class WritesFiles extends CliCommand {
    @Mixin DirOption dir;

    @Option(
        names = "--overwrite",
        description = "Replace files that exist (default: refuse, and write nothing).")
    boolean overwrite;

    /** Writes the files and prints what it wrote. */
    abstract void write() throws IOException;

    @Override
    public Integer call() {
      try {
        write();
        return Cairnctl.OK;
      } catch (FileAlreadyExistsException e) {
        err().println("cairnctl: " + e.getFile() + " exists: use --overwrite to replace it");
      } catch (NoSuchFileException e) {
        err()
            .println(
                "cairnctl: "
                    + e.getFile()
                    + " not found: make a CA first with 'cairnctl cert create-ca --dir "
                    + dir.dir
                    + "'");
      } catch (IOException | IllegalStateException e) {
        err().println("cairnctl: " + e.getMessage());
      }
      return Cairnctl.LEDGER_CODE;
    }

    static Duration days(int n) {
      if (n < 1 || n > MAX_DAYS) {
        throw new IllegalArgumentException("--days takes 1 to " + MAX_DAYS + ", not " + n);
      }
      return Duration.ofDays(n);
    }

    /** Prints the files written, never their content; {@code sans} only for a node. */
    void wrote(Path[] files, List<String> sans) throws IOException {
      CertListView.Row row = CertListView.row(files[0], null);
      Map<String, Object> j = Json.object();
      List<Object> names = new ArrayList<>();
      StringBuilder human = new StringBuilder();
      for (Path f : files) {
        names.add(f.toString());
        human.append(human.length() == 0 ? "" : System.lineSeparator()).append("wrote ").append(f);
        if (f.toString().endsWith(".key")) {
          human.append("  (private key: keep it private; never printed)");
        }
      }
      j.put("files", names);
      j.put("subject", row.subject());
      j.put("not_after", row.notAfter());
      human.append(System.lineSeparator()).append("  subject ").append(row.subject());
      human.append(", valid until ").append(row.notAfter());
      if (sans != null) {
        j.put("sans", new ArrayList<Object>(sans));
        human.append(System.lineSeparator()).append("  SANs ").append(String.join(", ", sans));
      }
      emit(human.toString(), j);
    }
  }

  @Command(
      name = "create-ca",
      description = {
        "Make a new certificate authority (CA).",
        "An ECDSA P-256 key and a self-signed certificate, CN=Cairn CA,O=Cairn, that"
            + " signs node and client certificates.",
        "Writes DIR/ca.crt and DIR/ca.key (mode 0600). Keep ca.key private: whoever"
            + " holds it can issue certificates the cluster accepts. A new CA (--overwrite)"
            + " disowns every certificate the old one issued."
      })
  static final class CreateCa extends WritesFiles {
    @Option(
        names = "--days",
        paramLabel = "N",
        defaultValue = "3650",
        description = "Validity in days (default ${DEFAULT-VALUE}).")
    int days;

    @Override
    void write() throws IOException {
      CertAuthority ca = CertAuthority.create(dir.dir, days(days), overwrite);
      wrote(
          new Path[] {
            ca.dir().resolve(CertAuthority.CA_CERT), ca.dir().resolve(CertAuthority.CA_KEY)
          },
          null);
    }
  }

  @Command(
      name = "create-node",
      description = {
        "Issue a node certificate from the CA in DIR.",
        "Subject CN=node:NODE_ID,O=Cairn, for TLS server and client use (the node's"
            + " ports and its connections to peers), with a subject alternative name for each"
            + " HOST: an IP entry for an address, a DNS entry for a name.",
        "Writes DIR/node.NODE_ID.crt and DIR/node.NODE_ID.key (mode 0600)."
      })
  static final class CreateNode extends WritesFiles {
    @Parameters(
        index = "0",
        paramLabel = "NODE_ID",
        description = "The node's node.id (1-64 characters: letters, digits, . _ -).")
    String nodeId;

    @Parameters(
        index = "1..*",
        arity = "1..*",
        paramLabel = "HOST",
        description = "Names and addresses it is reached by (e.g. localhost 127.0.0.1).")
    List<String> hosts;

    @Option(
        names = "--days",
        paramLabel = "N",
        defaultValue = "1825",
        description = "Validity in days (default ${DEFAULT-VALUE}; never past the CA's).")
    int days;

    @Override
    void write() throws IOException {
      Duration validity = days(days);
      Path[] files =
          CertAuthority.load(dir.dir).withOverwrite(overwrite).issueNode(nodeId, hosts, validity);
      wrote(files, CertListView.row(files[0], null).sans());
    }
  }

  @Command(
      name = "create-client",
      description = {
        "Issue a client certificate from the CA in DIR.",
        "Subject CN=NAME,O=Cairn, for TLS client use. The certificate proves the name"
            + " only: roles are granted to the name in the cluster ('cairnctl role grant'),"
            + " so changing a role needs no new certificate.",
        "Writes DIR/client.NAME.crt and DIR/client.NAME.key (mode 0600)."
      })
  static final class CreateClient extends WritesFiles {
    @Parameters(
        paramLabel = "NAME",
        description = "1-64 characters of [A-Za-z0-9._-], not starting with 'node'.")
    String name;

    @Option(
        names = "--days",
        paramLabel = "N",
        defaultValue = "825",
        description = "Validity in days (default ${DEFAULT-VALUE}; never past the CA's).")
    int days;

    @Override
    void write() throws IOException {
      Duration validity = days(days);
      wrote(CertAuthority.load(dir.dir).withOverwrite(overwrite).issueClient(name, validity), null);
    }
  }

  @Command(
      name = "list",
      description = {
        "List the certificates in DIR.",
        "One line per .crt file: file, kind (ca, node, client), subject CN, not-after,"
            + " whether DIR/ca.crt signed it, and a node's SANs. Reads no key."
      })
  static final class ListCerts extends CliCommand {
    @Mixin DirOption dir;

    @Override
    public Integer call() {
      try {
        CertListView view = CertListView.of(dir.dir);
        emit(view.text(), view.json());
        return Cairnctl.OK;
      } catch (IOException e) {
        err().println("cairnctl: cannot list " + dir.dir + ": " + e);
        return Cairnctl.LEDGER_CODE;
      }
    }
  }
}
