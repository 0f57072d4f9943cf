package io.cairn.chaos.infra;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * Stand-in for the node in the infrastructure smoke test: listens on a TCP port, answers one line
 * per connection with {@code <name>:<line>} and closes, so {@code echo x | nc host port} returns as
 * soon as the answer is in.
 */
public final class EchoMain {
  private static final int WORKERS = 4;
  private static final int QUEUE_LIMIT = 64;
  private static final int READ_TIMEOUT_MILLIS = 5_000;

  private EchoMain() {}

  /**
   * Runs the echo server.
   *
   * @param args {@code <port> <name>}
   */
  public static void main(String[] args) throws IOException {
    int port = Integer.parseInt(args[0]);
    String name = args.length > 1 ? args[1] : "echo";
    // Bounded: a flood of connections is refused (closed), never queued without limit.
    ThreadPoolExecutor workers =
        new ThreadPoolExecutor(
            WORKERS,
            WORKERS,
            0,
            TimeUnit.MILLISECONDS,
            new ArrayBlockingQueue<>(QUEUE_LIMIT),
            new ThreadPoolExecutor.AbortPolicy());
    try (ServerSocket server = new ServerSocket(port)) {
      System.out.println(name + " listening on " + port);
      System.out.flush();
      while (true) {
        Socket socket = server.accept();
        try {
          workers.execute(() -> answer(socket, name));
        } catch (java.util.concurrent.RejectedExecutionException e) {
          socket.close();
        }
      }
    }
  }

  private static void answer(Socket socket, String name) {
    try (socket) {
      socket.setSoTimeout(READ_TIMEOUT_MILLIS);
      BufferedReader in =
          new BufferedReader(
              new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
      String line = in.readLine();
      OutputStream out = socket.getOutputStream();
      out.write((name + ":" + (line == null ? "" : line) + "\n").getBytes(StandardCharsets.UTF_8));
      out.flush();
    } catch (IOException e) {
      // The peer went away or timed out; nothing to answer.
    }
  }
}
