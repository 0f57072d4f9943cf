package io.cairn.cli;

import io.cairn.proto.signing.Signing;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.util.HexFormat;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code cairnctl key create}: Ed25519 keys for accounts whose debits must be signed. */
final class KeyCmds {
  private KeyCmds() {}

  @Command(
      name = "key",
      description = "Ed25519 signing keys for accounts that require signed debits.",
      subcommands = {KeyCreate.class})
  static final class KeyCmd extends CliCommand.Group {}

  @Command(
      name = "create",
      description = {
        "Make an Ed25519 key pair: DIR/NAME.key (PKCS#8 PEM, mode 0600: keep it"
            + " private) and DIR/NAME.pub (PEM). Give NAME.pub to 'account create"
            + " --public-key', sign debits with 'transfer --sign-key NAME.key'. Never"
            + " overwrites a file. Exit 0, 1 if a file exists."
      })
  static final class KeyCreate extends CliCommand {
    @Parameters(paramLabel = "NAME", description = "1-64 characters of [A-Za-z0-9._-]")
    String name;

    @Option(
        names = "--dir",
        paramLabel = "DIR",
        defaultValue = "${env:CAIRN_KEYS:-keys}",
        description = "Folder for the files (default $CAIRN_KEYS, else ./keys).")
    Path dir;

    @Override
    public Integer call() throws IOException {
      if (!name.matches("[A-Za-z0-9._-]{1,64}")) {
        throw new IllegalArgumentException("NAME must be 1-64 characters of [A-Za-z0-9._-]");
      }
      Path priv = dir.resolve(name + ".key");
      Path pub = dir.resolve(name + ".pub");
      for (Path f : new Path[] {priv, pub}) {
        if (Files.exists(f)) {
          err().println("cairnctl: " + f + " exists; not overwriting it");
          return Cairnctl.LEDGER_CODE;
        }
      }
      Files.createDirectories(dir);
      KeyPair kp = Signing.newKeyPair();
      writePrivate(priv, Signing.pem("PRIVATE KEY", kp.getPrivate().getEncoded()));
      Files.writeString(pub, Signing.pem("PUBLIC KEY", kp.getPublic().getEncoded()));
      String fp = fingerprint(kp.getPublic());
      Map<String, Object> j = Json.object();
      j.put("private_key", priv.toString());
      j.put("public_key", pub.toString());
      j.put("fingerprint", fp);
      emit("wrote " + priv + " (private, 0600) and " + pub + "\nfingerprint " + fp, j);
      return Cairnctl.OK;
    }

    private static void writePrivate(Path file, String pem) throws IOException {
      try {
        Files.createFile(
            file,
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
      } catch (UnsupportedOperationException notPosix) {
        Files.createFile(file);
      } catch (FileAlreadyExistsException e) {
        throw e;
      }
      Files.writeString(file, pem, StandardCharsets.US_ASCII);
    }
  }

  /** The first 8 bytes of SHA-256 of the key's DER, in hex: enough to tell keys apart by eye. */
  static String fingerprint(PublicKey key) {
    return fingerprint(key.getEncoded());
  }

  static String fingerprint(byte[] der) {
    try {
      byte[] h = MessageDigest.getInstance("SHA-256").digest(der);
      return HexFormat.of().formatHex(h, 0, 8);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  /** An Ed25519 private key from a PKCS#8 PEM file ({@code key create}). */
  static PrivateKey readPrivate(Path file) throws IOException {
    try {
      return Signing.privateKey(Signing.fromPem("PRIVATE KEY", Files.readString(file)));
    } catch (GeneralSecurityException | IllegalArgumentException e) {
      throw new IllegalArgumentException(file + " is not an Ed25519 private key (PEM)", e);
    }
  }

  /** An Ed25519 public key from a PEM file ({@code key create}). */
  static PublicKey readPublic(Path file) throws IOException {
    try {
      return Signing.publicKey(Signing.fromPem("PUBLIC KEY", Files.readString(file)));
    } catch (GeneralSecurityException | IllegalArgumentException e) {
      throw new IllegalArgumentException(file + " is not an Ed25519 public key (PEM)", e);
    }
  }
}
