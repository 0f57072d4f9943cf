package io.cairn.proto;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.google.protobuf.InvalidProtocolBufferException;
import org.junit.jupiter.api.Test;

class WireFormatTest {
  @Test
  void logEntryRoundTripsThroughBytes() throws InvalidProtocolBufferException {
    LogEntry entry =
        LogEntry.newBuilder()
            .setLeaderTimeMillis(1_700_000_000_000L)
            .addRequests(
                SubmitRequest.newBuilder()
                    .addOperations(
                        Operation.newBuilder()
                            .setId("t-1")
                            .setCreatedAtMillis(1_700_000_000_000L)
                            .setTransfer(
                                Transfer.newBuilder().setFrom("a").setTo("b").setAmount(-1L))))
            .build();
    LogEntry back = LogEntry.parseFrom(entry.toByteArray());
    assertEquals(entry, back);
    // uint64 amounts survive as their two's-complement bit pattern.
    assertEquals(
        "18446744073709551615",
        Long.toUnsignedString(back.getRequests(0).getOperations(0).getTransfer().getAmount()));
  }
}
