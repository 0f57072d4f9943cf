package io.cairn.cli;

import io.cairn.client.CairnClient;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code cairnctl mint} and {@code cairnctl burn}: the issuer's commands that change supply. */
final class SupplyCmds {
  private SupplyCmds() {}

  @Command(name = "mint", description = "Create new tokens in an account.")
  static final class MintCmd extends CliCommand {
    @Parameters(index = "0", paramLabel = "ID")
    String id;

    @Parameters(index = "1", paramLabel = "AMOUNT")
    String amount;

    @Override
    public Integer call() {
      long a = Cairnctl.amount(amount);
      try (CairnClient c = client()) {
        return result(c.mint(id, a), "mint " + amount + " to " + id);
      }
    }
  }

  @Command(name = "burn", description = "Destroy tokens held by an account.")
  static final class BurnCmd extends CliCommand {
    @Parameters(index = "0", paramLabel = "ID")
    String id;

    @Parameters(index = "1", paramLabel = "AMOUNT")
    String amount;

    @Override
    public Integer call() {
      long a = Cairnctl.amount(amount);
      try (CairnClient c = client()) {
        return result(c.burn(id, a), "burn " + amount + " from " + id);
      }
    }
  }
}
