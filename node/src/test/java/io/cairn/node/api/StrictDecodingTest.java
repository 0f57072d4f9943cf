package io.cairn.node.api;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cairn.proto.LedgerServiceGrpc;
import io.cairn.proto.Mint;
import io.cairn.proto.Operation;
import io.cairn.proto.SubmitRequest;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.junit.jupiter.api.Test;

/** What the API's strict decoding lets through: a protobuf encoder's bytes, and nothing else. */
class StrictDecodingTest {
  private static final StrictDecoding STRICT =
      new StrictDecoding(LedgerServiceGrpc.getServiceDescriptor());
  private static final String SUBMIT = LedgerServiceGrpc.getSubmitMethod().getFullMethodName();

  private static SubmitRequest mint(long amount) {
    return SubmitRequest.newBuilder()
        .addOperations(
            Operation.newBuilder()
                .setId("m-1")
                .setCreatedAtMillis(1_700_000_000_000L)
                .setMint(Mint.newBuilder().setAccount("a").setAmount(amount)))
        .build();
  }

  @Property(tries = 300)
  void whatAnEncoderWritesPasses(@ForAll long amount, @ForAll boolean atomic) {
    byte[] b = mint(amount).toBuilder().setAtomic(atomic).build().toByteArray();
    assertNull(STRICT.check(SUBMIT, b));
  }

  @Test
  void fieldsOutOfOrderAndDefaultsSentAreRefused() {
    byte[] canonical = mint(5).toByteArray();
    // atomic = false written explicitly (field 2, varint 0): proto3 omits it.
    byte[] withDefault = java.util.Arrays.copyOf(canonical, canonical.length + 2);
    withDefault[canonical.length] = 0x10;
    withDefault[canonical.length + 1] = 0x00;
    assertNotNull(STRICT.check(SUBMIT, withDefault));
    // atomic = true before the operations: legal protobuf, not the canonical order.
    byte[] reordered = new byte[canonical.length + 2];
    reordered[0] = 0x10;
    reordered[1] = 0x01;
    System.arraycopy(canonical, 0, reordered, 2, canonical.length);
    String why = STRICT.check(SUBMIT, reordered);
    assertTrue(why != null && why.contains("not canonical"), String.valueOf(why));
  }

  @Provide
  Arbitrary<byte[]> noise() {
    return Arbitraries.bytes().array(byte[].class).ofMaxSize(300);
  }

  @Property(tries = 500)
  void arbitraryBytesNeverThrow(@ForAll("noise") byte[] b) {
    STRICT.check(SUBMIT, b); // null (refused later by the parser, or canonical) or a reason
  }
}
