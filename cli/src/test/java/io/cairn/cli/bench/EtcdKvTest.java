package io.cairn.cli.bench;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.google.protobuf.ByteString;
import com.google.protobuf.CodedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import org.junit.jupiter.api.Test;

class EtcdKvTest {
  @Test
  void aPutIsKeyAsField1AndValueAsField2() throws IOException {
    EtcdKv.Put put = new EtcdKv.Put(ByteString.copyFromUtf8("k"), ByteString.copyFromUtf8("vv"));
    byte[] wire = EtcdKv.PUT.getRequestMarshaller().stream(put).readAllBytes();
    assertArrayEquals(new byte[] {0x0a, 1, 'k', 0x12, 2, 'v', 'v'}, wire);
  }

  @Test
  void aPutResponseGivesTheHeadersRevisionAndSkipsOtherFields() throws IOException {
    byte[] header =
        message(
            o -> {
              o.writeUInt64(1, 77); // cluster_id
              o.writeUInt64(2, 5); // member_id
              o.writeInt64(3, 1234); // revision
              o.writeUInt64(4, 2); // raft_term
            });
    byte[] reply =
        message(
            o -> {
              o.writeByteArray(1, header);
              o.writeByteArray(2, new byte[] {0x0a, 1, 'k'}); // prev_kv, not asked for
            });
    assertEquals(1234L, EtcdKv.PUT.parseResponse(new java.io.ByteArrayInputStream(reply)));
  }

  @Test
  void aStatusResponseGivesTheMemberAndTheLeader() throws IOException {
    byte[] header = message(o -> o.writeUInt64(2, 0x8f95L));
    byte[] reply =
        message(
            o -> {
              o.writeByteArray(1, header);
              o.writeString(2, "3.4.23"); // version
              o.writeInt64(3, 20480); // dbSize
              o.writeUInt64(4, 0x8f95L); // leader
              o.writeUInt64(5, 9); // raftIndex
            });
    EtcdKv.Status s = EtcdKv.STATUS.parseResponse(new java.io.ByteArrayInputStream(reply));
    assertEquals(new EtcdKv.Status(0x8f95L, 0x8f95L), s);
  }

  private interface Writer {
    void write(CodedOutputStream o) throws IOException;
  }

  private static byte[] message(Writer w) throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    CodedOutputStream o = CodedOutputStream.newInstance(bytes);
    w.write(o);
    o.flush();
    return bytes.toByteArray();
  }
}
