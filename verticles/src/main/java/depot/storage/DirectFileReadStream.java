package depot.storage;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.internal.buffer.BufferInternal;
import io.vertx.core.streams.ReadStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * A byte range of a file as a stream of off-heap buffers, for sending replicas. Vert.x's {@code AsyncFile} reads
 * into the heap: the kernel's copy lands in a temporary direct buffer, is copied into a heap buffer, then into a
 * Vert.x buffer, and Netty copies it back off the heap for the socket. Here the kernel reads straight into one of
 * a few pooled direct buffers, which go to the socket as they are.
 *
 * <p>Reads run on worker threads, one at a time, and run ahead of the reader into free buffers, so the disk keeps
 * reading while the last buffer is on its way out. Each buffer is lent: whoever handles it must give it back with
 * {@link #recycle(Buffer)} once nothing uses its bytes any more (for a buffer written to a socket: when that write
 * has completed). Reading stops while every buffer is lent.
 */
public final class DirectFileReadStream implements ReadStream<Buffer> {
  private static final Logger log = LoggerFactory.getLogger(DirectFileReadStream.class);
  /** Buffers per stream: one being read, one ready, one on its way out. */
  static final int BUFFERS = 3;

  private final Vertx vertx;
  /** The context the stream was opened on: every callback runs there. */
  private final Context context;
  private final FileChannel channel;
  private final int readSize;
  private long position;
  private long unread;
  private final ArrayDeque<ByteBuf> free = new ArrayDeque<>();
  /** Read and not yet handed out, oldest first. */
  private final ArrayDeque<ByteBuf> ready = new ArrayDeque<>();
  /** Handed out and not yet recycled: what was handed out, and the pooled memory under it. */
  private final List<Lent> lent = new ArrayList<>(BUFFERS);
  private Handler<Buffer> handler;
  private Handler<Void> endHandler;
  private Handler<Throwable> exceptionHandler;
  private final Demand demand = new Demand();
  private boolean reading;
  private boolean ended;
  private boolean closed;
  private boolean channelClosing;
  private boolean pumping;
  private boolean pumpAgain;
  private final Promise<Void> channelClosed = Promise.promise();

  private DirectFileReadStream(Vertx vertx, FileChannel channel, long position, long length, int readSize) {
    this.vertx = vertx;
    this.context = vertx.getOrCreateContext();
    this.channel = channel;
    this.position = position;
    this.unread = length;
    this.readSize = readSize;
    int size = (int) Math.max(1, Math.min(readSize, length));
    for (int i = 0; i < BUFFERS; i++) {
      free.add(PooledByteBufAllocator.DEFAULT.directBuffer(size, size));
    }
  }

  /** Opens {@code path} (on a worker) to stream {@code length} bytes from {@code position}, {@code readSize} at a time. */
  public static Future<DirectFileReadStream> open(Vertx vertx, Path path, long position, long length, int readSize) {
    return vertx.executeBlocking(() -> FileChannel.open(path, StandardOpenOption.READ), false)
        .map(ch -> new DirectFileReadStream(vertx, ch, position, length, readSize));
  }

  private record Lent(Buffer handedOut, ByteBuf memory) {}

  /** Gives back a buffer this stream handed out; its bytes may be overwritten from now on. */
  public void recycle(Buffer handedOut) {
    ByteBuf buf = null;
    for (int i = 0; i < lent.size() && buf == null; i++) {
      if (lent.get(i).handedOut() == handedOut) {
        buf = lent.remove(i).memory();
      }
    }
    if (buf == null) {
      throw new IllegalStateException("not a buffer this stream has lent");
    }
    if (closed) {
      buf.release();
      return;
    }
    free.add(buf.clear());
    pump();
  }

  /**
   * Stops reading, closes the file once no read is running, and returns every buffer to the pool (lent ones when
   * they are recycled). Completes when the file is closed.
   */
  public Future<Void> close() {
    if (!closed) {
      closed = true;
      releaseAll(free);
      releaseAll(ready);
      if (!reading) {
        closeChannel();
      }
    }
    return channelClosed.future();
  }

