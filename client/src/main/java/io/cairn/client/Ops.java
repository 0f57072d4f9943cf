package io.cairn.client;

import io.cairn.proto.Burn;
import io.cairn.proto.CreateAccount;
import io.cairn.proto.Mint;
import io.cairn.proto.Operation;
import io.cairn.proto.Transfer;
import java.security.SecureRandom;
import java.util.Base64;

/**
 * Builders for ledger operations. Each operation gets a fresh random id (128 bits, URL-safe
 * Base64: 22 characters of [A-Za-z0-9_-]) and the current wall clock as its creation time; keep
 * the returned {@link Operation} and resend it as is to retry safely.
 */
public final class Ops {
  private static final SecureRandom RANDOM = new SecureRandom();

  private Ops() {}

  /** A new random operation id. */
  public static String newId() {
    byte[] b = new byte[16];
    RANDOM.nextBytes(b);
    return Base64.getUrlEncoder().withoutPadding().encodeToString(b);
  }

  private static Operation.Builder base(String id) {
    return Operation.newBuilder().setId(id).setCreatedAtMillis(System.currentTimeMillis());
  }

  public static Operation createAccount(String id, String account) {
    return base(id).setCreateAccount(CreateAccount.newBuilder().setAccount(account)).build();
  }

  public static Operation mint(String id, String account, long amount) {
    return base(id).setMint(Mint.newBuilder().setAccount(account).setAmount(amount)).build();
  }

  public static Operation burn(String id, String account, long amount) {
    return base(id).setBurn(Burn.newBuilder().setAccount(account).setAmount(amount)).build();
  }

  public static Operation transfer(String id, String from, String to, long amount) {
    return base(id)
        .setTransfer(Transfer.newBuilder().setFrom(from).setTo(to).setAmount(amount))
        .build();
  }

  /** A transfer applied only if the source account is at {@code expectedFromVersion}. */
  public static Operation transfer(
      String id, String from, String to, long amount, long expectedFromVersion) {
    return base(id)
        .setTransfer(
            Transfer.newBuilder()
                .setFrom(from)
                .setTo(to)
                .setAmount(amount)
                .setExpectedFromVersion(expectedFromVersion))
        .build();
  }
}
