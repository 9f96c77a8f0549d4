package depot.storage;

import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayDeque;
import java.util.List;

/**
 * A large replica written with O_DIRECT to a temp file, fsynced and renamed into place. Bytes are gathered
 * into aligned buffers and written by a worker thread, one write at a time in file order, while the event
 * loop fills the next buffer. Skipping the page cache spares the copy into it (on a virtual machine the
 * biggest CPU cost of a write) and the writeback storm at fsync; the last block is padded, then the file
 * is cut to its size.
 */
final class DirectFileSink implements ReplicaSink {
  private final Vertx vertx;
  private final BlobStore store;
  private final AlignedBuffers pool;
  private final String temp;
  /** Buffers of this sink not being filled or written (and, rarely, extra ones outside the pool). */
  private final ArrayDeque<ByteBuffer> spare = new ArrayDeque<>();
  /** Full buffers waiting for the disk, in file order. */
  private final ArrayDeque<ByteBuffer> queued = new ArrayDeque<>();
  /** The pool's buffers, returned when the sink ends. */
  private final List<ByteBuffer> owned;
  private FileChannel channel;
  private ByteBuffer filling;
  private long position;
  private long size;
  private boolean writing;
  private boolean aborted;
  private boolean released;
  private Throwable failure;
  private Handler<Throwable> exceptionHandler;
  private Runnable drainHandler;
  /** Set by commit: runs once the queue has reached the disk. */
  private Runnable whenWritten;

  /** {@code buffers} were taken from {@code pool} for this sink alone; they go back when it ends. */
  DirectFileSink(Vertx vertx, BlobStore store, AlignedBuffers pool, List<ByteBuffer> buffers, String blobId) {
    this.vertx = vertx;
    this.store = store;
    this.pool = pool;
    this.owned = buffers;
    this.spare.addAll(buffers);
    this.temp = store.newTempPath(blobId);
  }

  /** How many buffers a replica of {@code size} bytes can use: no more than it can fill (two once it needs two). */
  static int buffersFor(long size, AlignedBuffers pool, int max) {
    return (int) Math.max(1, Math.min(Math.max(2, max), (size + pool.bufferSize() - 1) / pool.bufferSize()));
  }

  @Override
  public Future<Void> open() {
    return vertx.<FileChannel>executeBlocking(() -> FileChannel.open(Path.of(temp), StandardOpenOption.WRITE,
            StandardOpenOption.CREATE_NEW, com.sun.nio.file.ExtendedOpenOption.DIRECT), false)
        .map(ch -> {
          channel = ch;
          if (aborted) {
            closeAndDiscard();
          }
          return (Void) null;
        })
        .onFailure(err -> releaseBuffers()); // never opened: nothing will ever be written with them
  }

  @Override
  public void write(Buffer buf) {
    if (aborted || failure != null) {
      return;
    }
    ByteBuffer bytes = StreamDigest.nio(buf);
    size += bytes.remaining();
    while (bytes.hasRemaining()) {
      if (filling == null) {
        // full() keeps a spare buffer for any piece up to a buffer's size; a bigger one gets a buffer of its own.
        filling = spare.isEmpty() ? ByteBuffer.allocateDirect(pool.bufferSize() + pool.alignment())
            .alignedSlice(pool.alignment()) : spare.pop();
      }
      int take = Math.min(filling.remaining(), bytes.remaining());
      filling.put(bytes.slice(bytes.position(), take));
      bytes.position(bytes.position() + take);
      if (!filling.hasRemaining()) {
        queued.add(filling.flip());
        filling = null;
      }
    }
    writeNext();
  }

  /**
   * Full while no spare buffer is left and a write is on its way to free one: while not full, the next
   * piece (up to a buffer long) always fits. A replica of one buffer never fills it, so it is never full.
   */
  @Override
  public boolean full() {
    return spare.isEmpty() && (writing || !queued.isEmpty());
  }

  @Override
  public void drainHandler(Runnable onDrain) {
    this.drainHandler = onDrain;
  }

  @Override
  public void exceptionHandler(Handler<Throwable> handler) {
    this.exceptionHandler = handler;
  }

  /** Starts the next queued write unless one is running; one at a time keeps the file in order. */
  private void writeNext() {
    if (writing || aborted || failure != null) {
      return;
    }
    if (queued.isEmpty()) {
      if (whenWritten != null) {
        Runnable then = whenWritten;
        whenWritten = null;
        then.run();
      }
      return;
    }
    ByteBuffer next = queued.peek();
    long at = position;
    writing = true;
    vertx.<Integer>executeBlocking(() -> writeFully(channel, next, at), false).onComplete(ar -> {
      writing = false;
      queued.poll();
      if (ar.failed()) {
        fail(ar.cause());
        return;
      }
      position += ar.result();
      if (aborted) {
        closeAndDiscard();
        return;
      }
      spare.push(next.clear());
      writeNext();
      if (drainHandler != null) {
        drainHandler.run(); // the source checks full() itself: a drain while it was not paused is harmless
      }
    });
  }

  private static int writeFully(FileChannel channel, ByteBuffer buffer, long at) throws IOException {
    int total = 0;
    while (buffer.hasRemaining()) {
      total += channel.write(buffer, at + total);
    }
    return total;
  }

  @Override
  public Future<Void> commit(BlobManifest manifest) {
    if (failure != null) {
      return Future.failedFuture(failure);
    }
    if (filling != null && filling.position() > 0) {
      // O_DIRECT writes whole blocks: pad the tail with zeros, the truncate below cuts them off.
      int padded = (int) roundUp(filling.position(), pool.alignment());
      while (filling.position() < padded) {
        filling.put((byte) 0);
      }
      queued.add(filling.flip());
      filling = null;
    }
    io.vertx.core.Promise<Void> written = io.vertx.core.Promise.promise();
    whenWritten = written::tryComplete;
    writeNext();
    long length = size;
    return written.future()
        .compose(v -> failure != null ? Future.failedFuture(failure) : vertx.<Void>executeBlocking(() -> {
          try (FileChannel ch = channel) {
            ch.truncate(length);
            ch.force(true);
          }
          return null;
        }, false))
        .compose(v -> {
          releaseBuffers();
          return store.commit(temp, manifest);
        });
  }

  private static long roundUp(long n, int alignment) {
    return (n + alignment - 1) / alignment * alignment;
  }

  private void fail(Throwable err) {
    if (failure != null) {
      return;
    }
    failure = err;
    if (whenWritten != null) {
      whenWritten.run();
      whenWritten = null;
    }
    if (exceptionHandler != null) {
      exceptionHandler.handle(err);
    }
  }

  @Override
  public void abort() {
    if (aborted) {
      return;
    }
    aborted = true;
    if (channel == null) {
      store.discard(temp); // open() closes what it opens late
    } else if (!writing) {
      closeAndDiscard();
    } // else: the running write closes it when it returns
  }

  private void closeAndDiscard() {
    FileChannel ch = channel;
    channel = null;
    vertx.executeBlocking(() -> {
      ch.close();
      return null;
    }, false).onComplete(v -> {
      releaseBuffers();
      store.discard(temp);
    });
  }

  private void releaseBuffers() {
    if (!released) {
      released = true;
      owned.forEach(pool::release);
    }
  }
}
