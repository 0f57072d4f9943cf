package io.cairn.node.api;

import com.google.protobuf.ByteString;
import io.cairn.node.raft.LedgerStateMachine;
import io.cairn.proto.ErrorDetail;
import io.cairn.proto.SnapshotChunk;
import io.cairn.proto.errors.Errors;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.io.OutputStream;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code SaveSnapshot}: streams an online backup to an admin, one at a time per node, on a thread
 * of its own (the handler runs on the transport's event loop), in chunks of {@value #CHUNK_BYTES}
 * bytes sent only as fast as the caller reads them. A caller that stops reading for {@value
 * #STALL_SECONDS} s, or cancels, ends the backup and frees its work folder.
 */
final class BackupStreams {
  private static final Logger LOG = LoggerFactory.getLogger(BackupStreams.class);
  static final int CHUNK_BYTES = 1 << 20;
  static final long STALL_SECONDS = 60;

  private final LedgerStateMachine state;
  private final AtomicBoolean running = new AtomicBoolean();

  BackupStreams(LedgerStateMachine state) {
    this.state = state;
  }

  void save(StreamObserver<SnapshotChunk> out) {
    ServerCallStreamObserver<SnapshotChunk> call = (ServerCallStreamObserver<SnapshotChunk>) out;
    if (!running.compareAndSet(false, true)) {
      ErrorDetail d =
          ErrorDetail.newBuilder()
              .setKind(ErrorDetail.Kind.OVERLOADED)
              .setRetryAfterMillis(5000)
              .setNotApplied(true)
              .build();
      out.onError(Errors.exception(d, "a backup of this node is already running"));
      return;
    }
    Chunks chunks = new Chunks(call);
    Thread t =
        new Thread(
            () -> {
              try {
                state.writeBackup(chunks);
                chunks.close();
                call.onCompleted();
              } catch (IllegalStateException e) {
                call.onError(
                    Status.FAILED_PRECONDITION.withDescription(e.getMessage()).asException());
              } catch (IOException | RuntimeException e) {
                if (!chunks.cancelled) {
                  LOG.error("backup failed", e);
                  call.onError(
                      Status.INTERNAL
                          .withDescription("backup failed: " + e.getMessage())
                          .asException());
                }
              } finally {
                running.set(false);
              }
            },
            "cairn-backup");
    t.setDaemon(true);
    t.start();
  }

  /** The backup's bytes as chunks on the call, waiting while the caller is not ready for more. */
  private static final class Chunks extends OutputStream {
    private final ServerCallStreamObserver<SnapshotChunk> call;
    private final Object ready = new Object();
    private final byte[] buf = new byte[CHUNK_BYTES];
    private int used;
    volatile boolean cancelled;

    Chunks(ServerCallStreamObserver<SnapshotChunk> call) {
      this.call = call;
      call.setOnReadyHandler(this::wake);
      call.setOnCancelHandler(
          () -> {
            cancelled = true;
            wake();
          });
    }

    private void wake() {
      synchronized (ready) {
        ready.notifyAll();
      }
    }

    @Override
    public void write(int b) throws IOException {
      write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
      while (len > 0) {
        int n = Math.min(len, buf.length - used);
        System.arraycopy(b, off, buf, used, n);
        used += n;
        off += n;
        len -= n;
        if (used == buf.length) {
          send();
        }
      }
    }

    @Override
    public void close() throws IOException {
      if (used > 0) {
        send();
      }
    }

    private void send() throws IOException {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(STALL_SECONDS);
      synchronized (ready) {
        while (!cancelled && !call.isReady()) {
          long left = deadline - System.nanoTime();
          if (left <= 0) {
            throw new IOException("the caller read nothing for " + STALL_SECONDS + " s");
          }
          try {
            ready.wait(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
          }
        }
      }
      if (cancelled) {
        throw new IOException("the caller cancelled the backup");
      }
      call.onNext(SnapshotChunk.newBuilder().setData(ByteString.copyFrom(buf, 0, used)).build());
      used = 0;
    }
  }
}
