package io.cairn.cli;

import io.cairn.client.CairnClient;
import io.cairn.proto.LedgerSummary;
import java.util.Map;
import picocli.CommandLine.Command;

/** {@code cairnctl summary}: the ledger's totals and whether they conserve. */
@Command(name = "summary", description = "Ledger totals: accounts, minted, burned, balances.")
final class SummaryCmd extends CliCommand {
  @Override
  public Integer call() {
    try (CairnClient c = client()) {
      LedgerSummary s = c.summary();
      Map<String, Object> j = Json.object();
      j.put("account_count", Json.u64(s.getAccountCount()));
      j.put("total_minted", Json.u64(s.getTotalMinted()));
      j.put("total_burned", Json.u64(s.getTotalBurned()));
      j.put("total_balance", Json.u64(s.getTotalBalance()));
      boolean conserved = s.getTotalMinted() - s.getTotalBurned() == s.getTotalBalance();
      j.put("conserved", conserved);
      j.put("dedupe_entries", Json.u64(s.getDedupeEntries()));
      j.put("dedupe_floor_millis", s.getDedupeFloorMillis());
      j.put("stamp", Views.stampJson(s.getStamp()));
      emit(
          String.format(
              "accounts %s, minted %s, burned %s, balances %s (%s)%nremembered ids %s%n%s",
              Long.toUnsignedString(s.getAccountCount()),
              Long.toUnsignedString(s.getTotalMinted()),
              Long.toUnsignedString(s.getTotalBurned()),
              Long.toUnsignedString(s.getTotalBalance()),
              conserved ? "conserved" : "NOT CONSERVED",
              Long.toUnsignedString(s.getDedupeEntries()),
              Views.stampText(s.getStamp())),
          j);
      return conserved ? Cairnctl.OK : Cairnctl.LEDGER_CODE;
    }
  }
}