  @Override
  public DirectFileReadStream exceptionHandler(Handler<Throwable> handler) {
    this.exceptionHandler = handler;
    return this;
  }

  @Override
  public DirectFileReadStream handler(Handler<Buffer> handler) {
    this.handler = handler;
    pump();
    return this;
  }

  @Override
  public DirectFileReadStream pause() {
    demand.pause();
    return this;
  }

  @Override
  public DirectFileReadStream resume() {
    return fetch(Long.MAX_VALUE);
  }

  @Override
  public DirectFileReadStream fetch(long amount) {
    if (amount > 0) {
      demand.add(amount);
      pump();
    }
    return this;
  }

  @Override
  public DirectFileReadStream endHandler(Handler<Void> endHandler) {
    this.endHandler = endHandler;
    return this;
  }

  /**
   * Runs {@link #pumpOnce()} until nothing changes. A handler may recycle a buffer, or ask for more, from inside
   * the call that handed it one: that only marks another round, so no handler is ever called again before it has
   * returned.
   */
  private void pump() {
    if (pumping) {
      pumpAgain = true;
      return;
    }
    pumping = true;
    try {
      do {
        pumpAgain = false;
        pumpOnce();
      } while (pumpAgain);
    } finally {
      pumping = false;
    }
  }

  /** Hands out what is ready while there is demand, then starts the next read if a buffer is free. */
  private void pumpOnce() {
    while (!closed && demand.any() && handler != null && !ready.isEmpty()) {
      ByteBuf buf = ready.poll();
      Buffer handedOut = BufferInternal.buffer(buf);
      lent.add(new Lent(handedOut, buf));
      demand.takeOne();
      handler.handle(handedOut);
    }
    if (!closed && !ended && unread == 0 && ready.isEmpty() && !reading) {
      ended = true;
      if (endHandler != null) {
        endHandler.handle(null);
      }
      return;
    }
    if (closed || reading || unread == 0 || free.isEmpty()) {
      return;
    }
    ByteBuf buf = free.poll();
    int length = (int) Math.min(readSize, unread);
    long at = position;
    position += length;
    unread -= length;
    reading = true;
    // A read done before its future is listened to would report at once, from inside the call that asked for it
    // (handler(), recycle()...): its outcome is always taken in a task of its own instead.
    vertx.executeBlocking(() -> readFully(buf, at, length), false).onComplete(ar -> context.runOnContext(v -> {
      reading = false;
      if (closed) {
        buf.release();
        closeChannel();
        return;
      }
      if (ar.failed()) {
        free.add(buf);
        close();
        if (exceptionHandler != null) {
          exceptionHandler.handle(ar.cause());
        } else {
          log.warn("reading {} bytes at {} failed and nobody was listening: {}", length, at, ar.cause().toString());
        }
        return;
      }
      ready.add(buf);
      pump();
    }));
  }

  private ByteBuf readFully(ByteBuf buf, long at, int length) throws IOException {
    ByteBuffer target = buf.nioBuffer(0, length);
    while (target.hasRemaining()) {
      if (channel.read(target, at + target.position()) < 0) {
        throw new EOFException("the file ends at byte " + (at + target.position()) + ", before the "
            + length + " bytes asked from byte " + at);
      }
    }
    return buf.writerIndex(length);
  }

  private void closeChannel() {
    if (channelClosing) {
      return;
    }
    channelClosing = true;
    vertx.executeBlocking(() -> {
      channel.close();
      return null;
    }, false).<Void>mapEmpty().onComplete(channelClosed);
  }

  private static void releaseAll(ArrayDeque<ByteBuf> buffers) {
    ByteBuf buf;
    while ((buf = buffers.poll()) != null) {
      buf.release();
    }
  }
}
