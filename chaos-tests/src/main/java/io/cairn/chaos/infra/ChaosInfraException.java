package io.cairn.chaos.infra;

/** A Docker, host-command or container operation of the chaos harness failed or timed out. */
public final class ChaosInfraException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** Creates an exception that says what failed. */
  public ChaosInfraException(String message) {
    super(message);
  }

  /** Creates an exception that says what failed and why. */
  public ChaosInfraException(String message, Throwable cause) {
    super(message, cause);
  }
}
