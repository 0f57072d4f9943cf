package io.cairn.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CairnctlBenchTest {
  @TempDir Path tmp;

  @Test
  void benchFsyncCreatesItsFolderReportsPercentilesAndLeavesNoFile() throws IOException {
    Path dir = tmp.resolve("not-yet");
    CairnctlTest.Run r =
        CairnctlTest.run("bench", "fsync", "--dir", dir.toString(), "--count", "20", "--json");
    assertEquals(Cairnctl.OK, r.code(), r.err());
    assertTrue(r.out().startsWith("{\"dir\": "), r.out());
    assertTrue(r.out().contains("\"count\": 20,") && r.out().contains("\"p99_ms\": "), r.out());
    try (Stream<Path> left = Files.list(dir)) {
      assertEquals(0, left.count());
    }
  }

  @Test
  void benchFsyncRefusesAnUnboundedCount() {
    CairnctlTest.Run r =
        CairnctlTest.run("bench", "fsync", "--dir", tmp.toString(), "--count", "0");
    assertEquals(Cairnctl.USAGE, r.code());
    assertTrue(r.err().contains("--count 1..100000"), r.err());
  }

  @Test
  void benchEtcdRefusesOutOfBoundsOptionsBeforeConnecting() {
    CairnctlTest.Run r =
        CairnctlTest.run("--endpoint", "127.0.0.1:1", "bench", "etcd", "--clients", "0");
    assertEquals(Cairnctl.USAGE, r.code());
    assertTrue(r.err().contains("--clients 1..4096"), r.err());
  }

  @Test
  void benchSubcommandsExplainWhatTheyMeasure() {
    CairnctlTest.Run fsync = CairnctlTest.run("bench", "fsync", "--help");
    assertEquals(0, fsync.code(), fsync.err());
    assertTrue(fsync.out().contains("FileChannel.force(false)"), fsync.out());
    CairnctlTest.Run etcd = CairnctlTest.run("bench", "etcd", "--help");
    assertEquals(0, etcd.code(), etcd.err());
    assertTrue(etcd.out().contains("KV.Put") && etcd.out().contains("--clients"), etcd.out());
  }
}
