package io.cairn.chaos.infra;

/**
 * Outcome of a bounded command run in a container or on the host.
 *
 * @param exitCode the command's exit code; {@link #TIMED_OUT} if it was killed at its deadline
 * @param stdout what it printed on standard output (UTF-8)
 * @param stderr what it printed on standard error (UTF-8)
 */
public record ExecResult(int exitCode, String stdout, String stderr) {
  /** Exit code reported for a command killed because it ran past its timeout. */
  public static final int TIMED_OUT = -1;

  /** True when the command exited with code 0. */
  public boolean succeeded() {
    return exitCode == 0;
  }

  /** True when the command was killed at its deadline. */
  public boolean timedOut() {
    return exitCode == TIMED_OUT;
  }
}
