package io.cairn.chaos.infra;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs a command on the host with a hard deadline; the process is killed when it passes. */
final class HostCommand {
  private static final int OUTPUT_LIMIT_BYTES = 1 << 20;

  private HostCommand() {}

  static ExecResult run(Duration timeout, String stdin, List<String> command) {
    ProcessBuilder builder = new ProcessBuilder(command);
    Process process;
    try {
      process = builder.start();
    } catch (IOException e) {
      throw new ChaosInfraException("could not start " + command, e);
    }
    Drain out = new Drain(process.getInputStream());
    Drain err = new Drain(process.getErrorStream());
    out.start();
    err.start();
    try (OutputStream in = process.getOutputStream()) {
      if (stdin != null) {
        in.write(stdin.getBytes(StandardCharsets.UTF_8));
      }
    } catch (IOException e) {
      // The command exited without reading its input; its exit code tells the rest.
    }
    try {
      if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        process.destroyForcibly();
        process.waitFor(5, TimeUnit.SECONDS);
        return new ExecResult(ExecResult.TIMED_OUT, out.text(), err.text());
      }
      out.join(TimeUnit.SECONDS.toMillis(5));
      err.join(TimeUnit.SECONDS.toMillis(5));
      return new ExecResult(process.exitValue(), out.text(), err.text());
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
      throw new ChaosInfraException("interrupted while running " + command, e);
    }
  }

  static ExecResult runOrThrow(Duration timeout, String stdin, List<String> command) {
    ExecResult result = run(timeout, stdin, command);
    if (!result.succeeded()) {
      throw new ChaosInfraException(
          command
              + (result.timedOut() ? " timed out after " + timeout : " exited " + result.exitCode())
              + ": "
              + result.stderr().strip());
    }
    return result;
  }

  /** Reads a stream to its end, keeping at most {@link #OUTPUT_LIMIT_BYTES}. */
  private static final class Drain extends Thread {
    private final InputStream stream;
    private final ByteArrayOutputStream kept = new ByteArrayOutputStream();

    Drain(InputStream stream) {
      super("host-command-drain");
      setDaemon(true);
      this.stream = stream;
    }

    @Override
    public void run() {
      byte[] buffer = new byte[8192];
      try (stream) {
        int n;
        while ((n = stream.read(buffer)) >= 0) {
          synchronized (kept) {
            kept.write(buffer, 0, Math.min(n, Math.max(0, OUTPUT_LIMIT_BYTES - kept.size())));
          }
        }
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }

    String text() {
      synchronized (kept) {
        return kept.toString(StandardCharsets.UTF_8);
      }
    }
  }
}
