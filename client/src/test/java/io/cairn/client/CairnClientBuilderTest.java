package io.cairn.client;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CairnClientBuilderTest {
  @Test
  void noClientIsPlaintextByAccident() {
    IllegalStateException e =
        assertThrows(IllegalStateException.class, () -> CairnClient.builder().build());
    assertTrue(e.getMessage().contains("plaintext()"), e.getMessage());
  }

  @Test
  void aMissingCertificateFileIsNamed(@TempDir Path dir) {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> CairnClient.builder().certificates(dir, "alice").build());
    assertTrue(e.getMessage().contains(dir.resolve("ca.crt").toString()), e.getMessage());
  }
}
