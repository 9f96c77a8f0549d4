package depot.storage;

import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.file.AsyncFile;
import io.vertx.core.file.OpenOptions;

/**
 * A large replica written to a temp file, fsynced and renamed into place. While it streams, the bytes
 * written so far are flushed every {@link #FLUSH_EVERY} bytes, so the disk works during the transfer
 * instead of absorbing gigabytes of dirty pages in one final fsync.
 */
final class FileSink implements ReplicaSink {
  private static final int WRITE_QUEUE_BYTES = 1024 * 1024;
  private static final long FLUSH_EVERY = Long.getLong("depot.flushEvery", 32L * 1024 * 1024);

  private final Vertx vertx;
  private final BlobStore store;
  private final String temp;
  private AsyncFile file;
  private long written;
  private long flushedMark;
  private boolean flushing;
  private boolean aborted;

  FileSink(Vertx vertx, BlobStore store, String blobId) {
    this.vertx = vertx;
    this.store = store;
    this.temp = store.newTempPath(blobId);
  }

  @Override
  public Future<Void> open() {
    return vertx.fileSystem().open(temp, new OpenOptions().setWrite(true).setCreateNew(true)).map(f -> {
      file = f.setWriteQueueMaxSize(WRITE_QUEUE_BYTES);
      if (aborted) {
        // Aborted while the file was being created: it must not outlive the transfer.
        file.close().onComplete(v -> store.discard(temp));
      }
      return null;
    });
  }

  @Override
  public void write(Buffer buf) {
    file.write(buf);
    written += buf.length();
    if (!flushing && written - flushedMark >= FLUSH_EVERY) {
      flushing = true;
      flushedMark = written;
      file.flush().onComplete(ar -> flushing = false);
    }
  }

  @Override
  public boolean full() {
    return file.writeQueueFull();
  }

  @Override
  public void drainHandler(Runnable onDrain) {
    file.drainHandler(v -> onDrain.run());
  }

  @Override
  public void exceptionHandler(Handler<Throwable> handler) {
    file.exceptionHandler(handler);
  }

  @Override
  public Future<Void> commit(BlobManifest manifest) {
    return file.flush().compose(v -> file.close()).compose(v -> store.commit(temp, manifest));
  }

  @Override
  public void abort() {
    if (aborted) {
      return;
    }
    aborted = true;
    if (file != null) {
      file.close().onComplete(v -> store.discard(temp));
    } else {
      store.discard(temp);
    }
  }
}
