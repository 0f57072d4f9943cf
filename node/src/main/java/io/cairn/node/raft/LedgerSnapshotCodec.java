package io.cairn.node.raft;

import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.WireFormat;
import io.cairn.node.ledger.Ledger;
import io.cairn.node.ledger.LedgerLimits;
import io.cairn.proto.Account;
import io.cairn.proto.DedupeRecord;
import io.cairn.proto.LedgerSnapshotHeader;
import io.cairn.proto.RoleGrant;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;

/**
 * The ledger's part of a snapshot file: a {@code LedgerSnapshotHeader}, every principal's roles as
 * a {@code RoleGrant} in principal order, every account in id order, then every remembered
 * operation as a {@code DedupeRecord} oldest first, each length-delimited (snapshot.proto). The
 * ledger hands out a copy and takes back parts ({@link Ledger.Restorer}); the bytes are decided
 * here. A format version 1 snapshot is the same sequence with no role grants (its header has no
 * role count), no owners and no principals, so {@link #read} reads both.
 */
public final class LedgerSnapshotCodec {
  private LedgerSnapshotCodec() {}

  /** Writes {@code copy} in the snapshot format. */
  public static void write(Ledger.SnapshotCopy copy, OutputStream out) throws IOException {
    CodedOutputStream coded = CodedOutputStream.newInstance(out, 1 << 16);
    coded.writeMessageNoTag(copy.header());
    for (int i = 0; i < copy.roleGrants(); i++) {
      coded.writeMessageNoTag(copy.roleGrant(i));
    }
    for (int i : copy.idOrder()) {
      coded.writeMessageNoTag(copy.account(i));
    }
    for (int i = 0; i < copy.rememberedOperations(); i++) {
      writeRecord(copy, i, coded);
    }
    coded.flush();
  }

  /**
   * One remembered operation as a length-delimited {@code DedupeRecord}, byte for byte what
   * protobuf would write, framing the stored operation's bytes as they are.
   */
  private static void writeRecord(Ledger.SnapshotCopy copy, int i, CodedOutputStream out)
      throws IOException {
    ByteBuffer op = copy.rememberedOperationBytes(i);
    int opLength = op.remaining();
    ByteBuffer principal = copy.rememberedPrincipalBytes(i);
    int principalLength = principal.remaining();
    int code = copy.rememberedCodeNumber(i);
    long applied = copy.rememberedAppliedIndex(i);
    long recorded = copy.rememberedRecordedAtMillis(i);
    // Proto3: fields at their default value (0) are not written.
    int size =
        CodedOutputStream.computeTagSize(DedupeRecord.OPERATION_FIELD_NUMBER)
            + CodedOutputStream.computeUInt32SizeNoTag(opLength)
            + opLength
            + (code != 0
                ? CodedOutputStream.computeEnumSize(DedupeRecord.CODE_FIELD_NUMBER, code)
                : 0)
            + (applied != 0
                ? CodedOutputStream.computeUInt64Size(
                    DedupeRecord.APPLIED_INDEX_FIELD_NUMBER, applied)
                : 0)
            + (recorded != 0
                ? CodedOutputStream.computeInt64Size(
                    DedupeRecord.RECORDED_AT_MILLIS_FIELD_NUMBER, recorded)
                : 0)
            + (principalLength != 0
                ? CodedOutputStream.computeTagSize(DedupeRecord.PRINCIPAL_FIELD_NUMBER)
                    + CodedOutputStream.computeUInt32SizeNoTag(principalLength)
                    + principalLength
                : 0);
    out.writeUInt32NoTag(size);
    out.writeTag(DedupeRecord.OPERATION_FIELD_NUMBER, WireFormat.WIRETYPE_LENGTH_DELIMITED);
    out.writeUInt32NoTag(opLength);
    out.writeRawBytes(op);
    if (code != 0) {
      out.writeEnum(DedupeRecord.CODE_FIELD_NUMBER, code);
    }
    if (applied != 0) {
      out.writeUInt64(DedupeRecord.APPLIED_INDEX_FIELD_NUMBER, applied);
    }
    if (recorded != 0) {
      out.writeInt64(DedupeRecord.RECORDED_AT_MILLIS_FIELD_NUMBER, recorded);
    }
    if (principalLength != 0) {
      out.writeTag(DedupeRecord.PRINCIPAL_FIELD_NUMBER, WireFormat.WIRETYPE_LENGTH_DELIMITED);
      out.writeUInt32NoTag(principalLength);
      out.writeRawBytes(principal);
    }
  }

  /** Reads what {@link #write} wrote, validating it; IOException on any defect. */
  public static Ledger read(InputStream in, LedgerLimits limits) throws IOException {
    LedgerSnapshotHeader h = LedgerSnapshotHeader.parseDelimitedFrom(in);
    if (h == null) {
      throw new IOException("ledger snapshot ends before its header");
    }
    Ledger.Restorer restorer = new Ledger.Restorer(limits, h);
    for (long i = 0; i < h.getRoleCount(); i++) {
      RoleGrant g = RoleGrant.parseDelimitedFrom(in);
      if (g == null) {
        throw new IOException(
            "ledger snapshot ends after " + i + " of " + h.getRoleCount() + " role grants");
      }
      try {
        restorer.roleGrant(g);
      } catch (IllegalArgumentException e) {
        throw new IOException("ledger snapshot role grant " + i + ": " + e.getMessage(), e);
      }
    }
    for (long i = 0; i < h.getAccountCount(); i++) {
      Account a = Account.parseDelimitedFrom(in);
      if (a == null) {
        throw new IOException(
            "ledger snapshot ends after " + i + " of " + h.getAccountCount() + " accounts");
      }
      try {
        restorer.account(a);
      } catch (IllegalArgumentException e) {
        throw new IOException("ledger snapshot account " + i + ": " + e.getMessage(), e);
      }
    }
    for (long i = 0; i < h.getDedupeCount(); i++) {
      DedupeRecord r = DedupeRecord.parseDelimitedFrom(in);
      if (r == null) {
        throw new IOException(
            "ledger snapshot ends after " + i + " of " + h.getDedupeCount() + " dedupe records");
      }
      try {
        restorer.remembered(r);
      } catch (IllegalArgumentException e) {
        throw new IOException("ledger snapshot dedupe record " + i + ": " + e.getMessage(), e);
      }
    }
    try {
      return restorer.finish();
    } catch (IllegalStateException e) {
      throw new IOException("ledger snapshot is inconsistent: " + e.getMessage(), e);
    }
  }
}
