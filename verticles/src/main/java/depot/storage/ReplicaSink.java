package depot.storage;

import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;

/** Where the local copy of a replica goes while it streams in: its own file, or a pack. */
interface ReplicaSink {
  Future<Void> open();

  void write(Buffer buf);

  /** True while the sink wants the source paused. */
  boolean full();

  void drainHandler(Runnable onDrain);

  void exceptionHandler(Handler<Throwable> handler);

  /** Makes the replica durable and visible. */
  Future<Void> commit(BlobManifest manifest);

  /** Throws away whatever was written; the replica never becomes visible. */
  void abort();
}
