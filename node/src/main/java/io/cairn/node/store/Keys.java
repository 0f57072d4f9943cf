package io.cairn.node.store;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * The history store's keys (format 1; docs/internals.md, "The history store"). Numbers are
 * big-endian so that byte order is numeric order; times have their sign bit flipped for the same
 * reason. Ids and account ids are ASCII (the rule book's), at most 64 characters.
 *
 * <ul>
 *   <li>{@code O id} → {@code DedupeRecord}: an applied operation, its result, index, time and
 *       principal;
 *   <li>{@code A len(account) account index seq} → {@code StatementLine}: a line of the account's
 *       statement ({@code seq}: its place among the entry's lines);
 *   <li>{@code T time index} → empty: the first entry at each ledger time, for {@code since};
 *   <li>{@code W index} → {@code events(4) WatchResponse}: the entry's Watch event without {@code
 *       node_id}, and its number of operation events;
 *   <li>{@code Mformat} → int, {@code Mapplied} → long: the format and the applied index.
 * </ul>
 */
final class Keys {
  private Keys() {}

  static byte[] operation(String id) {
    byte[] k = new byte[1 + id.length()];
    k[0] = HistoryStore.OPERATION;
    ascii(id, k, 1);
    return k;
  }

  static byte[] linePrefix(String account) {
    byte[] k = new byte[2 + account.length()];
    k[0] = HistoryStore.LINE;
    k[1] = (byte) account.length();
    ascii(account, k, 2);
    return k;
  }

  static byte[] line(String account, long index, int seq) {
    byte[] prefix = linePrefix(account);
    return ByteBuffer.allocate(prefix.length + 12).put(prefix).putLong(index).putInt(seq).array();
  }

  static long lineIndex(byte[] key, int prefixLength) {
    return ByteBuffer.wrap(key, prefixLength, 8).getLong();
  }

  static byte[] time(long millis, long index) {
    return ByteBuffer.allocate(17)
        .put(HistoryStore.TIME)
        .putLong(millis ^ Long.MIN_VALUE)
        .putLong(index)
        .array();
  }

  static byte[] watch(long index) {
    return ByteBuffer.allocate(9).put(HistoryStore.WATCH).putLong(index).array();
  }

  static long watchIndex(byte[] key) {
    return ByteBuffer.wrap(key, 1, 8).getLong();
  }

  static byte[] be8(long v) {
    return ByteBuffer.allocate(8).putLong(v).array();
  }

  static byte[] concat(byte[] a, byte[] b) {
    byte[] k = new byte[a.length + b.length];
    System.arraycopy(a, 0, k, 0, a.length);
    System.arraycopy(b, 0, k, a.length, b.length);
    return k;
  }

  static boolean startsWith(byte[] key, byte[] prefix) {
    if (key.length < prefix.length) {
      return false;
    }
    for (int i = 0; i < prefix.length; i++) {
      if (key[i] != prefix[i]) {
        return false;
      }
    }
    return true;
  }

  private static void ascii(String s, byte[] to, int offset) {
    byte[] b = s.getBytes(StandardCharsets.US_ASCII);
    System.arraycopy(b, 0, to, offset, b.length);
  }
}
